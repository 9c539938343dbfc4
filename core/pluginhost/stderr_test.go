package pluginhost

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestStderrSink(t *testing.T) {
	var logged bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Output: &logged, Level: hclog.Trace, Name: "plugin.x"})
	sink := newStderrSink(log, func(s string) string { return strings.ReplaceAll(s, "hunter2", "********") })

	// go-plugin writes a line, then its newline; lines may also be split.
	for _, w := range []string{
		`{"@level":"warn","@message":"disk almost full","@module":"db","free":"3%","password":"hunter2"}`, "\n",
		"plain line with hunter2", "\n",
		"panic: boom", "\n",
	} {
		_, _ = sink.Write([]byte(w))
	}
	for i := 0; i < 20; i++ {
		_, _ = sink.Write([]byte("goroutine frame\n"))
	}
	_, _ = sink.Write([]byte("half a li"))
	_, _ = sink.Write([]byte("ne\n"))

	out := logged.String()
	for _, want := range []string{
		`[WARN]  plugin.x.db: disk almost full: free="3%" password="********"`,
		"[INFO]  plugin.x: plain line with ********",
		"[INFO]  plugin.x: half a line",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("a secret reached the log:\n%s", out)
	}
	tail := sink.Tail()
	if len(tail) != tailLines+2 || tail[0] != "panic: boom" || tail[1] != "..." || tail[len(tail)-1] != "half a line" {
		t.Errorf("tail keeps the panic line first and the last %d lines: %q", tailLines, tail)
	}
}
