package files

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

const (
	sslConfPath     = "/etc/httpd/conf.d/ssl.conf"
	versionlockPath = "/etc/yum/pluginconf.d/versionlock.list"
)

// sslConf is the part of EL7's stock ssl.conf that engine-setup edits,
// with its indentation inside <VirtualHost> and a trailing blank.
const sslConf = `Listen 443 https
SSLPassPhraseDialog exec:/usr/libexec/httpd-ssl-pass-dialog

<VirtualHost _default_:443>
ErrorLog logs/ssl_error_log
LogLevel warn
SSLEngine on
SSLProtocol all -SSLv2
    SSLCertificateFile /etc/pki/tls/certs/localhost.crt	
    SSLCertificateKeyFile /etc/pki/tls/private/localhost.key
#SSLCACertificateFile /etc/pki/tls/certs/ca-bundle.crt
</VirtualHost>
`

// sslSetup is what engine-setup's ssl plugin does: each value is commented
// out and the new one follows it; the CA line, only commented in the stock
// file, gets its value after the comment.
var sslSetup = []setupOp{
	{kind: "comment", line: 7, text: "SSLProtocol all -SSLv2 -SSLv3"},
	{kind: "comment", line: 9, text: "SSLCertificateFile /etc/pki/ovirt-engine/certs/apache.cer"},
	{kind: "comment", line: 11, text: "SSLCertificateKeyFile /etc/pki/ovirt-engine/keys/apache.key.nopass"},
	{kind: "insertAfter", line: 13, text: "SSLCACertificateFile /etc/pki/ovirt-engine/apache-ca.pem"},
}

const versionlock = "yum-plugin-versionlock-1.1.31-54.el7_8.noarch\n"

// revertCase is a file before setup, what setup did to it (one list per
// setup run, each becoming a manifest), and its mode and owner.
type revertCase struct {
	name     string
	path     string
	original string
	runs     [][]setupOp
	mode     os.FileMode
	uid, gid int
}

func revertCases() []revertCase {
	return []revertCase{
		{name: "ssl.conf with indented and trailing-blank lines", path: sslConfPath, original: sslConf,
			runs: [][]setupOp{sslSetup}, mode: 0o644, uid: 0, gid: 0},
		{name: "versionlock.list over a setup and an upgrade", path: versionlockPath, original: versionlock,
			runs: [][]setupOp{
				{{kind: "append", text: "ovirt-engine-4.2.8-1.el7.noarch"}, {kind: "append", text: "ovirt-engine-backend-4.2.8-1.el7.noarch"}},
				{{kind: "replace", line: 1, text: "ovirt-engine-4.3.0-1.el7.noarch"}, {kind: "replace", line: 2, text: "ovirt-engine-backend-4.3.0-1.el7.noarch"},
					{kind: "append", text: "ovirt-engine-tools-4.3.0-1.el7.noarch"}},
			}, mode: 0o600, uid: 0, gid: 0},
		{name: "a removed last line comes back at the end", path: "/etc/ovirt-engine/shared.conf",
			original: "A=1\nB=2\nOBSOLETE=yes\n",
			runs:     [][]setupOp{{{kind: "removeLast"}, {kind: "append", text: "C=3"}}}, mode: 0o640, uid: 108, gid: 108},
		{name: "a file with Windows line ends keeps them", path: "/etc/ovirt-engine/crlf.conf",
			original: "A=1\r\nB=2\r\n",
			runs:     [][]setupOp{{{kind: "replace", line: 0, text: "# A=1\r"}, {kind: "append", text: "C=3\r"}}}, mode: 0o644},
	}
}

// applyRuns applies each setup run and returns the content after setup
// and the edits in recording order (oldest run first).
func applyRuns(t *testing.T, c revertCase) (string, []records.LineEdit) {
	content, all := c.original, []records.LineEdit(nil)
	for _, run := range c.runs {
		var edits []records.LineEdit
		content, edits = setupApply(t, c.path, content, run)
		all = append(all, edits...)
	}
	return content, all
}

