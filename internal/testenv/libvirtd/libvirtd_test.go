//go:build cgo

package libvirtd_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"libvirt.org/go/libvirt"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/libvirtd"
)

// TestDaemonKeepsQemuStateAndCleansUp proves the harness gives a real qemu
// driver — managed save of a running TCG guest, snapshot, checkpoint and
// NVRAM metadata on disk where Leftovers looks — and that Stop leaves
// nothing: no domain, no qemu, no daemon, no directory.
func TestDaemonKeepsQemuStateAndCleansUp(t *testing.T) {
	d := libvirtd.Start(t)
	c := d.Connect(t)

	define := func(s libvirtd.DomainSpec) *libvirt.Domain {
		t.Helper()
		dom, err := c.DomainDefineXML(d.DomainXML(s))
		if err != nil {
			t.Fatalf("define %s: %v", s.Name, err)
		}
		t.Cleanup(func() { dom.Free() })
		return dom
	}

	saved := define(libvirtd.DomainSpec{Name: "saved", UUID: "00000000-0000-4000-8000-000000000001"})
	begin := time.Now()
	if err := saved.Create(); err != nil {
		t.Fatalf("start: %v", err)
	}
	started := time.Since(begin)
	begin = time.Now()
	if err := saved.ManagedSave(0); err != nil {
		t.Fatalf("managed save: %v", err)
	}
	t.Logf("TCG domain started in %v, managed save in %v", started.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))
	if has, err := saved.HasManagedSaveImage(0); err != nil || !has {
		t.Fatalf("HasManagedSaveImage = %v, %v; want true", has, err)
	}

	spec := libvirtd.DomainSpec{Name: "meta", UUID: "00000000-0000-4000-8000-000000000002",
		Disk: filepath.Join(d.DataDir(), "meta.qcow2"), NVRAM: filepath.Join(d.DataDir(), "meta_VARS.fd")}
	if err := os.WriteFile(spec.NVRAM, []byte("nvram"), 0o600); err != nil {
		t.Fatal(err)
	}
	d.Chown(t, spec.NVRAM)
	meta := define(spec)
	x := d.DomainXML(spec)
	for _, s := range []struct{ name, parent string }{{"s1", ""}, {"s2", "s1"}} {
		snap, err := meta.CreateSnapshotXML(libvirtd.SnapshotXML(s.name, s.parent, 1, x), libvirt.DOMAIN_SNAPSHOT_CREATE_REDEFINE)
		if err != nil {
			t.Fatalf("redefine snapshot %s: %v", s.name, err)
		}
		snap.Free()
	}
	cp, err := meta.CreateCheckpointXML(libvirtd.CheckpointXML("c1", "", 1, x), libvirt.DOMAIN_CHECKPOINT_CREATE_REDEFINE)
	if err != nil {
		t.Fatalf("redefine checkpoint: %v", err)
	}
	cp.Free()

	for name, want := range map[string]int{"saved": 2, "meta": 3} {
		if got := d.Leftovers(name); len(got) != want {
			t.Errorf("Leftovers(%s) = %q, want %d entries", name, got, want)
		}
	}
	err = meta.Undefine()
	var le libvirt.Error
	if !errors.As(err, &le) || le.Code != libvirt.ERR_OPERATION_INVALID {
		t.Errorf("plain undefine of a domain with snapshots: %v, want code %d", err, libvirt.ERR_OPERATION_INVALID)
	}

	running := define(libvirtd.DomainSpec{Name: "running", UUID: "00000000-0000-4000-8000-000000000003"})
	if err := running.Create(); err != nil {
		t.Fatalf("start: %v", err)
	}
	pid := qemuPID(t, d, "running")

	dir := d.Dir()
	if err := d.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after Stop (%v)", dir, err)
	}
	if syscall.Kill(pid, 0) == nil {
		t.Errorf("qemu %d still runs after Stop", pid)
	}
	if syscall.Kill(d.PID(), 0) == nil {
		t.Errorf("libvirtd %d still runs after Stop", d.PID())
	}
	if _, err := os.Stat(spec.NVRAM); !os.IsNotExist(err) {
		t.Errorf("the NVRAM file survives Stop (%v)", err)
	}
}

func qemuPID(t *testing.T, d *libvirtd.Daemon, name string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(d.Dir(), "run", "libvirt", "qemu", "run", name+".pid"))
	if err != nil {
		t.Fatalf("qemu pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("qemu pid file: %v", err)
	}
	return pid
}
