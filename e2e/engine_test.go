package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"libvirt.org/go/libvirt"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/libvirtd"
	"github.com/engine-cleanup/engine-cleanup/internal/testenv/ovirthost"
	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest"
	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest/schema"
	"github.com/engine-cleanup/engine-cleanup/internal/testenv/systemdtest"
)

// engineUnits are the engine's services as the tests run them.
var engineUnits = []string{"ovirt-engine", "ovirt-engine-notifier", "ovirt-websocket-proxy"}

// site is a sandboxed engine host: records under a root, a real database,
// real systemd units.
type site struct {
	t     testing.TB
	units []string
	// args are given to every run (the libvirt URI).
	args        []string
	libvirt     *libvirtd.Daemon
	libvirtConn *libvirt.Connect
	cluster     *pgtest.Cluster
	host        *ovirthost.Host
	systemd     *systemdtest.Manager
	env         []string
}

type siteOptions struct {
	era    ovirthost.Era
	tcp    bool // a NOCREATEDB role logging in with a password over TCP
	size   schema.Options
	noUnit bool
	// dwh and reports add those components, with their own databases.
	dwh, reports bool
	// domains adds a private libvirtd with the installation's domains.
	domains bool
}

func newSite(t *testing.T, so siteOptions) *site { return newSiteTB(t, so) }

func newSiteTB(t testing.TB, so siteOptions) *site {
	t.Helper()
	var popts []pgtest.Option
	if so.tcp {
		popts = append(popts, pgtest.WithTCP())
	}
	c := pgtest.Start(t, popts...)
	opts := ovirthost.Options{Era: so.era}
	if so.dwh {
		opts.DWH = &ovirthost.DB{}
	}
	if so.reports {
		opts.Reports = &ovirthost.DB{}
	}
	opts.Engine, opts.DWH, opts.Reports = ovirthost.NewDatabases(t, c, opts)
	for _, d := range []*ovirthost.DB{opts.Engine, opts.DWH, opts.Reports} {
		if d != nil {
			ovirthost.PopulateDatabase(t, c, *d, so.size)
		}
	}
	h := ovirthost.Build(t, filepath.Join(t.TempDir(), "root"), opts)
	s := &site{t: t, cluster: c, host: h}
	s.env = append(os.Environ(), "NO_COLOR=1")
	if !so.noUnit {
		m := systemdtest.Start(t)
		s.units = slices.Clone(engineUnits)
		if so.dwh {
			s.units = append(s.units, "ovirt-engine-dwhd")
		}
		if so.reports {
			s.units = append(s.units, "ovirt-engine-reportsd")
		}
		for _, u := range s.units {
			m.InstallUnit(t, u+".service", systemdtest.SimpleServiceUnit("/bin/sleep infinity"))
			m.Start(t, u+".service")
			m.EnableRuntime(t, u+".service")
		}
		s.systemd = m
		s.env = append(s.env, "DBUS_SYSTEM_BUS_ADDRESS="+m.BusAddress())
	} else {
		s.env = append(s.env, "DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent")
	}
	if so.domains {
		s.addDomains(t)
	}
	return s
}

type result struct {
	stdout, stderr string
	code           int
}

func (s *site) run(args ...string) result {
	s.t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "engine-cleanup"), append(append([]string{"--root", s.host.Root}, s.args...), args...)...)
	cmd.Env = s.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatalf("running engine-cleanup: %v", err)
	}
	r := result{out.String(), errb.String(), code}
	s.t.Logf("engine-cleanup %s -> %d\n%s%s", strings.Join(args, " "), code, r.stdout, r.stderr)
	return r
}

func (s *site) objects() []string {
	return s.cluster.ObjectsOwnedBy(s.t, s.host.Opts.Engine.Database, s.host.Opts.Engine.User)
}

func (s *site) unitStates() map[string]string {
	out := map[string]string{}
	if s.systemd == nil {
		return out
	}
	for _, u := range s.units {
		out[u] = s.systemd.ActiveState(s.t, u+".service")
	}
	return out
}

