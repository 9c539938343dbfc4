package files

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

func TestWalkListsTheTreeInOrderWithoutFollowingLinks(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	writeFile(t, root, "etc/pki/ovirt-engine/ca.pem", "CA", 0o644)
	writeFile(t, root, "etc/pki/ovirt-engine/keys/engine.p12", "P12", 0o600)
	writeFile(t, outside, "secret", "outside", 0o600)
	symlink(t, outside, filepath.Join(root, "etc/pki/ovirt-engine/out"))
	symlink(t, "ca.pem", filepath.Join(root, "etc/pki/ovirt-engine/apache-ca.pem"))
	// The PKI directory reached through a link inside the root.
	symlink(t, "pki", filepath.Join(root, "etc/pki-alias"))
	var got []string
	err := Walk(context.Background(), root, "/etc/pki-alias/ovirt-engine", func(n *Node) error {
		s := n.Path + " " + n.Mode.Type().String()
		if n.Link != "" {
			s += " -> " + n.Link
		}
		if n.Mode.IsRegular() {
			f, err := n.Open()
			if err != nil {
				return err
			}
			b, _ := io.ReadAll(f)
			f.Close()
			s += " " + string(b)
		}
		got = append(got, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/etc/pki-alias/ovirt-engine d---------",
		"/etc/pki-alias/ovirt-engine/apache-ca.pem L--------- -> ca.pem",
		"/etc/pki-alias/ovirt-engine/ca.pem ---------- CA",
		"/etc/pki-alias/ovirt-engine/keys d---------",
		"/etc/pki-alias/ovirt-engine/keys/engine.p12 ---------- P12",
		"/etc/pki-alias/ovirt-engine/out L--------- -> " + outside,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Walk gave\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWalkRefusesAndReports(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	symlink(t, outside, filepath.Join(root, "etc/out"))
	noop := func(*Node) error { return nil }
	if err := Walk(context.Background(), root, "/etc/pki/ovirt-engine", noop); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing tree: %v; want ErrNotExist", err)
	}
	if err := Walk(context.Background(), root, "/etc/out/x", noop); !errors.Is(err, records.ErrOutsideRoot) {
		t.Errorf("tree behind a link out of the root: %v; want ErrOutsideRoot", err)
	}
	if err := Walk(context.Background(), root, "/", noop); err == nil {
		t.Error("walking the whole root was allowed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	writeFile(t, root, "etc/pki/x", "x", 0o600)
	if err := Walk(ctx, root, "/etc/pki", noop); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled walk: %v", err)
	}
}

func TestMkdirAllCreatesWithTheModesAskedAndKeepsExistingOnes(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "var/lib"), 0o711); err != nil {
		t.Fatal(err)
	}
	old := syscall.Umask(0o077) // a strict umask must not change the result
	defer syscall.Umask(old)
	d, err := MkdirAll(root, "/var/lib/ovirt-engine/backups", 0o700)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for p, want := range map[string]os.FileMode{"var/lib": 0o711, "var/lib/ovirt-engine": 0o755, "var/lib/ovirt-engine/backups": 0o700} {
		fi, err := os.Stat(filepath.Join(root, p))
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, %v; want %v", p, fi.Mode().Perm(), err, want)
		}
	}
	if d.Recorded() != "/var/lib/ovirt-engine/backups" || d.Path() != filepath.Join(root, "var/lib/ovirt-engine/backups") {
		t.Errorf("Recorded %q Path %q", d.Recorded(), d.Path())
	}
	f, err := d.Create("x", 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fi, _ := os.Stat(filepath.Join(d.Path(), "x")); fi.Mode().Perm() != 0o600 {
		t.Errorf("created file mode %v", fi.Mode().Perm())
	}
	if _, err := d.Create("x", 0o600); !errors.Is(err, fs.ErrExist) {
		t.Errorf("creating over an existing file: %v", err)
	}
	writeFile(t, d.Path(), "y", "backup", 0o600)
	if err := d.RenameNoReplace("x", "y"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("renaming over an existing backup: %v", err)
	}
	if readString(t, filepath.Join(d.Path(), "y")) != "backup" {
		t.Error("an existing file was replaced")
	}
	for _, bad := range []string{"", ".", "..", "a/b", "a\x00"} {
		if _, err := d.Create(bad, 0o600); err == nil {
			t.Errorf("Create(%q) was allowed", bad)
		}
	}
}

func TestMkdirAllRefusesAPathOutOfTheRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	symlink(t, outside, filepath.Join(root, "var/lib/ovirt-engine"))
	if _, err := MkdirAll(root, "/var/lib/ovirt-engine/backups", 0o700); !errors.Is(err, records.ErrOutsideRoot) {
		t.Fatalf("MkdirAll through a link out of the root: %v", err)
	}
	if exists(filepath.Join(outside, "backups")) {
		t.Error("a directory was created outside the root")
	}
}
