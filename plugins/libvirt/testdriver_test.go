//go:build cgo

package libvirt

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// The UUIDs of testdata/host.xml.
const (
	uuidAppliance = "6a1e0000-0000-4000-8000-000000000001" // shut off, managed save, snapshots s1→s2→s3(current), s1→s4
	uuidRunning   = "6a1e0000-0000-4000-8000-000000000002" // running, snapshot "base"
	uuidTransient = "6a1e0000-0000-4000-8000-000000000003" // transient, running
	uuidTagged    = "6a1e0000-0000-4000-8000-000000000004" // shut off, tagged ec:installation, t1→t2(current)
	uuidUnrelated = "6a1e0000-0000-4000-8000-000000000005" // running, snapshot: never touched
	uuidRenamed   = "6a1e0000-0000-4000-8000-000000000006" // "renamed-vm"
	uuidImpostor  = "6a1e0000-0000-4000-8000-000000000007" // "impostor", managed save
	uuidPaused    = "6a1e0000-0000-4000-8000-000000000008" // paused
	uuidOff       = "6a1e0000-0000-4000-8000-000000000009" // shut off, managed save, snapshots: never touched
	uuidNowhere   = "6a1e0000-0000-4000-8000-0000000000ff" // no such domain
)

// TestTestDriverHost drives the plugin against testdata/host.xml, through
// one test-driver connection shared with the test, and checks what is
// left by listing the domains and their snapshots afterwards.
func TestTestDriverHost(t *testing.T) {
	tests := []struct {
		name   string
		record string // "" for no record file
		// removed are the domains that must be gone; every other keeps
		// its state (name, activity, snapshot tree, current snapshot),
		// except those in stopped, which must be shut off.
		removed []string
		stopped []string
		// plan is the expected list of action IDs.
		plan []string
		// installed is what init must say.
		installed bool
		// blocking and warning are substrings of the blocking problems and
		// warnings that must be reported (and no other blocking one).
		blocking, warning []string
		// recordKept says the record must survive the run.
		recordKept bool
	}{
		{
			name: "recorded and tagged domains are removed, all others untouched",
			record: "# domains of the engine installation\n" +
				uuidAppliance + " engine-appliance\n" +
				strings.ToUpper(uuidRunning) + "\trunning-vm  \n" +
				"\n" + uuidTransient + "\n",
			removed:   []string{uuidAppliance, uuidRunning, uuidTransient, uuidTagged},
			installed: true,
			plan: []string{"libvirt.stop",
				"libvirt.backup." + uuidAppliance, "libvirt.backup." + uuidRunning, "libvirt.backup." + uuidTransient, "libvirt.backup." + uuidTagged,
				"libvirt.remove." + uuidAppliance, "libvirt.remove." + uuidRunning, "libvirt.remove." + uuidTransient, "libvirt.remove." + uuidTagged,
				"libvirt.forget.record"},
		},
		{
			name:      "without a record, a tagged domain is still removed",
			removed:   []string{uuidTagged},
			installed: true,
			plan:      []string{"libvirt.backup." + uuidTagged, "libvirt.remove." + uuidTagged},
		},
		{
			name:      "a paused domain is destroyed, not waited for",
			record:    uuidPaused + " paused-vm\n",
			removed:   []string{uuidPaused, uuidTagged},
			installed: true,
			plan: []string{"libvirt.stop", "libvirt.backup." + uuidPaused, "libvirt.backup." + uuidTagged,
				"libvirt.remove." + uuidPaused, "libvirt.remove." + uuidTagged, "libvirt.forget.record"},
		},
		{
			name:       "a recorded UUID under another name is refused and nothing changes",
			record:     uuidAppliance + " engine-appliance\n" + uuidRenamed + " old-name\n",
			installed:  true,
			blocking:   []string{"the domain with the recorded UUID " + uuidRenamed + " is named renamed-vm, but the record names it old-name"},
			recordKept: true,
		},
		{
			name:      "a recorded name held by another UUID is left alone, and the record goes",
			record:    uuidNowhere + " impostor\n",
			removed:   []string{uuidTagged},
			installed: true,
			warning:   []string{"domain impostor exists with UUID " + uuidImpostor + ", but the record names UUID " + uuidNowhere},
			plan:      []string{"libvirt.backup." + uuidTagged, "libvirt.remove." + uuidTagged, "libvirt.forget.record"},
		},
		{
			name:       "a damaged record is refused with its line and nothing changes",
			record:     uuidAppliance + " engine-appliance\nnot-a-uuid vm\n",
			installed:  true,
			blocking:   []string{"not-a-uuid is not a domain UUID"},
			recordKept: true,
		},
		{
			name:      "an empty record is forgotten",
			record:    "# nothing yet\n",
			removed:   []string{uuidTagged},
			installed: true,
			plan:      []string{"libvirt.backup." + uuidTagged, "libvirt.remove." + uuidTagged, "libvirt.forget.record"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, opts := openShared(t, testHostURI(t))
			opts.shutdownTimeout = time.Hour // the test driver shuts down at once; a paused domain must not wait
			before := domains(t, conn)
			root := t.TempDir()
			var recordPath string
			if tc.record != "" {
				recordPath = writeRecord(t, root, tc.record)
			}
			env := sdk.Environment{Root: root, LibvirtURI: testHostURI(t), RunID: "20260101000000-test01"}
			start := time.Now()
			r := drive(t, newPlugin(opts), env)
			if d := time.Since(start); d > time.Minute {
				t.Errorf("the run took %v: did the stop wait for a paused domain?", d)
			}

			if r.init.Installed != tc.installed {
				t.Errorf("init: Installed = %v, want %v (findings %q)", r.init.Installed, tc.installed, r.init.Findings)
			}
			var blocking, warnings []string
			for _, p := range r.problems() {
				if p.Severity == sdk.Blocking {
					blocking = append(blocking, p.String())
				} else {
					warnings = append(warnings, p.String())
				}
			}
			checkMessages(t, "blocking problem", tc.blocking, blocking, true)
			checkMessages(t, "warning", tc.warning, warnings, false)
			for _, p := range r.problems() {
				if p.Severity == sdk.Blocking && recordPath != "" && p.File != recordPath {
					t.Errorf("blocking problem %q is not located at the record %s", p.String(), recordPath)
				}
			}
			var ids []string
			for _, a := range r.confirm.Plan {
				ids = append(ids, a.ID)
			}
			if len(tc.blocking) == 0 && !slices.Equal(ids, tc.plan) {
				t.Errorf("plan:\n got %q\nwant %q", ids, tc.plan)
			}

			after := domains(t, conn)
			for uuid, was := range before {
				now, exists := after[uuid]
				switch {
				case slices.Contains(tc.removed, uuid):
					if exists {
						t.Errorf("domain %s (%s) should be gone, but is still there: %+v", was.Name, uuid, now)
					}
				case !exists:
					t.Errorf("domain %s (%s) was removed, but is not the installation's", was.Name, uuid)
				case slices.Contains(tc.stopped, uuid):
					if now.Active {
						t.Errorf("domain %s (%s) should be shut off", was.Name, uuid)
					}
				default:
					if now.Name != was.Name || now.Active != was.Active || now.Current != was.Current || !mapsEqual(now.Snapshots, was.Snapshots) {
						t.Errorf("domain %s (%s) changed:\n was %+v\n now %+v", was.Name, uuid, was, now)
					}
				}
			}
			if recordPath != "" {
				_, err := os.Stat(recordPath)
				if kept := err == nil; kept != tc.recordKept {
					t.Errorf("record kept = %v, want %v", kept, tc.recordKept)
				}
			}
			checkBackups(t, r, tc.removed, before)
		})
	}
}

