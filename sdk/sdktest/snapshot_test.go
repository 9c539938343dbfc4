package sdktest_test

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/engine-cleanup/engine-cleanup/sdk/sdktest"
)

func populate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{"etc/app.conf": "a=1\n", "var/lib/app/data": "data\n"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("app.conf", filepath.Join(dir, "etc/current")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDiffReportsEveryKindOfChange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(dir string) error
		want   []string // prefixes of the lines of the diff
	}{
		{"nothing changed", func(string) error { return nil }, nil},
		{"a touch is not a change", func(dir string) error {
			future := time.Now().Add(time.Hour)
			return os.Chtimes(filepath.Join(dir, "etc/app.conf"), future, future)
		}, nil},
		{"content rewritten at the same size", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "etc/app.conf"), []byte("a=2\n"), 0o644)
		}, []string{"changed etc/app.conf: file -rw-r--r-- 4 bytes"}},
		{"a mode changed", func(dir string) error {
			return os.Chmod(filepath.Join(dir, "var/lib/app/data"), 0o600)
		}, []string{"changed var/lib/app/data: file -rw-r--r--"}},
		{"a symlink retargeted", func(dir string) error {
			p := filepath.Join(dir, "etc/current")
			if err := os.Remove(p); err != nil {
				return err
			}
			return os.Symlink("other.conf", p)
		}, []string{"changed etc/current: symlink"}},
		{"a file added", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "etc/new"), nil, 0o600)
		}, []string{"added etc/new (file -rw-------"}},
		{"a tree removed", func(dir string) error {
			return os.RemoveAll(filepath.Join(dir, "var"))
		}, []string{"removed var (dir", "removed var/lib (dir", "removed var/lib/app (dir", "removed var/lib/app/data (file"}},
		{"a file replaced by a directory", func(dir string) error {
			p := filepath.Join(dir, "etc/app.conf")
			if err := os.Remove(p); err != nil {
				return err
			}
			return os.Mkdir(p, 0o755)
		}, []string{"changed etc/app.conf: file -rw-r--r-- 4 bytes sha256:"}},
		{"the whole tree removed", func(dir string) error {
			return os.RemoveAll(dir)
		}, []string{"removed . (dir", "removed etc (dir", "removed etc/app.conf", "removed etc/current", "removed var (dir",
			"removed var/lib (dir", "removed var/lib/app (dir", "removed var/lib/app/data"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := populate(t)
			before := sdktest.Snapshot(t, dir)
			if err := tc.change(dir); err != nil {
				t.Fatal(err)
			}
			got := sdktest.Diff(before, sdktest.Snapshot(t, dir))
			if len(got) != len(tc.want) {
				t.Fatalf("diff has %d lines, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			for i, prefix := range tc.want {
				if !strings.HasPrefix(got[i], prefix) {
					t.Errorf("line %d is %q, want it to start with %q", i, got[i], prefix)
				}
			}
		})
	}
}

func TestSnapshotDescribesEntries(t *testing.T) {
	dir := populate(t)
	snap := sdktest.Snapshot(t, dir)
	keys := make([]string, 0, len(snap))
	for k := range snap {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{".", "etc", "etc/app.conf", "etc/current", "var", "var/lib", "var/lib/app", "var/lib/app/data"}
	if !slices.Equal(keys, want) {
		t.Errorf("paths %q, want %q", keys, want)
	}
	if got, want := snap["etc/app.conf"], fmt.Sprintf("file -rw-r--r-- 4 bytes sha256:%x", sha256.Sum256([]byte("a=1\n"))); got != want {
		t.Errorf("etc/app.conf is %q, want %q", got, want)
	}
	if got, want := snap["etc/current"], "symlink Lrwxrwxrwx -> app.conf"; got != want {
		t.Errorf("etc/current is %q, want %q", got, want)
	}
	if got := sdktest.Snapshot(t, filepath.Join(dir, "missing")); len(got) != 0 {
		t.Errorf("a missing directory gives %q, want an empty snapshot", got)
	}
}