// tree is the host's tree without logs and answers, which every run writes.
func (s *site) tree() map[string]string {
	all := ovirthost.TreeChecksum(s.t, s.host.Root)
	for k := range all {
		if strings.Contains(k, "var/log/ovirt-engine/setup") || strings.Contains(k, "var/lib/ovirt-engine/setup/answers") {
			delete(all, k)
		}
	}
	return all
}

func mustExist(t *testing.T, h *ovirthost.Host, paths []string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Lstat(h.Path(p)); err != nil {
			t.Errorf("%s must survive the cleanup, but: %v", p, err)
		}
	}
}

func mustBeGone(t *testing.T, h *ovirthost.Host, paths []string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Lstat(h.Path(p)); err == nil {
			t.Errorf("%s must be removed by the cleanup, but it is still there", p)
		}
	}
}

func backups(t *testing.T, root, pattern string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(root, "var/lib/ovirt-engine/backups", pattern))
	return m
}

func TestEngineCleanupOfAnOtopiHostWithARemoteDatabase(t *testing.T) {
	s := newSite(t, siteOptions{era: ovirthost.EraOtopi, tcp: true, size: schema.Full()})
	h := s.host
	db := h.Opts.Engine
	rowsBefore := s.cluster.RowCounts(t, db.Database)
	functionsBefore := pgtest.CountKinds(s.objects())["function"]
	oldDumps := backups(t, h.Root, "engine-*.dump")

	r := s.run("-u")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0", r.code)
	}
	for _, want := range []string{"Finished cleanup, it is now safe to rerun engine-setup.",
		"A backup of the Engine database is available at", "A backup of PKI configuration and keys is available at"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}

	t.Run("nothing owned by the role remains, the database and the role do", func(t *testing.T) {
		if left := s.objects(); len(left) > 0 {
			t.Errorf("%d objects left, e.g. %v", len(left), left[:min(5, len(left))])
		}
		if !s.cluster.RoleExists(t, db.User) {
			t.Error("the role was dropped")
		}
		if !slices.Contains(s.cluster.DatabasesOwnedBy(t, db.User), db.Database) {
			t.Error("the database was dropped")
		}
	})
	t.Run("the dump restores with the same rows and functions", func(t *testing.T) {
		dumps := backups(t, h.Root, "engine-*.dump")
		var fresh []string
		for _, d := range dumps {
			if !slices.Contains(oldDumps, d) {
				fresh = append(fresh, d)
			}
		}
		if len(fresh) != 1 {
			t.Fatalf("want one new dump, found %v", fresh)
		}
		if fi, _ := os.Stat(fresh[0]); fi.Mode().Perm() != 0o600 {
			t.Errorf("dump mode %v, want 0600", fi.Mode().Perm())
		}
		s.cluster.CreateRole(t, "restored", "", "LOGIN")
		s.cluster.CreateDatabase(t, "restored", "restored")
		cmd := exec.Command(pgtest.Bin("pg_restore"), "--no-owner", "--role=restored", "-h", s.cluster.SocketDir(),
			"-p", fmt.Sprint(s.cluster.Port()), "-U", "postgres", "-d", "restored", fresh[0])
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pg_restore: %v\n%s", err, out)
		}
		if got := s.cluster.RowCounts(t, "restored"); fmt.Sprint(got) != fmt.Sprint(rowsBefore) {
			t.Errorf("restored row counts differ:\n got %v\nwant %v", got, rowsBefore)
		}
		got := pgtest.CountKinds(s.cluster.ObjectsOwnedBy(t, "restored", "restored"))["function"]
		if got != functionsBefore || got < 2000 {
			t.Errorf("restored %d functions, want %d", got, functionsBefore)
		}
	})
	t.Run("the PKI archive holds every PKI file", func(t *testing.T) {
		archives := backups(t, h.Root, "engine-pki-*.tar.gz")
		if len(archives) != 1 {
			t.Fatalf("want one PKI archive, found %v", archives)
		}
		out, err := exec.Command("tar", "-tzf", archives[0]).Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range append(slices.Clone(h.PKIFiles), h.UntrackedPKI...) {
			if !strings.Contains(string(out), strings.TrimPrefix(f, "/")+"\n") {
				t.Errorf("the archive lacks %s", f)
			}
		}
	})
	t.Run("recorded files and symlinks are gone, everything else survives", func(t *testing.T) {
		mustBeGone(t, h, h.MustBeRemoved())
		mustExist(t, h, h.MustSurvive())
	})
	t.Run("line edits are reverted byte for byte", func(t *testing.T) {
		for p, e := range h.LineEdits {
			got, err := os.ReadFile(h.Path(p))
			if err != nil {
				t.Fatal(err)
			}
			if len(e.Missing) == 0 && !bytes.Equal(got, e.Original) {
				t.Errorf("%s not reverted:\n got %q\nwant %q", p, got, e.Original)
			}
		}
		for p, e := range h.KeptLineEdits {
			if got, _ := os.ReadFile(h.Path(p)); !bytes.Equal(got, e.Edited) {
				t.Errorf("%s must keep setup's edits (the ISO export)", p)
			}
		}
	})
	t.Run("units are inactive", func(t *testing.T) {
		for u, st := range s.unitStates() {
			if st != "inactive" {
				t.Errorf("%s is %s", u, st)
			}
		}
	})
	t.Run("a second and a third run change nothing but logs", func(t *testing.T) {
		before := s.tree()
		for i := 2; i <= 3; i++ {
			r := s.run("-u")
			if r.code != 0 || !strings.Contains(r.stdout, "Nothing to clean") {
				t.Fatalf("run %d: exit %d, want 0 with nothing to clean", i, r.code)
			}
		}
		if d := ovirthost.DiffTrees(before, s.tree()); len(d) > 0 {
			t.Errorf("reruns changed the host: %v", d)
		}
	})
}