func placeFile(t *testing.T, root string, c revertCase, content string) string {
	t.Helper()
	p := writeFile(t, root, c.path, content, c.mode)
	if os.Geteuid() == 0 {
		if err := os.Chown(p, c.uid, c.gid); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func TestRevertLinesGivesBackTheFileAsItWasBeforeSetup(t *testing.T) {
	for _, c := range revertCases() {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			afterSetup, edits := applyRuns(t, c)
			if afterSetup == c.original {
				t.Fatal("setup changed nothing: the case tests nothing")
			}
			p := placeFile(t, root, c, afterSetup)
			before, err := os.Lstat(p)
			if err != nil {
				t.Fatal(err)
			}
			res, err := RevertLines(root, c.path, edits)
			if err != nil || res.Outcome != Reverted {
				t.Fatalf("RevertLines = %+v, %v; want reverted", res, err)
			}
			sameBytes(t, "reverted file", readString(t, p), c.original)
			after, _ := os.Lstat(p)
			if os.SameFile(before, after) {
				t.Error("the file was rewritten in place; want a new inode renamed over it")
			}
			if after.Mode() != before.Mode() {
				t.Errorf("mode %v; want %v", after.Mode(), before.Mode())
			}
			st := after.Sys().(*syscall.Stat_t)
			if want := before.Sys().(*syscall.Stat_t); st.Uid != want.Uid || st.Gid != want.Gid {
				t.Errorf("owner %d:%d; want %d:%d", st.Uid, st.Gid, want.Uid, want.Gid)
			}
			// The content replaced is kept, otopi-style, with the file's metadata.
			if res.Backup == "" || !strings.HasPrefix(filepath.Base(res.Backup), filepath.Base(c.path)+".") {
				t.Fatalf("Backup = %q; want <file>.<timestamp>", res.Backup)
			}
			sameBytes(t, "kept copy", readString(t, res.Backup), afterSetup)
			bfi, _ := os.Lstat(res.Backup)
			if bfi.Mode() != before.Mode() || !bfi.ModTime().Equal(before.ModTime()) {
				t.Errorf("copy has mode %v mtime %v; want %v %v", bfi.Mode(), bfi.ModTime(), before.Mode(), before.ModTime())
			}
			if b := bfi.Sys().(*syscall.Stat_t); b.Uid != st.Uid || b.Gid != st.Gid {
				t.Errorf("copy owner %d:%d; want %d:%d", b.Uid, b.Gid, st.Uid, st.Gid)
			}
			if len(res.Reverted) != len(edits) || len(res.NotFound) != 0 {
				t.Errorf("reverted %d, not found %d; want %d, 0", len(res.Reverted), len(res.NotFound), len(edits))
			}
			assertNoTemporaryFiles(t, filepath.Dir(p))
		})
	}
}

func assertNoTemporaryFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left in %s", e.Name(), dir)
		}
	}
}

func TestRevertLinesTwiceChangesNothingTheSecondTime(t *testing.T) {
	for _, c := range revertCases() {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			afterSetup, edits := applyRuns(t, c)
			p := placeFile(t, root, c, afterSetup)
			if _, err := RevertLines(root, c.path, edits); err != nil {
				t.Fatal(err)
			}
			ino := inode(t, p)
			entries, _ := os.ReadDir(filepath.Dir(p))
			res, err := RevertLines(root, c.path, edits)
			if err != nil || res.Outcome != AlreadyReverted || res.Backup != "" {
				t.Fatalf("second RevertLines = %+v, %v; want already reverted, no copy", res, err)
			}
			sameBytes(t, "file after the second run", readString(t, p), c.original)
			if inode(t, p) != ino {
				t.Error("the second run rewrote the file")
			}
			if again, _ := os.ReadDir(filepath.Dir(p)); len(again) != len(entries) {
				t.Errorf("the second run added files: %d entries, then %d", len(entries), len(again))
			}
		})
	}
}

// Lines that occur both in the stock file and among setup's additions
// defeat "added lines absent, removed lines present"; the copy the first
// run kept tells a re-run (after a crash before the manifests were
// removed) that the work is done.
func TestRevertLinesTwiceWithDuplicateLinesChangesNothing(t *testing.T) {
	const original = "# SSLProtocol all -SSLv2\nSSLProtocol all -SSLv2\nKeepAlive on\nKeepAlive on\n"
	c := revertCase{path: sslConfPath, original: original, mode: 0o644, runs: [][]setupOp{{
		{kind: "comment", line: 1, text: "SSLProtocol all -SSLv2 -SSLv3"},
		{kind: "append", text: "KeepAlive on"},
	}}}
	root := t.TempDir()
	afterSetup, edits := applyRuns(t, c)
	p := placeFile(t, root, c, afterSetup)
	for run := 1; run <= 3; run++ {
		res, err := RevertLines(root, c.path, edits)
		want := Reverted
		if run > 1 {
			want = AlreadyReverted
		}
		if err != nil || res.Outcome != want {
			t.Fatalf("run %d: RevertLines = %+v, %v; want %q", run, res, err, want)
		}
		sameBytes(t, "file", readString(t, p), original)
	}
}

