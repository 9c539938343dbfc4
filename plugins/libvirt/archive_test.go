package libvirt

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func snapshotXML(name, parent string, created int) string {
	p := ""
	if parent != "" {
		p = "<parent><name>" + parent + "</name></parent>"
	}
	return "<domainsnapshot><name>" + name + "</name>" + p + "<creationTime>" + strings.Repeat("1", created) +
		"</creationTime><domain><name>other</name></domain></domainsnapshot>"
}

func TestTopologicalPutsParentsFirst(t *testing.T) {
	var in []metaXML
	// listed children first, as libvirt may list them without
	// LIST_TOPOLOGICAL
	for _, s := range []struct {
		name, parent string
		created      int
	}{{"leaf", "mid", 3}, {"mid", "root", 2}, {"other", "root", 4}, {"root", "", 1}, {"second-root", "", 5}, {"orphan", "gone", 6}} {
		in = append(in, newMetaXML(s.name, snapshotXML(s.name, s.parent, s.created), false))
	}
	var got []string
	for _, m := range topological(in) {
		got = append(got, m.Name)
	}
	want := []string{"root", "mid", "leaf", "other", "second-root", "orphan"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"snapshots/01-s1.xml":             "snapshots/01-s1.xml",
		"qemu:///system":                  "qemu:///system",
		"qemu:///session?socket=/tmp/s":   "'qemu:///session?socket=/tmp/s'",
		"it's":                            `'it'\''s'`,
		"":                                "''",
		"a b; rm -rf /":                   "'a b; rm -rf /'",
		"qemu+ssh://root@host/system?x=1": "'qemu+ssh://root@host/system?x=1'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestBackupNameIsSafe(t *testing.T) {
	name := backupName("../../etc/passwd\n$(x)", "6a1e0000-0000-4000-8000-000000000001", "20260101000000-ab/cd", 2)
	if strings.ContainsAny(name, "/\n$() ") || !strings.HasPrefix(name, BackupPrefix) || !strings.HasSuffix(name, "-2"+BackupSuffix) {
		t.Errorf("unsafe or misnamed: %q", name)
	}
	if n := safeName("..", 64); n == ".." || strings.HasPrefix(n, ".") || safeName("", 64) != "_" || len(safeName(strings.Repeat("é", 100), 64)) > 64 {
		t.Errorf("safeName keeps dots or overflows")
	}
}

func TestRestoreNote(t *testing.T) {
	c := &capture{UUID: "6a1e0000-0000-4000-8000-000000000001", Name: "vm", Persistent: true,
		URI:         "qemu:///session?socket=/tmp/x y/sock",
		DomainXML:   "<domain/>",
		Snapshots:   []metaXML{{Name: "s1"}, {Name: "s 2", Current: true}, {Name: "s3"}},
		Checkpoints: []metaXML{{Name: "c1"}},
	}
	l := layoutOf(c)
	got := restoreCommands(c, l)
	uri := `'qemu:///session?socket=/tmp/x y/sock'`
	want := []string{
		"virsh -c " + uri + " define domain.xml",
		"virsh -c " + uri + " snapshot-create " + c.UUID + " snapshots/01-s1.xml --redefine",
		"virsh -c " + uri + " snapshot-create " + c.UUID + " snapshots/02-s_2.xml --redefine",
		"virsh -c " + uri + " snapshot-create " + c.UUID + " snapshots/03-s3.xml --redefine",
		"virsh -c " + uri + " snapshot-create " + c.UUID + " snapshots/02-s_2.xml --redefine --current",
		"virsh -c " + uri + " checkpoint-create " + c.UUID + " checkpoints/01-c1.xml --redefine",
	}
	if !slices.Equal(got, want) {
		t.Errorf("commands:\n got %q\nwant %q", got, want)
	}
	note := restoreNote(c, l, "run-1", time.Unix(0, 0).UTC())
	for _, s := range []string{"persistent libvirt domain vm (" + c.UUID + ")", "the current one is snapshots/02-s_2.xml",
		"its directory vm-" + c.UUID, "Not in it: the disk images"} {
		if !strings.Contains(note, s) {
			t.Errorf("the note does not say %q:\n%s", s, note)
		}
	}
	c.Persistent, c.URI = false, ""
	if cmds := restoreCommands(c, l); cmds[0] != "virsh create domain.xml" {
		t.Errorf("a transient domain is restored with %q", cmds[0])
	}
}

func TestWriteBackupNeverReplaces(t *testing.T) {
	root := t.TempDir()
	c := &capture{UUID: "6a1e0000-0000-4000-8000-000000000001", Name: "vm", Persistent: true, DomainXML: "<domain/>"}
	now := time.Now()
	first, err := writeBackup(t.Context(), root, BackupDir, c, "run-1", now)
	if err != nil {
		t.Fatal(err)
	}
	c.DomainXML = "<domain>changed</domain>"
	second, err := writeBackup(t.Context(), root, BackupDir, c, "run-1", now)
	if err != nil {
		t.Fatal(err)
	}
	if first == second || !strings.HasSuffix(second, "-2"+BackupSuffix) {
		t.Errorf("second backup %s replaces or misnames the first %s", second, first)
	}
	if got := readArchiveFiles(t, first)["vm-"+c.UUID+"/domain.xml"]; got != "<domain/>" {
		t.Errorf("the first backup changed: %q", got)
	}
	dir := filepath.Join(root, BackupDir)
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("backup directory holds %d entries, want the 2 archives (no temporary file)", len(entries))
	}
	fi, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("backup directory mode %v, want 0700", fi.Mode().Perm())
	}

	// A cancelled backup leaves nothing.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := writeBackup(ctx, root, BackupDir, c, "run-2", now); err == nil {
		t.Errorf("a cancelled backup succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("a cancelled backup left %d entries", len(entries))
	}
}

// readArchiveFiles returns the regular files of a backup archive by name.
func readArchiveFiles(t testing.TB, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tr := tar.NewReader(gz)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = string(data)
	}
}

// TestWriteBackupSweepsOnlyOtherRuns: a temporary archive a killed run left
// goes; one of this run, which a concurrent backup is writing, stays.
func TestWriteBackupSweepsOnlyOtherRuns(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, BackupDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	stale := "." + backupName("old", "6a1e0000-0000-4000-8000-000000000002", "run-0", 1) + tempSuffix
	inProgress := "." + backupName("other", "6a1e0000-0000-4000-8000-000000000003", "run-1", 1) + tempSuffix
	for _, n := range []string{stale, inProgress} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c := &capture{UUID: "6a1e0000-0000-4000-8000-000000000001", Name: "vm", Persistent: true, DomainXML: "<domain/>"}
	if _, err := writeBackup(t.Context(), root, BackupDir, c, "run-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, stale)); !os.IsNotExist(err) {
		t.Errorf("the temporary archive of a killed run is still there (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, inProgress)); err != nil {
		t.Errorf("a temporary archive of this run was swept: %v", err)
	}
}
