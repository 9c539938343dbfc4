//go:build cgo

package libvirt

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"libvirt.org/go/libvirt"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/libvirtd"
)

// qemuDomain is a domain a test lays out on a private libvirtd.
type qemuDomain struct {
	name, uuid string
	// snapshots and checkpoints are {name, parent} pairs, parents first;
	// the last snapshot is current. They are redefined metadata, as a
	// management application would recreate it.
	snapshots, checkpoints [][2]string
	disk                   bool // a qcow2 disk (needed for checkpoints)
	nvram                  bool // an NVRAM file exists
	managedSave            bool // started, then saved: shut off with a managed-save image
	running                bool // left running
	transient              bool // created, never defined
	recorded, tagged       bool
}

// engineHost is what an installation may leave, and what it must not
// touch, on a real qemu driver.
func engineHost() []qemuDomain {
	return []qemuDomain{
		{name: "ec-saved", uuid: "6a1e0000-0000-4000-9000-000000000001", recorded: true, managedSave: true,
			snapshots: [][2]string{{"s1", ""}, {"s2", "s1"}, {"s3", "s1"}, {"s4", "s2"}}},
		{name: "ec-ckpt", uuid: "6a1e0000-0000-4000-9000-000000000002", tagged: true, disk: true,
			snapshots: [][2]string{{"base", ""}, {"top", "base"}}, checkpoints: [][2]string{{"c1", ""}, {"c2", "c1"}}},
		{name: "ec-nvram", uuid: "6a1e0000-0000-4000-9000-000000000003", recorded: true, nvram: true,
			snapshots: [][2]string{{"only", ""}}},
		{name: "ec-transient", uuid: "6a1e0000-0000-4000-9000-000000000004", recorded: true, transient: true,
			snapshots: [][2]string{{"t1", ""}}},
		{name: "ec-running", uuid: "6a1e0000-0000-4000-9000-000000000005", recorded: true, running: true},
		{name: "keep-me", uuid: "6a1e0000-0000-4000-9000-000000000006", managedSave: true,
			snapshots: [][2]string{{"k1", ""}, {"k2", "k1"}}},
		{name: "keep-running", uuid: "6a1e0000-0000-4000-9000-000000000007", running: true},
	}
}

const tag = `<ec:installation xmlns:ec="` + MetadataNamespace + `"/>`

// buildQemuHost lays out doms on the daemon and writes the record of those
// recorded under root.
func buildQemuHost(t testing.TB, d *libvirtd.Daemon, c *libvirt.Connect, root string, doms []qemuDomain) {
	t.Helper()
	var record strings.Builder
	record.WriteString("# written by the test\n")
	for _, q := range doms {
		spec := libvirtd.DomainSpec{Name: q.name, UUID: q.uuid}
		if q.tagged {
			spec.Metadata = tag
		}
		if q.disk {
			spec.Disk = filepath.Join(d.DataDir(), q.name+".qcow2")
		}
		if q.nvram {
			spec.NVRAM = filepath.Join(d.DataDir(), q.name+"_VARS.fd")
			if err := os.WriteFile(spec.NVRAM, []byte("nvram of "+q.name), 0o600); err != nil {
				t.Fatal(err)
			}
			d.Chown(t, spec.NVRAM)
		}
		x := d.DomainXML(spec)
		var dom *libvirt.Domain
		var err error
		if q.transient {
			dom, err = c.DomainCreateXML(x, 0)
		} else {
			dom, err = c.DomainDefineXML(x)
		}
		if err != nil {
			t.Fatalf("creating %s: %v", q.name, err)
		}
		for i, s := range q.snapshots {
			flags := libvirt.DOMAIN_SNAPSHOT_CREATE_REDEFINE
			if i == len(q.snapshots)-1 {
				flags |= libvirt.DOMAIN_SNAPSHOT_CREATE_CURRENT
			}
			snap, err := dom.CreateSnapshotXML(libvirtd.SnapshotXML(s[0], s[1], int64(1000+i), x), flags)
			if err != nil {
				t.Fatalf("redefining snapshot %s of %s: %v", s[0], q.name, err)
			}
			snap.Free()
		}
		for i, cp := range q.checkpoints {
			ck, err := dom.CreateCheckpointXML(libvirtd.CheckpointXML(cp[0], cp[1], int64(2000+i), x), libvirt.DOMAIN_CHECKPOINT_CREATE_REDEFINE)
			if err != nil {
				t.Fatalf("redefining checkpoint %s of %s: %v", cp[0], q.name, err)
			}
			ck.Free()
		}
		if q.managedSave || q.running {
			if err := dom.Create(); err != nil {
				t.Fatalf("starting %s: %v", q.name, err)
			}
		}
		if q.managedSave {
			if err := dom.ManagedSave(0); err != nil {
				t.Fatalf("managed save of %s: %v", q.name, err)
			}
		}
		dom.Free()
		if q.recorded {
			fmt.Fprintf(&record, "%s %s\n", q.uuid, q.name)
		}
	}
	writeRecord(t, root, record.String())
}

// checkpointsOf lists a domain's checkpoints, name -> parent.
func checkpointsOf(t testing.TB, c *libvirt.Connect, uuid string) map[string]string {
	t.Helper()
	d, err := c.LookupDomainByUUIDString(uuid)
	if err != nil {
		t.Fatalf("looking up %s: %v", uuid, err)
	}
	defer d.Free()
	cps, err := d.ListAllCheckpoints(0)
	if err != nil {
		t.Fatalf("listing checkpoints of %s: %v", uuid, err)
	}
	out := map[string]string{}
	for i := range cps {
		name, _ := cps[i].GetName()
		parent := ""
		if p, err := cps[i].GetParent(0); err == nil {
			parent, _ = p.GetName()
			p.Free()
		}
		out[name] = parent
		cps[i].Free()
	}
	return out
}

// restoreWithVirsh unpacks a backup archive and runs the virsh commands of
// its restore note, as an administrator would.
func restoreWithVirsh(t testing.TB, archive string) {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("tar", "-xzf", archive, "-C", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("unpacking %s: %v: %s", archive, err, out)
	}
	sub, lines := noteLines(t, readArchiveFiles(t, archive))
	for _, text := range lines {
		// the note's own text, run by a shell: its quoting is under test too
		cmd := exec.Command("sh", "-c", text)
		cmd.Dir = filepath.Join(dir, sub)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("restoring from %s: %s: %v: %s", filepath.Base(archive), text, err, out)
		}
	}
}
