package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/ovirthost"
	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest/schema"
)

// databases returns every component database of the site.
func (s *site) databases() map[string]*ovirthost.DB {
	out := map[string]*ovirthost.DB{"engine": s.host.Opts.Engine}
	if s.host.Opts.DWH != nil {
		out["dwh"] = s.host.Opts.DWH
	}
	if s.host.Opts.Reports != nil {
		out["reports"] = s.host.Opts.Reports
	}
	return out
}

func (s *site) objectsOf(d *ovirthost.DB) []string {
	return s.cluster.ObjectsOwnedBy(s.t, d.Database, d.User)
}

func dumpsIn(t *testing.T, root, dir, prefix string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(root, dir, prefix+"-*.dump"))
	return m
}

func TestEngineDWHAndReportsOnOneHost(t *testing.T) {
	s := newSite(t, siteOptions{era: ovirthost.EraOtopi, tcp: true, size: schema.Small(), dwh: true, reports: true})
	h := s.host
	before := map[string]int{}
	for name, d := range s.databases() {
		before[name] = len(s.objectsOf(d))
		if before[name] == 0 {
			t.Fatalf("the %s database is empty before the run", name)
		}
	}
	oldDumps := map[string][]string{
		"engine": dumpsIn(t, h.Root, "var/lib/ovirt-engine/backups", "engine"),
		"dwh":    dumpsIn(t, h.Root, "var/lib/ovirt-engine-dwh/backups", "dwh"),
	}
	r := s.run("-u")
	if r.code != 0 || !strings.Contains(r.stdout, "Finished cleanup") {
		t.Fatalf("exit %d, want 0", r.code)
	}
	// Every stage runs reports, then dwh, then engine; backups run at once,
	// all after every stop and before any removal.
	order := []string{"reports: Stop ovirt-engine-reportsd", "dwh: Stop ovirt-engine-dwhd", "engine: Stop ovirt-engine",
		"Stage backup", "Stage remove",
		"reports: Clear the Reports database", "dwh: Clear the DWH history database", "engine: Clear the engine database",
		"reports: Remove the reports setup records", "dwh: Remove the dwh setup records", "engine: Remove the engine's setup records"}
	last := -1
	for _, o := range order {
		i := strings.Index(r.stdout, o)
		if !strings.HasPrefix(o, "Stage") {
			i = strings.Index(r.stdout, "[  OK  ] "+o)
		}
		if i < 0 || i < last {
			t.Errorf("%q is missing or out of order", o)
		}
		last = i
	}
	backupStage, removeStage := strings.Index(r.stdout, "Stage backup"), strings.Index(r.stdout, "Stage remove")
	for _, b := range []string{"reports: Back up the Reports database", "dwh: Back up the DWH history database",
		"engine: Back up the engine database"} {
		if i := strings.Index(r.stdout, "[  OK  ] "+b); i < backupStage || i > removeStage {
			t.Errorf("%q is missing or outside the backup stage", b)
		}
	}
	for name, d := range s.databases() {
		if left := s.objectsOf(d); len(left) > 0 {
			t.Errorf("%s database: %d objects left", name, len(left))
		}
		if !s.cluster.RoleExists(t, d.User) {
			t.Errorf("%s role dropped", name)
		}
	}
	for dir, prefix := range map[string]string{"var/lib/ovirt-engine/backups": "engine",
		"var/lib/ovirt-engine-dwh/backups": "dwh", "var/lib/ovirt-engine-reports/backups": "reports"} {
		if n := len(dumpsIn(t, h.Root, dir, prefix)) - len(oldDumps[prefix]); n != 1 {
			t.Errorf("%d new %s dumps in %s, want 1", n, prefix, dir)
		}
	}
	for u, st := range s.unitStates() {
		if st != "inactive" {
			t.Errorf("%s is %s", u, st)
		}
	}
	mustBeGone(t, h, h.MustBeRemoved())
	mustExist(t, h, h.MustSurvive())
	tree := s.tree()
	if r := s.run("-u"); r.code != 0 || !strings.Contains(r.stdout, "Nothing to clean") {
		t.Fatalf("rerun: exit %d, want nothing to clean", r.code)
	}
	if d := ovirthost.DiffTrees(tree, s.tree()); len(d) > 0 {
		t.Errorf("the rerun changed the host: %v", d)
	}
}