func TestEngineCleanupOfALegacyHostWithALocalDatabase(t *testing.T) {
	s := newSite(t, siteOptions{era: ovirthost.EraLegacy, size: schema.Small()})
	h := s.host
	r := s.run("-u")
	if r.code != 0 || !strings.Contains(r.stdout, "Finished cleanup") {
		t.Fatalf("exit %d, want 0 and the closing line", r.code)
	}
	if left := s.objects(); len(left) > 0 {
		t.Errorf("%d objects left: %v", len(left), left[:min(5, len(left))])
	}
	if !s.cluster.RoleExists(t, h.Opts.Engine.User) {
		t.Error("the role was dropped")
	}
	mustBeGone(t, h, h.MustBeRemoved())
	mustExist(t, h, h.MustSurvive())
	pgpass, err := os.ReadFile(h.Path("/etc/ovirt-engine/.pgpass"))
	if err == nil && strings.Contains(string(pgpass), "DB USER credentials") {
		t.Errorf("the engine's section is still in .pgpass:\n%s", pgpass)
	}
	if len(backups(t, h.Root, "engine-*.dump")) == 0 {
		t.Error("no database dump was written")
	}
	r = s.run("-u")
	if r.code != 0 || !strings.Contains(r.stdout, "Nothing to clean") {
		t.Fatalf("rerun: exit %d, want 0 with nothing to clean", r.code)
	}
}

func TestEngineCleanupKeepingTheDatabase(t *testing.T) {
	s := newSite(t, siteOptions{era: ovirthost.EraOtopi, tcp: true, size: schema.Small()})
	before := s.objects()
	r := s.run("-u", "-d")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0", r.code)
	}
	if !strings.Contains(r.stdout, "Note that after re-install you'll have to run Hosts re-install/re-approve.") {
		t.Error("the note about keeping the database is missing")
	}
	if after := s.objects(); !slices.Equal(before, after) {
		t.Errorf("the database changed with -d: %d objects before, %d after", len(before), len(after))
	}
	if d := backups(t, s.host.Root, "engine-2*.dump"); len(d) != 1 { // the builder's older dump only
		t.Errorf("a dump was written although the database is kept: %v", d)
	}
	mustBeGone(t, s.host, s.host.MustBeRemoved())
	mustExist(t, s.host, s.host.MustSurvive())
}

