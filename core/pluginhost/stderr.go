package pluginhost

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// tailLines is how many stderr lines a failure report quotes.
const tailLines = 12

// stderrSink receives the raw stderr of a plugin (go-plugin writes each line,
// then its newline), keeps the last lines for failure reports and re-emits
// every line into the core's log under the plugin's name. hclog JSON lines
// keep their level, message and fields; other lines are logged as they are.
type stderrSink struct {
	log  hclog.Logger
	mask func(string) string

	mu      sync.Mutex
	partial bytes.Buffer
	tail    []string
	// crash is the first line of a Go panic or fatal error: the stack
	// trace after it would push it out of the tail.
	crash string
}

func newStderrSink(log hclog.Logger, mask func(string) string) *stderrSink {
	return &stderrSink{log: log, mask: mask}
}

func (s *stderrSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partial.Write(p)
	for {
		line, err := s.partial.ReadString('\n')
		if err != nil {
			// No newline yet: keep the fragment for the next write.
			s.partial.Reset()
			s.partial.WriteString(line)
			break
		}
		s.handle(strings.TrimRight(line, "\r\n"))
	}
	return len(p), nil
}

func (s *stderrSink) handle(line string) {
	if line == "" {
		return
	}
	line = s.mask(line)
	var entry map[string]interface{}
	if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &entry) == nil {
		s.remember(s.emitJSON(entry))
		return
	}
	s.remember(line)
	s.log.Info(line)
}

// emitJSON logs an hclog JSON line and returns its human form for the tail.
func (s *stderrSink) emitJSON(entry map[string]interface{}) string {
	msg, _ := entry["@message"].(string)
	level := hclog.LevelFromString(stringOf(entry["@level"]))
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	var args []interface{}
	keys := make([]string, 0, len(entry))
	for k := range entry {
		if !strings.HasPrefix(k, "@") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	human := msg
	for _, k := range keys {
		args = append(args, k, entry[k])
		human += " " + k + "=" + stringOf(entry[k])
	}
	log := s.log
	if mod := stringOf(entry["@module"]); mod != "" {
		log = log.Named(mod)
	}
	log.Log(level, msg, args...)
	return human
}

func (s *stderrSink) remember(line string) {
	if s.crash == "" && (strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ")) {
		s.crash = line
	}
	s.tail = append(s.tail, line)
	if len(s.tail) > tailLines {
		s.tail = s.tail[len(s.tail)-tailLines:]
	}
}

// Tail returns the last lines the plugin wrote on stderr.
func (s *stderrSink) Tail() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	if s.crash != "" && !slices.Contains(s.tail, s.crash) {
		out = append(out, s.crash, "...")
	}
	out = append(out, s.tail...)
	if s.partial.Len() > 0 {
		out = append(out, s.mask(s.partial.String()))
	}
	return out
}

func stringOf(v interface{}) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	default:
		b, _ := json.Marshal(t)
		return string(b)
	}
}
