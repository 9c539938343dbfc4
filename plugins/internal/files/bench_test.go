package files

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

func BenchmarkRemove(b *testing.B) {
	root := b.TempDir()
	for b.Loop() {
		b.StopTimer()
		writeFile(b, root, "etc/ovirt-engine/engine.conf.d/10-setup-database.conf", "x", 0o640)
		b.StartTimer()
		if out, err := Remove(root, "/etc/ovirt-engine/engine.conf.d/10-setup-database.conf"); out != Removed || err != nil {
			b.Fatal(out, err)
		}
	}
}

func BenchmarkInspect(b *testing.B) {
	root := b.TempDir()
	writeFile(b, root, "etc/pki/ovirt-engine/keys/engine.p12", "x", 0o600)
	for b.Loop() {
		if _, err := Inspect(root, "/etc/pki/ovirt-engine/keys/engine.p12"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChecksumSHA256Of16MiB(b *testing.B) {
	root := b.TempDir()
	data := make([]byte, 16<<20)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(root, "big"), data, 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Checksum(root, "/big", records.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRevertLinesSSLConf(b *testing.B) {
	root := b.TempDir()
	c := revertCases()[0]
	var afterSetup string
	var edits []records.LineEdit
	afterSetup, edits = setupApplyB(b, c)
	for b.Loop() {
		b.StopTimer()
		p := writeFile(b, root, c.path, afterSetup, c.mode)
		b.StartTimer()
		if res, err := RevertLines(root, c.path, edits); err != nil || res.Outcome != Reverted {
			b.Fatal(res, err)
		}
		b.StopTimer()
		matches, _ := filepath.Glob(p + ".*")
		for _, m := range matches {
			os.Remove(m)
		}
		b.StartTimer()
	}
}

func setupApplyB(b *testing.B, c revertCase) (string, []records.LineEdit) {
	content, all := c.original, []records.LineEdit(nil)
	for _, run := range c.runs {
		var edits []records.LineEdit
		content, edits = setupApply(b, c.path, content, run)
		all = append(all, edits...)
	}
	return content, all
}

// A hostile manifest: many edits against a large file must not take
// quadratic time.
func BenchmarkRevertContent200kLines20kEdits(b *testing.B) {
	var sb strings.Builder
	for i := range 200000 {
		sb.WriteString("line " + strconv.Itoa(i) + "\n")
	}
	data := []byte(sb.String())
	var edits []records.LineEdit
	for i := range 20000 {
		edits = append(edits, records.LineEdit{Change: records.LineAdded, Added: "line " + strconv.Itoa(i*7)})
	}
	for b.Loop() {
		revertContent(data, edits)
	}
}