func TestEngineCleanupAfterThePackagesWereReinstalled(t *testing.T) {
	// Sequence II: yum remove; yum install; engine-cleanup; engine-setup.
	s := newSite(t, siteOptions{era: ovirthost.EraOtopi, tcp: true, size: schema.Small()})
	s.host.SimulatePackageRemoval(t)
	s.host.SimulatePackageInstall(t)
	// rpm removed the PKI tree (after copying it aside): judge what must
	// survive by what is there now.
	survivors := existing(s.host, s.host.MustSurvive())
	r := s.run("-u")
	if r.code != 0 || !strings.Contains(r.stdout, "Finished cleanup") {
		t.Fatalf("exit %d, want 0", r.code)
	}
	if left := s.objects(); len(left) > 0 {
		t.Errorf("%d objects left", len(left))
	}
	mustBeGone(t, s.host, s.host.MustBeRemoved())
	mustExist(t, s.host, survivors)
	if s.host.PKIBackup == "" || len(existing(s.host, []string{s.host.PKIBackup})) == 0 {
		t.Error("rpm's copy of the PKI did not survive")
	}
	if r := s.run("-u"); r.code != 0 || !strings.Contains(r.stdout, "Nothing to clean") {
		t.Fatalf("rerun: exit %d", r.code)
	}
}

