package pki

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

// archived is what an archive of the fixture must hold: every entry of
// the PKI tree and the configuration, named relative to /.
func archived(t *testing.T, root string, sources []string) map[string]entry {
	t.Helper()
	want := map[string]entry{}
	for _, s := range sources {
		p := filepath.Join(root, s)
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		if !fi.IsDir() {
			want[strings.TrimPrefix(s, "/")] = snapshot(t, filepath.Dir(p))[fi.Name()]
			continue
		}
		for rel, e := range snapshot(t, p) {
			name := strings.TrimPrefix(s, "/")
			if rel != "." {
				name += "/" + rel
			}
			want[name] = e
		}
	}
	return want
}

func compareTrees(t *testing.T, what string, got, want map[string]entry, checkOwners bool) {
	t.Helper()
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: %s is missing", what, name)
			continue
		}
		if g.kind != w.kind || g.perm != w.perm || g.content != w.content {
			t.Errorf("%s: %s is %s %v (%d bytes); want %s %v (%d bytes)", what, name, g.kind, g.perm, len(g.content), w.kind, w.perm, len(w.content))
		}
		if !g.mtime.Equal(w.mtime) {
			t.Errorf("%s: %s has mtime %v; want %v", what, name, g.mtime, w.mtime)
		}
		if checkOwners && (g.uid != w.uid || g.gid != w.gid) {
			t.Errorf("%s: %s is owned by %d:%d; want %d:%d", what, name, g.uid, g.gid, w.uid, w.gid)
		}
	}
}