func checkMessages(t *testing.T, what string, want, got []string, exclusive bool) {
	t.Helper()
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.Contains(g, w) }) {
			t.Errorf("no %s contains %q; got %q", what, w, got)
		}
	}
	if exclusive && len(want) == 0 && len(got) > 0 {
		t.Errorf("unexpected %s: %q", what, got)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// checkBackups: one private archive per removed domain, holding its XML,
// every snapshot's XML and a restore note naming the current snapshot.
func checkBackups(t *testing.T, r *run, removed []string, before map[string]domainState) {
	t.Helper()
	if len(r.backups) != len(removed) {
		t.Errorf("%d backups for %d removed domains: %+v", len(r.backups), len(removed), r.backups)
	}
	for _, b := range r.backups {
		fi, err := os.Stat(b.Path)
		if err != nil {
			t.Errorf("backup %s: %v", b.Path, err)
			continue
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("backup %s has mode %v, want 0600", b.Path, fi.Mode().Perm())
		}
		var uuid string
		for _, u := range removed {
			if strings.Contains(filepath.Base(b.Path), u) {
				uuid = u
			}
		}
		if uuid == "" {
			t.Errorf("backup %s names no removed domain", b.Path)
			continue
		}
		files := readArchiveFiles(t, b.Path)
		was := before[uuid]
		var snaps []string
		for name := range files {
			if strings.Contains(name, "/snapshots/") {
				snaps = append(snaps, name)
			}
		}
		if len(snaps) != len(was.Snapshots) {
			t.Errorf("backup of %s holds %d snapshots, want %d: %q", was.Name, len(snaps), len(was.Snapshots), snaps)
		}
		_, cmds := noteCommands(t, files)
		var current string
		for _, c := range cmds {
			if slices.Contains(c, "--current") {
				current = c[len(c)-3]
			}
		}
		if was.Current != "" && !strings.HasSuffix(current, "-"+was.Current+".xml") {
			t.Errorf("the restore note of %s marks %q current, want %s", was.Name, current, was.Current)
		}
	}
}

// TestBackupRestoresTheDomain removes the appliance, then carries out its
// restore note on the same connection: the same name and UUID come back,
// with the same snapshot tree and current snapshot.
func TestBackupRestoresTheDomain(t *testing.T) {
	conn, opts := openShared(t, testHostURI(t))
	before := domains(t, conn)
	root := t.TempDir()
	writeRecord(t, root, uuidAppliance+" engine-appliance\n")
	r := drive(t, newPlugin(opts), sdk.Environment{Root: root, LibvirtURI: testHostURI(t), RunID: "20260101000000-restor"})
	if b := r.blocking(); len(b) > 0 {
		t.Fatalf("the run failed: %v", b)
	}
	var archive string
	for _, b := range r.backups {
		if strings.Contains(b.Path, uuidAppliance) {
			archive = b.Path
		}
	}
	if archive == "" {
		t.Fatalf("no backup of the appliance among %+v", r.backups)
	}
	if _, ok := domains(t, conn)[uuidAppliance]; ok {
		t.Fatal("the appliance is still defined")
	}
	restoreThroughAPI(t, conn, readArchiveFiles(t, archive))
	got, ok := domains(t, conn)[uuidAppliance]
	if !ok {
		t.Fatal("the restore note did not bring the appliance back")
	}
	want := before[uuidAppliance]
	want.Active = false
	if got.Name != want.Name || got.Current != want.Current || !mapsEqual(got.Snapshots, want.Snapshots) || !got.Persistent {
		t.Errorf("restored:\n got %+v\nwant %+v", got, want)
	}
}

// TestSecondRunChangesNothing: after a complete run, a new run on the same
// connection finds nothing to clean, and executing the first plan again
// changes nothing.
func TestSecondRunChangesNothing(t *testing.T) {
	conn, opts := openShared(t, testHostURI(t))
	root := t.TempDir()
	writeRecord(t, root, uuidAppliance+"\n"+uuidRunning+"\n"+uuidTransient+"\n")
	env := sdk.Environment{Root: root, LibvirtURI: testHostURI(t), RunID: "20260101000000-first1"}
	first := newPlugin(opts)
	r := drive(t, first, env)
	if b := r.blocking(); len(b) > 0 {
		t.Fatalf("first run: %v", b)
	}
	done := domains(t, conn)

	env.RunID = "20260101000001-second"
	r2 := drive(t, newPlugin(opts), env)
	if r2.init.Installed || len(r2.confirm.Plan) > 0 || len(r2.problems()) > 0 {
		t.Errorf("second run: installed %v, plan %+v, problems %v", r2.init.Installed, r2.confirm.Plan, r2.problems())
	}
	for _, id := range r.order {
		resp, err := first.Execute(t.Context(), sdk.ExecuteRequest{ActionID: id, Progress: func(sdk.Progress) {}})
		if err != nil || resp.Changed || sdk.HasBlocking(resp.Problems) {
			t.Errorf("action %s again: changed %v, problems %v, err %v", id, resp.Changed, resp.Problems, err)
		}
	}
	if after := domains(t, conn); len(after) != len(done) {
		t.Errorf("repeating the actions changed the domains: %d, then %d", len(done), len(after))
	}
}

// TestTestDriverOutcome: the test driver accepts only MANAGED_SAVE and
// SNAPSHOTS_METADATA, so the first undefine falls back once per refused
// flag and says so; the next domain of the connection starts at the
// attempt that worked.
func TestTestDriverOutcome(t *testing.T) {
	_, opts := openShared(t, testHostURI(t))
	root := t.TempDir()
	writeRecord(t, root, uuidAppliance+"\n")
	p := newPlugin(opts)
	r := drive(t, p, sdk.Environment{Root: root, LibvirtURI: testHostURI(t), RunID: "20260101000000-outcom"})
	got := r.executed["libvirt.remove."+uuidAppliance].Outcome
	want := "undefined with MANAGED_SAVE|SNAPSHOTS_METADATA (the driver refused TPM, CHECKPOINTS_METADATA, NVRAM)"
	if got != want {
		t.Errorf("outcome %q, want %q", got, want)
	}
	if p.ladder != 3 {
		t.Errorf("the plugin learned attempt %d, want 3", p.ladder)
	}
}

// TestUnreachableLibvirt: without records, a libvirt that cannot be reached
// is a finding, not a problem; with a recorded domain it refuses the run.
func TestUnreachableLibvirt(t *testing.T) {
	uri := "qemu+unix:///system?socket=" + filepath.Join(t.TempDir(), "no-such-socket")
	for _, tc := range []struct {
		name, record string
		blocking     bool
	}{
		{"without records", "", false},
		{"with an empty record", "# none\n", false},
		{"with a recorded domain", uuidAppliance + " engine-appliance\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if tc.record != "" {
				writeRecord(t, root, tc.record)
			}
			r := drive(t, New(), sdk.Environment{Root: root, LibvirtURI: uri, RunID: "20260101000000-unreac"})
			if got := sdk.HasBlocking(r.problems()); got != tc.blocking {
				t.Errorf("blocking = %v, want %v: %v", got, tc.blocking, r.problems())
			}
			if !slices.ContainsFunc(r.init.Findings, func(f string) bool { return strings.Contains(f, "libvirt not reachable at "+uri) }) {
				t.Errorf("findings %q do not say libvirt is unreachable", r.init.Findings)
			}
			if tc.blocking {
				if p := r.blocking()[0]; !strings.Contains(p.Message, "1 domain(s) are recorded") || p.File == "" {
					t.Errorf("problem %+v does not name the record", p)
				}
			}
		})
	}
}
