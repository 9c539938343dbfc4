//go:build cgo

package libvirt

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"libvirt.org/go/libvirt"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/libvirtd"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// TestQemuDaemon runs the plugin in process, through the SDK's gRPC
// adapters, against a real libvirtd with the qemu driver: a domain with a
// managed save and a snapshot tree (where qemu would delete the snapshot
// metadata and then refuse for the managed save, were the flags split), a
// tagged one with snapshots and checkpoints, one with NVRAM, a transient
// one, a running one; and two it must leave alone. It proves what the
// daemon keeps on disk is gone, that a second run changes nothing, and
// that the restore notes, run with virsh, bring every domain back with its
// name, UUID, snapshot tree, current snapshot and checkpoints.
func TestQemuDaemon(t *testing.T) {
	d := libvirtd.Start(t)
	c := d.Connect(t)
	root := t.TempDir()
	host := engineHost()
	buildQemuHost(t, d, c, root, host)
	before := domains(t, c)
	beforeCheckpoints := map[string]map[string]string{}
	for _, q := range host {
		beforeCheckpoints[q.uuid] = checkpointsOf(t, c, q.uuid)
	}
	beforeLeft := map[string][]string{}
	for _, q := range host {
		beforeLeft[q.name] = d.Leftovers(q.name)
	}

	env := sdk.Environment{Root: root, LibvirtURI: d.URI(), RunID: "20260101000000-qemu01"}
	start := time.Now()
	r := drive(t, newPlugin(options{shutdownTimeout: 2 * time.Second}), env)
	t.Logf("the run took %v", time.Since(start).Round(time.Millisecond))
	for _, id := range r.order {
		t.Logf("  %-60s %8v  %s", id, r.took[id].Round(time.Millisecond), r.executed[id].Outcome)
	}
	if b := r.blocking(); len(b) > 0 {
		t.Fatalf("the run failed: %v", b)
	}
	for _, p := range r.problems() {
		t.Errorf("unexpected problem: %s", p.String())
	}
	if got := r.executed[idStop].Outcome; got != "0 shut down, 1 destroyed" {
		t.Errorf("stop: %q (a TCG guest without an OS ignores the shutdown request)", got)
	}
	for _, q := range host {
		if !q.recorded && !q.tagged || q.transient {
			continue
		}
		want := "undefined with MANAGED_SAVE|SNAPSHOTS_METADATA|CHECKPOINTS_METADATA|NVRAM|TPM"
		if got := r.executed[idRemove+q.uuid].Outcome; got != want {
			t.Errorf("remove %s: %q, want %q", q.name, got, want)
		}
	}

	after := domains(t, c)
	for _, q := range host {
		_, exists := after[q.uuid]
		if q.recorded || q.tagged {
			if exists {
				t.Errorf("%s is still defined", q.name)
			}
			if left := d.Leftovers(q.name); len(left) > 0 {
				t.Errorf("%s left %q", q.name, left)
			}
			if q.nvram {
				if _, err := os.Stat(filepath.Join(d.DataDir(), q.name+"_VARS.fd")); !os.IsNotExist(err) {
					t.Errorf("the NVRAM file of %s is still there (%v)", q.name, err)
				}
			}
			continue
		}
		if !exists {
			t.Errorf("%s was removed, but it is not the installation's", q.name)
			continue
		}
		if now, was := after[q.uuid], before[q.uuid]; now.Active != was.Active || now.Current != was.Current || !mapsEqual(now.Snapshots, was.Snapshots) {
			t.Errorf("%s changed:\n was %+v\n now %+v", q.name, was, now)
		}
		if left := d.Leftovers(q.name); !slices.Equal(left, beforeLeft[q.name]) {
			t.Errorf("%s's files changed: %q, then %q", q.name, beforeLeft[q.name], left)
		}
	}
	if _, err := os.Stat(filepath.Join(root, RecordFile)); !os.IsNotExist(err) {
		t.Errorf("the record survives (%v)", err)
	}

	// A second run finds nothing: the record is gone, and so is every
	// tagged domain.
	env.RunID = "20260101000001-qemu02"
	r2 := drive(t, newPlugin(options{}), env)
	if r2.init.Installed || len(r2.confirm.Plan) > 0 || len(r2.problems()) > 0 {
		t.Errorf("second run: installed %v, plan %+v, problems %v", r2.init.Installed, r2.confirm.Plan, r2.problems())
	}
	if now := domains(t, c); len(now) != len(after) {
		t.Errorf("the second run changed the domains")
	}

	// Every backup restores its domain with virsh.
	if len(r.backups) != 5 {
		t.Errorf("%d backups, want 5: %+v", len(r.backups), r.backups)
	}
	for _, b := range r.backups {
		restoreWithVirsh(t, b.Path)
	}
	restored := domains(t, c)
	for _, q := range host {
		if !q.recorded && !q.tagged {
			continue
		}
		got, ok := restored[q.uuid]
		if !ok {
			t.Errorf("%s is not back after its restore", q.name)
			continue
		}
		want := before[q.uuid]
		if got.Name != want.Name || got.Persistent != want.Persistent || got.Current != want.Current || !mapsEqual(got.Snapshots, want.Snapshots) {
			t.Errorf("%s restored as %+v, want %+v", q.name, got, want)
		}
		if cps := checkpointsOf(t, c, q.uuid); !mapsEqual(cps, beforeCheckpoints[q.uuid]) {
			t.Errorf("%s restored with checkpoints %v, want %v", q.name, cps, beforeCheckpoints[q.uuid])
		}
	}
}

// TestQemuPartialFlagsWouldLoseSnapshots shows, on the real qemu driver,
// why the plugin never undefines with only some flags: with
// SNAPSHOTS_METADATA alone, a domain that also has a managed save is not
// undefined, yet its snapshot metadata is already gone.
func TestQemuPartialFlagsWouldLoseSnapshots(t *testing.T) {
	d := libvirtd.Start(t)
	c := d.Connect(t)
	q := qemuDomain{name: "partial", uuid: "6a1e0000-0000-4000-9000-0000000000aa", managedSave: true,
		snapshots: [][2]string{{"s1", ""}, {"s2", "s1"}}}
	buildQemuHost(t, d, c, t.TempDir(), []qemuDomain{q})
	dom, err := c.LookupDomainByUUIDString(q.uuid)
	if err != nil {
		t.Fatal(err)
	}
	defer dom.Free()
	refused := dom.UndefineFlags(libvirt.DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
	if !isCode(refused, libvirt.ERR_OPERATION_INVALID) || !strings.Contains(lvMessage(refused), "managed save") {
		t.Fatalf("undefine with SNAPSHOTS_METADATA alone: %v, want the managed-save refusal", refused)
	}
	if n, err := dom.SnapshotNum(0); err != nil || n != 0 {
		t.Errorf("after the refused undefine the domain has %d snapshots (%v): qemu no longer deletes them first?", n, err)
	} else {
		t.Logf("qemu refused the undefine (%s) after deleting the metadata of 2 snapshots", lvMessage(refused))
	}
}
