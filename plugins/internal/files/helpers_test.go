package files

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

// writeFile writes a file under dir (rel may be nested), creating parents.
func writeFile(t testing.TB, dir, rel, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return p
}

func symlink(t testing.TB, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func readString(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func inode(t testing.TB, p string) uint64 {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// setupOp is one change engine-setup makes to a shared file; setupApply
// performs them as setup does and records them as the manifest would.
type setupOp struct {
	kind string // "comment" (editConfigContent replacing a value), "append", "insertAfter", "removeLast", "replace"
	line int    // index in the current content, for comment, insertAfter, replace
	text string // the new line, for append, insertAfter, replace
}

// setupApply applies ops to content the way engine-setup does and returns
// the edited content with the edits as the manifest records them
// (configparser strips values).
func setupApply(t testing.TB, path string, content string, ops []setupOp) (string, []records.LineEdit) {
	t.Helper()
	lines := strings.SplitAfter(content, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	body := func(l string) (string, string) {
		if strings.HasSuffix(l, "\n") {
			return l[:len(l)-1], "\n"
		}
		return l, ""
	}
	var edits []records.LineEdit
	for _, op := range ops {
		switch op.kind {
		case "comment":
			// editConfigContent: "{spaces}# {original}" replaces the line,
			// then "{spaces}{param} = {value}" follows it.
			text, term := body(lines[op.line])
			trimmed := strings.TrimLeft(text, " \t")
			spaces := text[:len(text)-len(trimmed)]
			commented := spaces + "# " + trimmed
			lines[op.line] = commented + term
			edits = append(edits, records.LineEdit{Path: path, Change: records.LineReplaced,
				Added: strings.TrimSpace(commented), Removed: strings.TrimSpace(text)})
			if op.text != "" {
				newLine := spaces + op.text
				lines = append(lines[:op.line+1], append([]string{newLine + "\n"}, lines[op.line+1:]...)...)
				edits = append(edits, records.LineEdit{Path: path, Change: records.LineAdded, Added: strings.TrimSpace(newLine)})
			}
		case "replace":
			text, term := body(lines[op.line])
			lines[op.line] = op.text + term
			edits = append(edits, records.LineEdit{Path: path, Change: records.LineReplaced,
				Added: strings.TrimSpace(op.text), Removed: strings.TrimSpace(text)})
		case "append":
			if n := len(lines); n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
				lines[n-1] += "\n"
			}
			lines = append(lines, op.text+"\n")
			edits = append(edits, records.LineEdit{Path: path, Change: records.LineAdded, Added: strings.TrimSpace(op.text)})
		case "insertAfter":
			lines = append(lines[:op.line+1], append([]string{op.text + "\n"}, lines[op.line+1:]...)...)
			edits = append(edits, records.LineEdit{Path: path, Change: records.LineAdded, Added: strings.TrimSpace(op.text)})
		case "removeLast":
			text, _ := body(lines[len(lines)-1])
			lines = lines[:len(lines)-1]
			edits = append(edits, records.LineEdit{Path: path, Change: records.LineRemoved, Removed: strings.TrimSpace(text)})
		default:
			t.Fatalf("unknown op %q", op.kind)
		}
	}
	return strings.Join(lines, ""), edits
}

func sameBytes(t testing.TB, what string, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", what, got, want)
	}
	if !bytes.Equal([]byte(got), []byte(want)) {
		t.FailNow()
	}
}