func TestArchiveExtractsWithTarToTheSameTree(t *testing.T) {
	root, outside := newHost(t)
	tracked := loadTracked(t, root)
	sources := Sources(tracked)
	res, err := Archive(context.Background(), root, sources, records.EngineBackupDir, "")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^engine-pki-\d{14}[a-z0-9]{8}\.tar\.gz$`).MatchString(filepath.Base(res.Path)) {
		t.Errorf("archive named %s; want engine-pki-<YYYYmmddHHMMSS><8 random>.tar.gz", filepath.Base(res.Path))
	}
	if res.Recorded != filepath.Join(records.EngineBackupDir, filepath.Base(res.Path)) || res.Path != filepath.Join(root, res.Recorded) {
		t.Errorf("Path %s, Recorded %s", res.Path, res.Recorded)
	}
	fi, err := os.Stat(res.Path)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != res.Bytes {
		t.Fatalf("archive %v, %v; want mode 0600 and %d bytes", fi.Mode(), err, res.Bytes)
	}
	if di, _ := os.Stat(filepath.Dir(res.Path)); di.Mode().Perm() != 0o700 {
		t.Errorf("backup directory created with mode %v; want 0700", di.Mode().Perm())
	}
	if entries, _ := os.ReadDir(filepath.Dir(res.Path)); len(entries) != 1 {
		t.Errorf("the backup directory holds %d entries; want the archive alone (no temporary file)", len(entries))
	}

	want := archived(t, root, sources)
	if res.Files+res.Dirs != len(want) || res.Dirs != 5 {
		t.Errorf("Result counts %d files and %d directories; want %d entries, 5 directories", res.Files, res.Dirs, len(want))
	}

	// GNU tar, as an administrator would restore it.
	dest := t.TempDir()
	if out, err := exec.Command("tar", "-xzf", res.Path, "-C", dest).CombinedOutput(); err != nil {
		t.Fatalf("tar -xzf: %v\n%s", err, out)
	}
	got := snapshot(t, dest)
	delete(got, ".")
	compareTrees(t, "tar -xzf", got, want, os.Geteuid() == 0)
	for name, e := range got {
		if _, ok := want[name]; !ok && e.kind != "dir" {
			t.Errorf("tar -xzf: %s was not in the archived tree", name)
		}
	}
	// The restored PKI works: the keystore opens with its password and the
	// engine's certificate verifies against the CA.
	pki := filepath.Join(dest, records.PKIDir)
	for _, args := range [][]string{
		{"pkcs12", "-in", filepath.Join(pki, "keys/engine.p12"), "-passin", "pass:" + storePass, "-nokeys", "-out", os.DevNull},
		{"verify", "-CAfile", filepath.Join(pki, "ca.pem"), filepath.Join(pki, "certs/engine.cer")},
	} {
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Errorf("openssl %s on the restored tree: %v\n%s", args[0], err, out)
		}
	}
	// The link out of the root is in the archive as a link, not followed.
	if got["etc/pki/ovirt-engine/certs/evil.cer"].content != filepath.Join(outside, "secret") {
		t.Errorf("evil.cer restored as %+v; want the symlink", got["etc/pki/ovirt-engine/certs/evil.cer"])
	}
}

func TestArchiveIsReadableWithArchiveTar(t *testing.T) {
	root, _ := newHost(t)
	sources := Sources(loadTracked(t, root))
	res, err := Archive(context.Background(), root, sources, records.EngineBackupDir, "engine-pki-test.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	want := archived(t, root, sources)
	f, err := os.Open(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	got := map[string]entry{}
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(h.Name, "/") || strings.Contains(h.Name, "..") {
			t.Errorf("entry %q is not relative to /", h.Name)
		}
		names = append(names, h.Name)
		e := entry{perm: os.FileMode(h.Mode).Perm(), uid: uint32(h.Uid), gid: uint32(h.Gid), mtime: h.ModTime}
		switch h.Typeflag {
		case tar.TypeDir:
			e.kind = "dir"
		case tar.TypeSymlink:
			e.kind, e.content, e.perm, e.mtime = "symlink", h.Linkname, 0, time.Time{}
		case tar.TypeReg:
			b, _ := io.ReadAll(tr)
			e.kind, e.content = "file", string(b)
		}
		if h.Uid == ovirtUID && h.Uname != "ovirt" && os.Geteuid() == 0 {
			t.Errorf("%s: owner %d named %q; want the root's passwd name ovirt", h.Name, h.Uid, h.Uname)
		}
		got[strings.TrimSuffix(h.Name, "/")] = e
	}
	if len(got) != len(want) {
		t.Errorf("%d entries; want %d", len(got), len(want))
	}
	// archive/tar keeps nanoseconds: the times are exactly the files'.
	compareTrees(t, "archive/tar", got, want, true)
	// The tree first, in order, each directory before what it holds; then
	// the other sources in the order given.
	tree := slices.IndexFunc(names, func(n string) bool { return !strings.HasPrefix(n, "etc/pki/ovirt-engine/") })
	if tree < 0 || names[0] != "etc/pki/ovirt-engine/" || !slices.IsSorted(names[:tree]) {
		t.Errorf("entries are not the tree in order, directory first: %v", names)
	}
	if rest := names[tree:]; !slices.Equal(rest, []string{"etc/ovirt-engine/engine.conf.d/10-setup-pki.conf", "etc/pki/ovirt-vmconsole/proxy-ssh_host_rsa"}) {
		t.Errorf("after the tree come %v; want the configuration and the tracked file outside the tree", rest)
	}
}

// countdown is a context whose Err turns to Canceled after n calls, to cut
// an archive at a chosen point.
type countdown struct {
	context.Context
	n atomic.Int64
}

func (c *countdown) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestArchiveCancelledLeavesNoFileUnderTheFinalName cuts an archive at
// every point where it looks at its context, from before the first entry
// to just before the rename.
func TestArchiveCancelledLeavesNoFileUnderTheFinalName(t *testing.T) {
	root, _ := newHost(t)
	sources := Sources(loadTracked(t, root))
	dir := filepath.Join(root, records.EngineBackupDir)
	run := func(n int64) (int64, error) {
		ctx := &countdown{Context: context.Background()}
		ctx.n.Store(n)
		_, err := Archive(ctx, root, sources, records.EngineBackupDir, "engine-pki-cut.tar.gz")
		return n - ctx.n.Load(), err
	}
	checks, err := run(1 << 40)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "engine-pki-cut.tar.gz"))
	if checks < 20 {
		t.Fatalf("only %d context checks in a whole archive", checks)
	}
	for n := int64(0); n < checks; n++ {
		_, err := run(n)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cut after %d of %d checks: %v; want context.Canceled", n, checks, err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("cut after %d of %d checks left %v", n, checks, entries)
		}
	}
	if _, err := run(checks); err != nil {
		t.Fatalf("with every check passing: %v", err)
	}
}

func TestArchiveRemovesOnlyItsOwnLeftoverTemporaryFiles(t *testing.T) {
	root, _ := newHost(t)
	dir := filepath.Join(root, records.EngineBackupDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	files := map[string]bool{ // name: ours
		".engine-pki-20200101000000abcdefgh.tar.gz.tmp": true,
		".engine-20200101000000.abcdefgh.dump.tmp":      false, // a database dump's
		"engine-pki-20190101000000abcdefgh.tar.gz":      false, // a finished backup
		".engine-pki-notes.txt":                         false,
	}
	for n := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Archive(context.Background(), root, Sources(nil), records.EngineBackupDir, "")
	if err != nil {
		t.Fatal(err)
	}
	for n, ours := range files {
		if _, err := os.Lstat(filepath.Join(dir, n)); (err == nil) == ours {
			t.Errorf("%s: exists %v; ours %v", n, err == nil, ours)
		}
	}
	if len(res.RemovedLeftovers) != 1 || res.RemovedLeftovers[0] != ".engine-pki-20200101000000abcdefgh.tar.gz.tmp" {
		t.Errorf("RemovedLeftovers = %v", res.RemovedLeftovers)
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o750 {
		t.Errorf("an existing backup directory's mode changed to %v", di.Mode().Perm())
	}
}

func TestArchiveRefuses(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, root, outside string)
		sources []string
		dest    string
		file    string
		msg     string
		is      error
	}{
		{name: "to replace an existing backup", file: "engine-pki-x.tar.gz",
			prepare: func(t *testing.T, root, _ string) {
				os.MkdirAll(filepath.Join(root, records.EngineBackupDir), 0o700)
				os.WriteFile(filepath.Join(root, records.EngineBackupDir, "engine-pki-x.tar.gz"), []byte("older backup"), 0o600)
			},
			msg: "never replaces a backup"},
		{name: "a backup directory inside the archived tree", dest: records.PKIDir + "/backups", msg: "lies in"},
		{name: "a backup directory that a symlink puts inside the archived tree",
			prepare: func(t *testing.T, root, _ string) {
				os.MkdirAll(filepath.Join(root, "var/lib"), 0o755)
				os.Symlink("../../etc/pki/ovirt-engine/requests", filepath.Join(root, "var/lib/ovirt-engine"))
			},
			msg: "lies in"},
		{name: "a backup directory through a symlink out of the root",
			prepare: func(t *testing.T, root, outside string) {
				os.MkdirAll(filepath.Join(root, "var/lib"), 0o755)
				os.Symlink(outside, filepath.Join(root, "var/lib/ovirt-engine"))
			},
			is: records.ErrOutsideRoot},
		{name: "a name that is a path", file: "../x.tar.gz", msg: "plain file name"},
		{name: "when nothing exists", sources: []string{"/etc/pki/nothing"}, is: fs.ErrNotExist},
		{name: "a relative source", sources: []string{"etc/pki/ovirt-engine"}, msg: "not absolute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, outside := newHost(t)
			if tt.prepare != nil {
				tt.prepare(t, root, outside)
			}
			sources, dest := tt.sources, tt.dest
			if sources == nil {
				sources = Sources(nil)
			}
			if dest == "" {
				dest = records.EngineBackupDir
			}
			before := snapshot(t, filepath.Dir(root))
			_, err := Archive(context.Background(), root, sources, dest, tt.file)
			if err == nil || !strings.Contains(err.Error(), tt.msg) || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Fatalf("Archive: %v; want an error saying %q (%v)", err, tt.msg, tt.is)
			}
			after := snapshot(t, filepath.Dir(root))
			for name, e := range after {
				if b, ok := before[name]; !ok || b.content != e.content {
					t.Errorf("%s (%s) appeared or changed", name, e.kind)
				}
			}
		})
	}
}

func TestArchiveOfALegacyTreeNotesTheMissingConfiguration(t *testing.T) {
	root, _ := newHost(t)
	os.Remove(filepath.Join(root, records.PKIConf))
	res, err := Archive(context.Background(), root, Sources(LegacyTracked()), records.EngineBackupDir, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Missing) != 1 || res.Missing[0] != records.PKIConf {
		t.Errorf("Missing = %v; want the PKI configuration", res.Missing)
	}
}

func TestBackupNamesDiffer(t *testing.T) {
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	a, b := BackupName(now), BackupName(now)
	if a == b || !strings.HasPrefix(a, "engine-pki-20240102030405") || !strings.HasSuffix(a, ".tar.gz") || len(a) != len("engine-pki-20240102030405abcdefgh.tar.gz") {
		t.Errorf("BackupName = %q, %q", a, b)
	}
}