func TestRevertLinesReportsLinesItCannotFind(t *testing.T) {
	root := t.TempDir()
	c := revertCases()[0]
	afterSetup, edits := applyRuns(t, c)
	// The administrator removed one added line and rewrote a commented one.
	edited := strings.Replace(afterSetup, "SSLProtocol all -SSLv2 -SSLv3\n", "", 1)
	edited = strings.Replace(edited, "# SSLCertificateKeyFile /etc/pki/tls/private/localhost.key", "SSLCertificateKeyFile /etc/pki/mine.key", 1)
	p := placeFile(t, root, c, edited)
	res, err := RevertLines(root, c.path, edits)
	if err != nil || res.Outcome != PartlyReverted {
		t.Fatalf("RevertLines = %+v, %v; want partly reverted", res, err)
	}
	var missing []string
	for _, e := range res.NotFound {
		missing = append(missing, e.Added)
	}
	want := []string{"SSLProtocol all -SSLv2 -SSLv3", "# SSLCertificateKeyFile /etc/pki/tls/private/localhost.key"}
	if strings.Join(missing, "|") != strings.Join(want, "|") {
		t.Errorf("not found %q; want %q", missing, want)
	}
	got := readString(t, p)
	for _, line := range []string{"SSLProtocol all -SSLv2\n", "    SSLCertificateFile /etc/pki/tls/certs/localhost.crt\t\n", "SSLCertificateKeyFile /etc/pki/mine.key\n"} {
		if !strings.Contains(got, line) {
			t.Errorf("reverted file lacks %q:\n%s", line, got)
		}
	}
	if strings.Contains(got, "/etc/pki/ovirt-engine/") {
		t.Errorf("setup's lines that were found are still there:\n%s", got)
	}
	// Once reverted as far as it can be, a re-run changes nothing.
	if res, err := RevertLines(root, c.path, edits); err != nil || res.Outcome == Reverted {
		t.Errorf("second run = %+v, %v; want nothing changed", res, err)
	}
	if readString(t, p) != got {
		t.Error("the second run changed the file")
	}
}

func TestRevertLinesOnAMissingFileCreatesNothing(t *testing.T) {
	root := t.TempDir()
	edits := []records.LineEdit{{Path: sslConfPath, Change: records.LineRemoved, Removed: "SSLProtocol all"}}
	for _, recorded := range []string{sslConfPath, "/etc/httpd/conf.d/ssl.conf"} {
		res, err := RevertLines(root, recorded, edits)
		if err != nil || res.Outcome != FileMissing {
			t.Fatalf("RevertLines = %+v, %v; want file missing", res, err)
		}
	}
	if exists(filepath.Join(root, "etc/httpd")) {
		t.Error("RevertLines created directories")
	}
}