// existing returns the paths that exist under the host's root.
func existing(h *ovirthost.Host, paths []string) []string {
	var out []string
	for _, p := range paths {
		if _, err := os.Lstat(h.Path(p)); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func TestEngineCleanupBeforeThePackagesAreReinstalled(t *testing.T) {
	// Sequence I: engine-cleanup; yum remove; yum install; engine-setup.
	s := newSite(t, siteOptions{era: ovirthost.EraOtopi, size: schema.Small()})
	if r := s.run("-u"); r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	mustBeGone(t, s.host, s.host.MustBeRemoved())
	mustExist(t, s.host, s.host.MustSurvive())
	s.host.SimulatePackageRemoval(t)
	s.host.SimulatePackageInstall(t)
	if r := s.run("-u"); r.code != 0 || !strings.Contains(r.stdout, "Nothing to clean") {
		t.Fatalf("after reinstall: exit %d, want nothing to clean", r.code)
	}
}

// TestSequenceIIImpossibleRefusesAndChangesNothing breaks the records in
// every way that makes cleaning impossible and checks that engine-cleanup
// refuses (exit 3) with a message naming the file, leaving the tree, the
// database and the units exactly as they were.
func TestSequenceIIImpossibleRefusesAndChangesNothing(t *testing.T) {
	cases := []struct {
		name   string
		era    ovirthost.Era
		args   []string
		break_ func(t *testing.T, s *site)
		want   string
	}{
		{name: "the database credentials file is missing", era: ovirthost.EraOtopi,
			break_: func(t *testing.T, s *site) {
				os.Remove(s.host.Path("/etc/ovirt-engine/engine.conf.d/10-setup-database.conf"))
			},
			want: "10-setup-database.conf: the post-install file .* says the engine was set up, but its database credentials file is missing"},
		{name: "the database credentials file is malformed", era: ovirthost.EraOtopi,
			break_: func(t *testing.T, s *site) {
				appendTo(t, s.host.Path("/etc/ovirt-engine/engine.conf.d/10-setup-database.conf"), "ENGINE_DB_PORT=\"not a port\"\n")
			},
			want: "10-setup-database.conf:[0-9]+: .*ENGINE_DB_PORT"},
		{name: "a manifest is malformed", era: ovirthost.EraOtopi,
			break_: func(t *testing.T, s *site) {
				appendTo(t, s.host.Path(s.host.Manifests[len(s.host.Manifests)-1]), "garbage line\n")
			},
			want: "uninstall.conf:[0-9]+: .*manifest"},
		{name: "the records come from a newer engine-setup", era: ovirthost.EraOtopi,
			break_: func(t *testing.T, s *site) {
				replaceIn(t, s.host.Path("/etc/ovirt-engine-setup.conf.d/20-setup-ovirt-post.conf"), "generatedByVersion=str:4.5.6", "generatedByVersion=str:5.0.1")
			},
			want: "20-setup-ovirt-post.conf:[0-9]+: the records were written by engine-setup 5.0.1"},
		{name: "the database server is unreachable", era: ovirthost.EraOtopi,
			break_: func(t *testing.T, s *site) { s.cluster.Stop() },
			want:   "10-setup-database.conf: the engine database cannot be reached with the recorded credentials"},
		{name: "the database rejects the recorded password", era: ovirthost.EraOtopi,
			break_: func(t *testing.T, s *site) {
				s.cluster.Exec(t, "postgres", fmt.Sprintf("ALTER ROLE %s PASSWORD 'changed-by-the-dba'", pgtest.Ident(s.host.Opts.Engine.User)))
			},
			want: "10-setup-database.conf: the engine database cannot be reached .*authentication failed"},
		{name: "the legacy credentials are malformed", era: ovirthost.EraLegacy,
			break_: func(t *testing.T, s *site) {
				replaceIn(t, s.host.Path("/etc/ovirt-engine/.pgpass"), "#####  End of", "#####  Not the end of")
			},
			want: "\\.pgpass:[0-9]+: the legacy database credentials cannot be read"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, siteOptions{era: tc.era, tcp: tc.era == ovirthost.EraOtopi, size: schema.Small()})
			objects := s.objects()
			tc.break_(t, s)
			tree, units := s.tree(), s.unitStates()
			r := s.run(append([]string{"-u"}, tc.args...)...)
			if r.code != 3 {
				t.Fatalf("exit %d, want 3 (refused)", r.code)
			}
			if !regexpMatch(tc.want, r.stdout) {
				t.Errorf("output does not match %q", tc.want)
			}
			if !strings.Contains(r.stdout, "nothing was changed") {
				t.Error("the refusal does not say that nothing was changed")
			}
			if d := ovirthost.DiffTrees(tree, s.tree()); len(d) > 0 {
				t.Errorf("the refusal changed the host: %v", d)
			}
			if got := s.unitStates(); fmt.Sprint(got) != fmt.Sprint(units) {
				t.Errorf("unit states changed: %v -> %v", units, got)
			}
			if tc.name != "the database server is unreachable" {
				if after := s.objects(); !slices.Equal(objects, after) {
					t.Errorf("the database changed: %d objects -> %d", len(objects), len(after))
				}
			}
		})
	}
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func replaceIn(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

func regexpMatch(pattern, text string) bool {
	return regexp.MustCompile(pattern).MatchString(text)
}

func TestFilesChangedSinceSetupAreKeptWhenTheAnswerIsNo(t *testing.T) {
	s := newSite(t, siteOptions{era: ovirthost.EraOtopi, size: schema.Small()})
	h := s.host
	if len(h.ChangedFiles) == 0 {
		t.Fatal("the host has no file changed since setup")
	}
	answers := filepath.Join(t.TempDir(), "answers.conf")
	if err := os.WriteFile(answers, []byte("[environment:default]\nOVESETUP_CORE/remove=bool:True\n"+
		"OVESETUP_REMOVE/removeChanged=bool:False\nDIALOG/autoAcceptDefault=bool:True\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := s.run("--config-append", answers)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	mustExist(t, h, h.ChangedFiles)
	if !strings.Contains(r.stdout, "Files changed since setup were kept, as answered: "+h.ChangedFiles[0]) {
		t.Error("the summary does not list the kept files")
	}
	var others []string
	for _, p := range h.MustBeRemoved() {
		if !slices.Contains(h.ChangedFiles, p) {
			others = append(others, p)
		}
	}
	mustBeGone(t, h, others)
}
