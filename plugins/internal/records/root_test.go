package records

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestResolveConfinesRecordedPathsLexically(t *testing.T) {
	tests := []struct {
		name     string
		root     string
		recorded string
		want     string
		wantErr  error
		msg      string
	}{
		{"an absolute path goes under the root", "/r", "/etc/x.conf", "/r/etc/x.conf", nil, ""},
		{"the host root maps to itself", "/", "/etc/x.conf", "/etc/x.conf", nil, ""},
		{"slash is the root itself", "/r", "/", "/r", nil, ""},
		{"a dot-dot that stays inside is resolved", "/r", "/etc/../etc/x", "/r/etc/x", nil, ""},
		{"redundant slashes and dots are cleaned", "/r/", "//etc///./x/.", "/r/etc/x", nil, ""},
		{"a relative root is kept relative", "r", "/x", "r/x", nil, ""},
		{"a dot-dot above the root is refused", "/r", "/../etc/passwd", "", ErrOutsideRoot, "climbs above"},
		{"a dot-dot deeper down that escapes is refused", "/r", "/etc/../../etc/passwd", "", ErrOutsideRoot, "climbs above"},
		{"a relative path is refused", "/r", "etc/passwd", "", nil, "not absolute"},
		{"a parent-relative path is refused", "/r", "../etc/passwd", "", nil, "not absolute"},
		{"an empty path is refused", "/r", "", "", nil, "empty path"},
		{"a NUL byte is refused", "/r", "/etc/x\x00/y", "", ErrNUL, "NUL"},
		{"an empty root is refused", "", "/etc/x", "", nil, "empty root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(tt.root, tt.recorded)
			if tt.msg == "" {
				if err != nil || got != tt.want {
					t.Errorf("Resolve(%q, %q) = %q, %v; want %q", tt.root, tt.recorded, got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Resolve(%q, %q) error = %v, want one containing %q", tt.root, tt.recorded, err, tt.msg)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantErr)
			}
		})
	}
}

func TestRootRelativeGivesPathsForOSRoot(t *testing.T) {
	for recorded, want := range map[string]string{"/": ".", "/etc/x": "etc/x", "/a/../b/": "b"} {
		if got, err := RootRelative(recorded); err != nil || got != want {
			t.Errorf("RootRelative(%q) = %q, %v; want %q", recorded, got, err, want)
		}
	}
}

// symlinkTree builds a root with symlinks of every kind, and a directory
// outside it holding a file that must never be reached.
func symlinkTree(t *testing.T) (root, outside string) {
	t.Helper()
	root, outside = t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(root, "etc/ovirt-engine/engine.conf.d/10-setup-database.conf"), "A=1\n")
	writeFile(t, filepath.Join(outside, "secret"), "outside\n")
	for link, target := range map[string]string{
		"etc/inside":     filepath.Join(root, "etc/ovirt-engine"),
		"etc/rel":        "ovirt-engine",
		"etc/relup":      "../etc/ovirt-engine",
		"etc/chain":      "inside",
		"etc/out":        outside,
		"etc/relout":     "../../" + filepath.Base(outside),
		"etc/loop":       "loop",
		"etc/final-out":  filepath.Join(outside, "secret"),
		"etc/final-in":   "ovirt-engine/engine.conf.d/10-setup-database.conf",
		"etc/dangling":   "/nonexistent/x",
		"etc/into-out":   "out/..",
		"etc/root-alias": root,
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	return root, outside
}

func TestWithinRootFollowsOnlySymlinksThatStayInside(t *testing.T) {
	root, _ := symlinkTree(t)
	conf := filepath.Join(root, "etc/ovirt-engine/engine.conf.d/10-setup-database.conf")
	tests := []struct {
		name     string
		recorded string
		want     string
		msg      string
	}{
		{"a plain path", "/etc/ovirt-engine/engine.conf.d/10-setup-database.conf", conf, ""},
		{"an absolute symlink inside the root", "/etc/inside/engine.conf.d/10-setup-database.conf", conf, ""},
		{"a relative symlink inside the root", "/etc/rel/engine.conf.d/10-setup-database.conf", conf, ""},
		{"a relative symlink that climbs but stays inside", "/etc/relup/engine.conf.d/10-setup-database.conf", conf, ""},
		{"a chain of symlinks inside", "/etc/chain/engine.conf.d/10-setup-database.conf", conf, ""},
		{"a symlink to the root itself", "/etc/root-alias/etc/ovirt-engine/engine.conf.d/10-setup-database.conf", conf, ""},
		{"a last component that points outside is not followed", "/etc/final-out", filepath.Join(root, "etc/final-out"), ""},
		{"a dangling last component is returned as itself", "/etc/dangling", filepath.Join(root, "etc/dangling"), ""},
		{"a missing directory ends the walk", "/etc/missing/a/b", filepath.Join(root, "etc/missing/a/b"), ""},
		{"a file used as a directory ends the walk", "/etc/ovirt-engine/engine.conf.d/10-setup-database.conf/x", conf + "/x", ""},
		{"an absolute symlink elsewhere is refused", "/etc/out/secret", "", "outside the root"},
		{"a relative symlink out of the root is refused", "/etc/relout/secret", "", "climbs above the root"},
		{"a symlink out and back in is refused", "/etc/into-out/" + filepath.Base(root) + "/etc", "", "outside the root"},
		{"a dangling symlink in a directory component is refused", "/etc/dangling/y", "", "outside the root"},
		{"a symlink loop is refused", "/etc/loop/x", "", "more than 40 symlinks"},
		{"a recorded dot-dot above the root is refused", "/../" + filepath.Base(root) + "/etc", "", "climbs above"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := WithinRoot(root, tt.recorded)
			if tt.msg == "" {
				if err != nil || got != tt.want {
					t.Errorf("WithinRoot(%q) = %q, %v; want %q", tt.recorded, got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("WithinRoot(%q) = %q, %v; want an error containing %q", tt.recorded, got, err, tt.msg)
			}
			if strings.Contains(tt.msg, "outside") || strings.Contains(tt.msg, "climbs") {
				if !errors.Is(err, ErrOutsideRoot) {
					t.Errorf("errors.Is(%v, ErrOutsideRoot) = false", err)
				}
			}
		})
	}
}

func TestWithinRootWorksThroughASymlinkedRoot(t *testing.T) {
	root, _ := symlinkTree(t)
	alias := filepath.Join(t.TempDir(), "alias")
	if err := os.Symlink(root, alias); err != nil {
		t.Fatal(err)
	}
	got, err := WithinRoot(alias, "/etc/inside/engine.conf.d/10-setup-database.conf")
	if err != nil || got != filepath.Join(root, "etc/ovirt-engine/engine.conf.d/10-setup-database.conf") {
		t.Errorf("WithinRoot = %q, %v", got, err)
	}
	if _, err := WithinRoot(filepath.Join(root, "nope"), "/etc"); err == nil {
		t.Error("a missing root was accepted")
	}
}

func TestWithinRootOnTheHostRootAcceptsAbsoluteSymlinks(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "target/f"), "x")
	if err := os.Symlink(filepath.Join(dir, "target"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	got, err := WithinRoot("/", filepath.Join(dir, "link/f"))
	if err != nil || got != filepath.Join(dir, "target/f") {
		t.Errorf("WithinRoot = %q, %v", got, err)
	}
}

func TestReadRecordReadsOnlyRegularFilesInsideTheRoot(t *testing.T) {
	root, _ := symlinkTree(t)
	if err := syscall.Mkfifo(filepath.Join(root, "etc/fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(root, "etc/big")
	if f, err := os.Create(big); err != nil {
		t.Fatal(err)
	} else {
		if err := f.Truncate(MaxRecordSize + 1); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	tests := []struct {
		name     string
		recorded string
		want     string
		wantErr  error
		msg      string
	}{
		{"a regular file", "/etc/ovirt-engine/engine.conf.d/10-setup-database.conf", "A=1\n", nil, ""},
		{"a file through a symlink inside", "/etc/inside/engine.conf.d/10-setup-database.conf", "A=1\n", nil, ""},
		{"a last-component symlink inside", "/etc/final-in", "A=1\n", nil, ""},
		{"a last-component symlink outside", "/etc/final-out", "", ErrOutsideRoot, "outside the root"},
		{"a missing file", "/etc/nope.conf", "", fs.ErrNotExist, "no such file"},
		{"a FIFO", "/etc/fifo", "", nil, "not a regular file"},
		{"a directory", "/etc", "", nil, "not a regular file"},
		{"a file over 1 MiB", "/etc/big", "", ErrTooLarge, "larger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan struct{})
			var got []byte
			var err error
			go func() {
				defer close(done)
				got, err = ReadRecord(root, tt.recorded)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("ReadRecord hangs")
			}
			if tt.msg == "" {
				if err != nil || string(got) != tt.want {
					t.Errorf("ReadRecord = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("ReadRecord error = %v, want one containing %q", err, tt.msg)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantErr)
			}
		})
	}
}