func TestRevertLinesRefusesWhatItMustNotTouch(t *testing.T) {
	tests := []struct {
		name     string
		recorded string
		setup    func(t *testing.T, root, outside string)
		edits    []records.LineEdit
		wantErr  error
		msg      string
	}{
		{name: "the NFS exports file that 3.x setup edited", recorded: "/etc/exports",
			edits:   []records.LineEdit{{Path: "/etc/exports", Change: records.LineAdded, Added: "/var/lib/exports/iso 0.0.0.0/0.0.0.0(rw)"}},
			wantErr: ErrProtected},
		{name: "a file in the exports directory", recorded: "/etc/exports.d/ovirt-engine-iso-domain.exports",
			setup: func(t *testing.T, root, _ string) {
				writeFile(t, root, "etc/exports.d/ovirt-engine-iso-domain.exports", "/var/lib/exports/iso 0.0.0.0/0.0.0.0(rw)\n", 0o644)
			},
			edits:   []records.LineEdit{{Path: "/etc/exports.d/ovirt-engine-iso-domain.exports", Change: records.LineAdded, Added: "/var/lib/exports/iso 0.0.0.0/0.0.0.0(rw)"}},
			wantErr: ErrProtected},
		{name: "a file reached through a symlink out of the root", recorded: "/etc/out/ssl.conf",
			setup: func(t *testing.T, root, outside string) {
				writeFile(t, outside, "ssl.conf", "SSLProtocol all -SSLv2 -SSLv3\n", 0o644)
				symlink(t, outside, filepath.Join(root, "etc/out"))
			},
			edits:   []records.LineEdit{{Path: "/etc/out/ssl.conf", Change: records.LineAdded, Added: "SSLProtocol all -SSLv2 -SSLv3"}},
			wantErr: records.ErrOutsideRoot},
		{name: "a final symlink out of the root", recorded: "/etc/httpd/conf.d/ssl.conf",
			setup: func(t *testing.T, root, outside string) {
				writeFile(t, outside, "ssl.conf", "SSLProtocol all -SSLv2 -SSLv3\n", 0o644)
				os.Remove(filepath.Join(root, "etc/httpd/conf.d/ssl.conf"))
				symlink(t, filepath.Join(outside, "ssl.conf"), filepath.Join(root, "etc/httpd/conf.d/ssl.conf"))
			},
			edits:   []records.LineEdit{{Path: "/etc/httpd/conf.d/ssl.conf", Change: records.LineAdded, Added: "SSLProtocol all -SSLv2 -SSLv3"}},
			wantErr: records.ErrOutsideRoot},
		{name: "edits of another file passed along", recorded: sslConfPath,
			edits: []records.LineEdit{{Path: versionlockPath, Change: records.LineAdded, Added: "x"}},
			msg:   "pass each file's edits separately"},
		{name: "a recorded line holding a line break", recorded: sslConfPath,
			edits: []records.LineEdit{{Path: sslConfPath, Change: records.LineRemoved, Removed: "a\nInclude /tmp/evil.conf"}},
			msg:   "line break or NUL"},
		{name: "a directory where the file should be", recorded: sslConfPath,
			setup: func(t *testing.T, root, _ string) {
				os.Remove(filepath.Join(root, "etc/httpd/conf.d/ssl.conf"))
				os.MkdirAll(filepath.Join(root, "etc/httpd/conf.d/ssl.conf"), 0o755)
			},
			edits:   []records.LineEdit{{Path: sslConfPath, Change: records.LineAdded, Added: "x"}},
			wantErr: ErrNotRegular},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, outside := t.TempDir(), t.TempDir()
			writeFile(t, root, "etc/exports", "/var/lib/exports/iso 0.0.0.0/0.0.0.0(rw)\n", 0o644)
			writeFile(t, root, "etc/httpd/conf.d/ssl.conf", "SSLProtocol all -SSLv2 -SSLv3\n", 0o644)
			if tt.setup != nil {
				tt.setup(t, root, outside)
			}
			snapshot := func() map[string]string {
				m := map[string]string{}
				for _, d := range []string{root, outside} {
					filepath.Walk(d, func(p string, fi os.FileInfo, err error) error {
						if err == nil && fi.Mode().IsRegular() {
							m[p] = readString(t, p)
						}
						return nil
					})
				}
				return m
			}
			before := snapshot()
			res, err := RevertLines(root, tt.recorded, tt.edits)
			if err == nil || res.Outcome != Kept {
				t.Fatalf("RevertLines = %+v, %v; want kept and an error", res, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v is not %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
			after := snapshot()
			if len(after) != len(before) {
				t.Errorf("files appeared or vanished: %d then %d", len(before), len(after))
			}
			for p, c := range before {
				if after[p] != c {
					t.Errorf("%s changed", p)
				}
			}
		})
	}
}

func TestRevertLinesThroughASymlinkRewritesTheTargetAndKeepsTheLink(t *testing.T) {
	root := t.TempDir()
	c := revertCases()[0]
	afterSetup, edits := applyRuns(t, c)
	writeFile(t, root, "etc/httpd/conf.sites/ssl.conf", afterSetup, 0o644)
	symlink(t, "../conf.sites/ssl.conf", filepath.Join(root, "etc/httpd/conf.d/ssl.conf"))
	res, err := RevertLines(root, sslConfPath, edits)
	if err != nil || res.Outcome != Reverted {
		t.Fatalf("RevertLines = %+v, %v", res, err)
	}
	if fi, _ := os.Lstat(filepath.Join(root, "etc/httpd/conf.d/ssl.conf")); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the symlink was replaced by a file")
	}
	sameBytes(t, "target", readString(t, filepath.Join(root, "etc/httpd/conf.sites/ssl.conf")), c.original)
}

