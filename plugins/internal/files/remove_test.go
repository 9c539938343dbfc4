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

// hostTree builds a root with engine-setup's files and symlinks of every
// kind, and a directory outside it that must never be reached.
func hostTree(t *testing.T) (root, outside string) {
	t.Helper()
	root, outside = t.TempDir(), t.TempDir()
	writeFile(t, root, "etc/ovirt-engine/engine.conf.d/10-setup-database.conf", "ENGINE_DB_HOST=localhost\n", 0o640)
	writeFile(t, root, "etc/ovirt-engine/engine.conf.d/10-setup-pki.conf", "ENGINE_PKI_TRUST_STORE=x\n", 0o640)
	writeFile(t, root, "etc/sysctl.d/ovirt-engine.conf", "kernel.shmmax = 35554432\n", 0o644)
	writeFile(t, root, "etc/exports", "/var/lib/exports/iso 0.0.0.0/0.0.0.0(rw)\n", 0o644)
	writeFile(t, root, "var/lib/exports/iso/11111111-2222/dom_md/metadata", "ISO\n", 0o644)
	writeFile(t, root, "var/lib/ovirt-engine/backups/engine-20240101000000.abcdefgh.dump", "dump", 0o600)
	writeFile(t, root, "srv/custom-iso/image.iso", "iso", 0o644)
	writeFile(t, root, "etc/httpd/conf.d/real.conf", "x\n", 0o644)
	writeFile(t, outside, "secret", "outside\n", 0o600)
	writeFile(t, outside, "ovirt-engine/engine.conf.d/10-setup-database.conf", "outside\n", 0o600)
	if err := os.MkdirAll(filepath.Join(root, "etc/ovirt-engine/empty-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "etc/ovirt-engine/fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"etc/link-in-abs":       filepath.Join(root, "etc/ovirt-engine"),
		"etc/link-in-rel":       "ovirt-engine",
		"etc/link-out-abs":      outside,
		"etc/link-out-rel":      "../../" + filepath.Base(outside),
		"etc/loop":              "loop",
		"etc/final-out":         filepath.Join(outside, "secret"),
		"etc/final-in":          "ovirt-engine/engine.conf.d/10-setup-pki.conf",
		"etc/dangling":          "/nonexistent/x",
		"etc/iso-alias":         "../var/lib/exports/iso",
		"etc/custom-iso-alias":  "/srv/custom-iso", // absolute, read under the root's host path only if it lies inside
		"etc/httpd/conf.d/link": "real.conf",
	} {
		symlink(t, target, filepath.Join(root, link))
	}
	return root, outside
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name     string
		recorded string
		opts     []Option
		want     Outcome
		wantErr  error  // sentinel, or nil
		msg      string // part of the error message
		gone     []string
		kept     []string // under root, or "outside:" + name
	}{
		{name: "a regular file that setup created is removed",
			recorded: "/etc/ovirt-engine/engine.conf.d/10-setup-database.conf", want: Removed,
			gone: []string{"etc/ovirt-engine/engine.conf.d/10-setup-database.conf"},
			kept: []string{"etc/ovirt-engine/engine.conf.d/10-setup-pki.conf"}},
		{name: "a symlink is removed as itself and its target inside the root stays",
			recorded: "/etc/final-in", want: Removed,
			gone: []string{"etc/final-in"}, kept: []string{"etc/ovirt-engine/engine.conf.d/10-setup-pki.conf"}},
		{name: "a symlink pointing outside the root is removed and its target stays",
			recorded: "/etc/final-out", want: Removed,
			gone: []string{"etc/final-out"}, kept: []string{"outside:secret"}},
		{name: "a dangling symlink is removed",
			recorded: "/etc/dangling", want: Removed, gone: []string{"etc/dangling"}},
		{name: "a missing file is already gone",
			recorded: "/etc/ovirt-engine/engine.conf.d/99-missing.conf", want: AlreadyGone},
		{name: "a file below a missing directory is already gone",
			recorded: "/etc/missing/dir/file", want: AlreadyGone},
		{name: "a file below a regular file is already gone",
			recorded: "/etc/ovirt-engine/engine.conf.d/10-setup-pki.conf/x", want: AlreadyGone,
			kept: []string{"etc/ovirt-engine/engine.conf.d/10-setup-pki.conf"}},
		{name: "a directory is kept, even an empty one",
			recorded: "/etc/ovirt-engine/empty-dir", want: Kept, wantErr: ErrIsDirectory,
			kept: []string{"etc/ovirt-engine/empty-dir"}},
		{name: "the root itself is kept",
			recorded: "/", want: Kept, wantErr: ErrIsDirectory},
		{name: "a FIFO where setup made a file is kept",
			recorded: "/etc/ovirt-engine/fifo", want: Kept, wantErr: ErrNotRegular, kept: []string{"etc/ovirt-engine/fifo"}},
		{name: "an absolute symlink inside the root on the way is followed",
			recorded: "/etc/link-in-abs/engine.conf.d/10-setup-database.conf", want: Removed,
			gone: []string{"etc/ovirt-engine/engine.conf.d/10-setup-database.conf"}, kept: []string{"etc/link-in-abs"}},
		{name: "a relative symlink inside the root on the way is followed",
			recorded: "/etc/link-in-rel/engine.conf.d/10-setup-database.conf", want: Removed,
			gone: []string{"etc/ovirt-engine/engine.conf.d/10-setup-database.conf"}, kept: []string{"etc/link-in-rel"}},
		{name: "a symlink on the way is refused when the caller wants none",
			recorded: "/etc/link-in-rel/engine.conf.d/10-setup-database.conf", opts: []Option{RefuseSymlinkDirs()},
			want: Kept, wantErr: ErrSymlinkOnPath, kept: []string{"etc/ovirt-engine/engine.conf.d/10-setup-database.conf"}},
		{name: "an absolute symlink out of the root on the way is refused",
			recorded: "/etc/link-out-abs/secret", want: Kept, wantErr: records.ErrOutsideRoot, kept: []string{"outside:secret"}},
		{name: "a relative symlink climbing out of the root on the way is refused",
			recorded: "/etc/link-out-rel/secret", want: Kept, wantErr: records.ErrOutsideRoot, kept: []string{"outside:secret"}},
		{name: "a dangling symlink on the way is refused",
			recorded: "/etc/dangling/x", want: Kept, wantErr: records.ErrOutsideRoot},
		{name: "a symlink loop is refused",
			recorded: "/etc/loop/x", want: Kept, msg: "more than 40 symlinks"},
		{name: "a relative path is refused",
			recorded: "etc/ovirt-engine/engine.conf.d/10-setup-database.conf", want: Kept, msg: "not absolute",
			kept: []string{"etc/ovirt-engine/engine.conf.d/10-setup-database.conf"}},
		{name: "a NUL byte is refused",
			recorded: "/etc/ovirt-engine/engine.conf.d/10-setup-database.conf\x00x", want: Kept, wantErr: records.ErrNUL,
			kept: []string{"etc/ovirt-engine/engine.conf.d/10-setup-database.conf"}},
		{name: "dot-dot above the root is refused",
			recorded: "/../" + "secret", want: Kept, wantErr: records.ErrOutsideRoot},
		{name: "dot-dot that stays inside is resolved lexically",
			recorded: "/etc/nothing/../ovirt-engine/engine.conf.d/10-setup-database.conf", want: Removed,
			gone: []string{"etc/ovirt-engine/engine.conf.d/10-setup-database.conf"}},
		{name: "the sysctl file PostgreSQL needs is kept although setup recorded it",
			recorded: SysctlConf, want: Kept, wantErr: ErrProtected, kept: []string{"etc/sysctl.d/ovirt-engine.conf"}},
		{name: "content of the NFS ISO export is kept",
			recorded: "/var/lib/exports/iso/11111111-2222/dom_md/metadata", want: Kept, wantErr: ErrProtected,
			kept: []string{"var/lib/exports/iso/11111111-2222/dom_md/metadata"}},
		{name: "the NFS exports file is kept",
			recorded: "/etc/exports", want: Kept, wantErr: ErrProtected, kept: []string{"etc/exports"}},
		{name: "a backup is kept",
			recorded: "/var/lib/ovirt-engine/backups/engine-20240101000000.abcdefgh.dump", want: Kept, wantErr: ErrProtected,
			kept: []string{"var/lib/ovirt-engine/backups/engine-20240101000000.abcdefgh.dump"}},
		{name: "the ISO export reached through a symlink is kept",
			recorded: "/etc/iso-alias/11111111-2222/dom_md/metadata", want: Kept, wantErr: ErrProtected,
			kept: []string{"var/lib/exports/iso/11111111-2222/dom_md/metadata"}},
		{name: "an ISO export at a place given by the caller is kept",
			recorded: "/srv/custom-iso/image.iso", opts: []Option{ProtectAlso("/srv/custom-iso")},
			want: Kept, wantErr: ErrProtected, kept: []string{"srv/custom-iso/image.iso"}},
		{name: "an ISO export protection that is not absolute is an error",
			recorded: "/etc/final-in", opts: []Option{ProtectAlso("srv/custom-iso")},
			want: Kept, msg: "not absolute", kept: []string{"etc/final-in"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, outside := hostTree(t)
			got, err := Remove(root, tt.recorded, tt.opts...)
			if got != tt.want {
				t.Errorf("Remove(%q) = %q, %v; want %q", tt.recorded, got, err, tt.want)
			}
			switch {
			case tt.wantErr == nil && tt.msg == "":
				if err != nil {
					t.Errorf("unexpected error: %v", err)
				}
			case err == nil:
				t.Errorf("no error; want %v %q", tt.wantErr, tt.msg)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("error %v is not %v", err, tt.wantErr)
			case !strings.Contains(err.Error(), tt.msg):
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
			for _, g := range tt.gone {
				if exists(filepath.Join(root, g)) {
					t.Errorf("%s still exists", g)
				}
			}
			for _, k := range tt.kept {
				p := filepath.Join(root, k)
				if o, ok := strings.CutPrefix(k, "outside:"); ok {
					p = filepath.Join(outside, o)
				}
				if !exists(p) {
					t.Errorf("%s was removed", k)
				}
			}
			if readString(t, filepath.Join(outside, "secret")) != "outside\n" {
				t.Error("the file outside the root changed")
			}
		})
	}
}

func TestRemoveTwiceFindsTheFileAlreadyGone(t *testing.T) {
	root, _ := hostTree(t)
	const p = "/etc/ovirt-engine/engine.conf.d/10-setup-database.conf"
	for i, want := range []Outcome{Removed, AlreadyGone, AlreadyGone} {
		got, err := Remove(root, p)
		if got != want || err != nil {
			t.Fatalf("run %d: Remove = %q, %v; want %q", i+1, got, err, want)
		}
	}
}

// TestRemoveRefusesADirectorySwappedForASymlinkAfterThePlan plans a
// removal, then swaps a directory on the way for a symlink, as an attacker
// (or a confused administrator) could between validation and cleanup.
func TestRemoveRefusesADirectorySwappedForASymlinkAfterThePlan(t *testing.T) {
	const recorded = "/etc/ovirt-engine/engine.conf.d/10-setup-database.conf"
	tests := []struct {
		name    string
		target  func(root, outside string) string
		opts    func(planned Info) []Option
		want    Outcome
		wantErr error
	}{
		{name: "to an absolute path outside the root",
			target: func(_, outside string) string { return filepath.Join(outside, "ovirt-engine") },
			want:   Kept, wantErr: records.ErrOutsideRoot},
		{name: "to a relative path climbing out of the root",
			target: func(_, outside string) string { return "../../" + filepath.Base(outside) + "/ovirt-engine" },
			want:   Kept, wantErr: records.ErrOutsideRoot},
		{name: "to a copy inside the root, with the plan expected",
			target: func(root, _ string) string { return filepath.Join(root, "srv/copy") },
			opts:   func(p Info) []Option { return []Option{Expect(p)} },
			want:   Kept, wantErr: ErrChanged},
		{name: "to a copy inside the root, with symlinks refused",
			target: func(root, _ string) string { return filepath.Join(root, "srv/copy") },
			opts:   func(Info) []Option { return []Option{RefuseSymlinkDirs()} },
			want:   Kept, wantErr: ErrSymlinkOnPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, outside := hostTree(t)
			writeFile(t, root, "srv/copy/engine.conf.d/10-setup-database.conf", "copy\n", 0o640)
			planned, err := Inspect(root, recorded)
			if err != nil || planned.Kind != Regular {
				t.Fatalf("Inspect = %+v, %v; want a regular file", planned, err)
			}
			// The swap: the real directory moves away, a symlink takes its place.
			if err := os.Rename(filepath.Join(root, "etc/ovirt-engine"), filepath.Join(root, "etc/moved")); err != nil {
				t.Fatal(err)
			}
			symlink(t, tt.target(root, outside), filepath.Join(root, "etc/ovirt-engine"))
			var opts []Option
			if tt.opts != nil {
				opts = tt.opts(planned)
			}
			got, err := Remove(root, recorded, opts...)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Fatalf("Remove after the swap = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
			for _, p := range []string{
				filepath.Join(outside, "ovirt-engine/engine.conf.d/10-setup-database.conf"),
				filepath.Join(root, "srv/copy/engine.conf.d/10-setup-database.conf"),
				filepath.Join(root, "etc/moved/engine.conf.d/10-setup-database.conf"),
			} {
				if !exists(p) {
					t.Errorf("%s was removed", p)
				}
			}
		})
	}
}

func TestRemoveWithTheExpectedPlanRemovesThePlannedFile(t *testing.T) {
	root, _ := hostTree(t)
	const recorded = "/etc/link-in-rel/engine.conf.d/10-setup-database.conf"
	planned, err := Inspect(root, recorded)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Remove(root, recorded, Expect(planned)); got != Removed || err != nil {
		t.Fatalf("Remove = %q, %v; want removed", got, err)
	}
	if got, err := Remove(root, recorded, Expect(planned)); got != AlreadyGone || err != nil {
		t.Fatalf("second Remove = %q, %v; want already gone", got, err)
	}
}

func TestRemoveWithAPlanRefusesAFileReplacedSinceThePlan(t *testing.T) {
	root, _ := hostTree(t)
	const recorded = "/etc/ovirt-engine/engine.conf.d/10-setup-database.conf"
	planned, err := Inspect(root, recorded)
	if err != nil {
		t.Fatal(err)
	}
	// As editors and rpm do: a new file renamed over the old one.
	p := filepath.Join(root, recorded)
	writeFile(t, root, recorded+".new", "someone else's\n", 0o600)
	if err := os.Rename(p+".new", p); err != nil {
		t.Fatal(err)
	}
	if got, err := Remove(root, recorded, Expect(planned)); got != Kept || !errors.Is(err, ErrChanged) {
		t.Fatalf("Remove = %q, %v; want kept, ErrChanged", got, err)
	}
	if !exists(p) {
		t.Error("the replacement was removed")
	}
}

func TestInspectSaysWhatAPathLeadsToAndChangesNothing(t *testing.T) {
	root, _ := hostTree(t)
	writeFile(t, root, ".hidden/.truststore", "x", 0o600)
	tests := []struct {
		recorded  string
		kind      Kind
		resolved  string
		protected bool
	}{
		{"/etc/ovirt-engine/engine.conf.d/10-setup-database.conf", Regular, "/etc/ovirt-engine/engine.conf.d/10-setup-database.conf", false},
		{"/etc/final-out", Symlink, "/etc/final-out", false},
		{"/etc/ovirt-engine/empty-dir", Directory, "/etc/ovirt-engine/empty-dir", false},
		{"/etc/ovirt-engine/fifo", Special, "/etc/ovirt-engine/fifo", false},
		{"/etc/nothing", Missing, "/etc/nothing", false},
		{"/etc/link-in-rel/engine.conf.d", Directory, "/etc/ovirt-engine/engine.conf.d", false},
		{"/etc/iso-alias/11111111-2222", Directory, "/var/lib/exports/iso/11111111-2222", true},
		{"/etc/sysctl.d/ovirt-engine.conf", Regular, "/etc/sysctl.d/ovirt-engine.conf", true},
		{"/", Directory, "/", false},
		{"/.hidden/.truststore", Regular, "/.hidden/.truststore", false},
		{"/.hidden/../var/lib/exports/iso", Directory, "/var/lib/exports/iso", true},
	}
	for _, tt := range tests {
		t.Run(tt.recorded, func(t *testing.T) {
			info, err := Inspect(root, tt.recorded)
			if err != nil {
				t.Fatal(err)
			}
			if info.Kind != tt.kind || info.Resolved != tt.resolved || (info.Protected != "") != tt.protected {
				t.Errorf("Inspect = kind %v resolved %q protected %q; want %v %q %v", info.Kind, info.Resolved, info.Protected, tt.kind, tt.resolved, tt.protected)
			}
			if info.Path != filepath.Join(root, tt.resolved) {
				t.Errorf("Path = %q; want %q", info.Path, filepath.Join(root, tt.resolved))
			}
		})
	}
	if _, err := Inspect(root, "/etc/link-out-abs/secret"); !errors.Is(err, records.ErrOutsideRoot) {
		t.Errorf("Inspect through a link out of the root: %v; want ErrOutsideRoot", err)
	}
}

func TestRemoveWorksThroughASymlinkedRoot(t *testing.T) {
	real, _ := hostTree(t)
	alias := filepath.Join(t.TempDir(), "root-alias")
	symlink(t, real, alias)
	if got, err := Remove(alias, "/etc/link-in-abs/engine.conf.d/10-setup-database.conf"); got != Removed || err != nil {
		t.Fatalf("Remove = %q, %v", got, err)
	}
	if exists(filepath.Join(real, "etc/ovirt-engine/engine.conf.d/10-setup-database.conf")) {
		t.Error("the file is still there")
	}
}