func TestDWHAloneOnItsHostKeepingItsDatabase(t *testing.T) {
	// A separate DWH host: the post-install file says only DWH was set up
	// here; the engine's records are elsewhere.
	s := newSite(t, siteOptions{era: ovirthost.EraOtopi, tcp: true, size: schema.Small(), dwh: true})
	h := s.host
	replaceIn(t, h.Path("/etc/ovirt-engine-setup.conf.d/20-setup-ovirt-post.conf"),
		"OVESETUP_ENGINE_CORE/enable=bool:True", "OVESETUP_ENGINE_CORE/enable=bool:False")
	if err := os.Remove(h.Path("/etc/ovirt-engine/engine.conf.d/10-setup-database.conf")); err != nil {
		t.Fatal(err)
	}
	// The engine database holds DWH's registration.
	eng := h.Opts.Engine
	s.cluster.ExecAs(t, eng.Database, eng.User,
		"CREATE TABLE dwh_history_timekeeping (var_name varchar(50) PRIMARY KEY, var_value varchar(255), var_datetime timestamptz)",
		"INSERT INTO dwh_history_timekeeping VALUES ('dwhUuid', 'f00d', NULL), ('dwhHostname', 'dwh.example.com', NULL), ('lastSync', NULL, now())")
	dwhBefore := s.objectsOf(h.Opts.DWH)

	r := s.run("-u", "-d")
	if r.code != 0 || !strings.Contains(r.stdout, "Finished cleanup") {
		t.Fatalf("exit %d, want 0", r.code)
	}
	if !strings.Contains(r.stdout, "[  OK  ] dwh: Remove DWH's registration from the engine database") {
		t.Error("DWH was not unregistered")
	}
	got := s.cluster.QueryStrings(t, eng.Database, "SELECT var_name || '=' || coalesce(var_value, 'NULL') FROM dwh_history_timekeeping ORDER BY 1")
	if want := []string{"dwhHostname=NULL", "dwhUuid=NULL", "lastSync=NULL"}; !slices.Equal(got, want) {
		t.Errorf("registration: %v, want %v", got, want)
	}
	if after := s.objectsOf(h.Opts.DWH); !slices.Equal(dwhBefore, after) {
		t.Error("the DWH database changed although -d keeps it")
	}
	if st := s.unitStates()["ovirt-engine-dwhd"]; st != "inactive" {
		t.Errorf("ovirt-engine-dwhd is %s", st)
	}
	for _, rec := range []string{"/etc/ovirt-engine-dwh/ovirt-engine-dwhd.conf.d/10-setup-database.conf",
		"/etc/ovirt-engine-setup.conf.d/20-setup-ovirt-post.conf"} {
		if _, err := os.Lstat(h.Path(rec)); err == nil {
			t.Errorf("%s was not forgotten", rec)
		}
	}
	if r := s.run("-u"); r.code != 0 || !strings.Contains(r.stdout, "Nothing to clean") {
		t.Fatalf("rerun: exit %d, want nothing to clean", r.code)
	}
}

func TestAFailedReportsBackupStopsEverythingBeforeAnyDestruction(t *testing.T) {
	s := newSite(t, siteOptions{era: ovirthost.EraOtopi, tcp: true, size: schema.Small(), dwh: true, reports: true})
	h := s.host
	// The Reports backup directory is a file: pg_dump cannot write there.
	backupDir := h.Path("/var/lib/ovirt-engine-reports/backups")
	os.RemoveAll(backupDir)
	if err := os.WriteFile(backupDir, []byte("in the way\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := map[string][]string{}
	for name, d := range s.databases() {
		before[name] = s.objectsOf(d)
	}
	r := s.run("-u")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (failed part way)", r.code)
	}
	if !strings.Contains(r.stdout, "Cleanup failed at reports.backup.database") {
		t.Error("the summary does not name the failed backup")
	}
	for name, d := range s.databases() {
		if after := s.objectsOf(d); !slices.Equal(before[name], after) {
			t.Errorf("the %s database changed before every backup was written", name)
		}
	}
	mustExist(t, h, append(h.MustBeRemoved(), h.MustSurvive()...))

	// Fixing the cause and running again completes.
	if err := os.Remove(backupDir); err != nil {
		t.Fatal(err)
	}
	if r := s.run("-u"); r.code != 0 || !strings.Contains(r.stdout, "Finished cleanup") {
		t.Fatalf("rerun after the fix: exit %d", r.code)
	}
	for name, d := range s.databases() {
		if left := s.objectsOf(d); len(left) > 0 {
			t.Errorf("%s: %d objects left after the rerun", name, len(left))
		}
	}
	mustBeGone(t, h, h.MustBeRemoved())
}