func TestRevertLinesRemovesOnlyItsOwnLeftoverTemporaryFiles(t *testing.T) {
	root := t.TempDir()
	c := revertCases()[0]
	afterSetup, edits := applyRuns(t, c)
	p := placeFile(t, root, c, afterSetup)
	dir := filepath.Dir(p)
	ours := writeFile(t, dir, ".engine-cleanup-revert-0123456789abcdef.tmp", "half written", 0o600)
	notOurs := []string{
		writeFile(t, dir, ".engine-cleanup-revert-notours.tmp", "x", 0o600),
		writeFile(t, dir, "ssl.conf.tmp", "x", 0o600),
		writeFile(t, dir, ".engine-pki-x.tar.gz.tmp", "x", 0o600),
	}
	if _, err := RevertLines(root, c.path, edits); err != nil {
		t.Fatal(err)
	}
	if exists(ours) {
		t.Error("the leftover of a killed run is still there")
	}
	for _, n := range notOurs {
		if !exists(n) {
			t.Errorf("%s, not ours, was removed", n)
		}
	}
}

func TestRevertContent(t *testing.T) {
	add := func(s string) records.LineEdit { return records.LineEdit{Change: records.LineAdded, Added: s} }
	rm := func(s string) records.LineEdit { return records.LineEdit{Change: records.LineRemoved, Removed: s} }
	swap := func(a, r string) records.LineEdit {
		return records.LineEdit{Change: records.LineReplaced, Added: a, Removed: r}
	}
	tests := []struct {
		name     string
		in       string
		edits    []records.LineEdit
		want     string
		already  bool
		notFound int
	}{
		{"an added line is removed once, the last occurrence", "x\ny\nx\n", []records.LineEdit{add("x")}, "x\ny\n", false, 0},
		{"two additions of one line remove two", "x\ny\nx\n", []records.LineEdit{add("x"), add("x")}, "y\n", false, 0},
		{"an added line is matched without its blanks", "a\n\t x  \n", []records.LineEdit{add("x")}, "a\n", false, 0},
		{"a removed line is appended, giving the last line its newline", "a", []records.LineEdit{rm("b")}, "a\nb\n", false, 0},
		{"a removed line already present is not duplicated", "b\na\n", []records.LineEdit{rm("b"), add("a")}, "b\n", false, 0},
		{"a swapped line keeps its blanks", "  # p = 1 \n", []records.LineEdit{swap("# p = 1", "p = 1")}, "  p = 1 \n", false, 0},
		{"edits are undone newest first", "v3\n", []records.LineEdit{add("v1"), swap("v2", "v1"), swap("v3", "v2")}, "", false, 0},
		{"an empty file stays empty with nothing to do", "", []records.LineEdit{add("x")}, "", true, 0},
		{"added lines absent and removed present is already reverted", "a\nb\n", []records.LineEdit{add("x"), rm("a"), swap("y", "b")}, "a\nb\n", true, 0},
		{"a line added then replaced by a later run counts by its net effect", "base\n", []records.LineEdit{add("v1"), swap("v2", "v1")}, "base\n", true, 0},
		{"a swapped line that is gone is not found", "a\n", []records.LineEdit{swap("y", "b"), add("a")}, "", false, 1},
		{"a CRLF file gets CRLF on an appended line", "a\r\n", []records.LineEdit{rm("b")}, "a\r\nb\r\n", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := revertContent([]byte(tt.in), tt.edits)
			if string(p.out) != tt.want || p.already != tt.already || len(p.notFound) != tt.notFound {
				t.Errorf("revertContent(%q) = %q already=%v notFound=%d; want %q %v %d",
					tt.in, p.out, p.already, len(p.notFound), tt.want, tt.already, tt.notFound)
			}
			if p.changed != (tt.want != tt.in) {
				t.Errorf("changed = %v", p.changed)
			}
		})
	}
}

func TestGroupLineEditsKeepsEachFilesOrder(t *testing.T) {
	in := []records.LineEdit{
		{Path: "/b", Added: "1"}, {Path: "/a", Added: "2"}, {Path: "/b", Added: "3"},
	}
	got := GroupLineEdits(in)
	if len(got) != 2 || got[0].Path != "/a" || got[1].Path != "/b" || got[1].Edits[0].Added != "1" || got[1].Edits[1].Added != "3" {
		t.Errorf("GroupLineEdits = %+v", got)
	}
}
