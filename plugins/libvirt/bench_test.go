//go:build cgo

package libvirt

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"libvirt.org/go/libvirt"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/libvirtd"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// BenchmarkRemove200Domains removes 200 inactive domains with 5 snapshots
// each from a real libvirtd (qemu driver), once with the plugin — one
// connection, one UndefineFlags call per domain — and once with a shell
// loop over "virsh undefine --snapshots-metadata --managed-save", and
// reports both and their ratio. Defining the domains and redefining their
// snapshot metadata happens outside the timer; the timed operation (ns/op)
// is a whole plugin run: init, validate, confirm, a backup of every domain,
// the removals and the record.
//
//	go test -run '^$' -bench Remove200 -benchtime 3x ./plugins/libvirt/
func BenchmarkRemove200Domains(b *testing.B) {
	const domainCount, snapshotCount = 200, 5
	virsh, err := exec.LookPath("virsh")
	if err != nil {
		b.Skip("virsh not found (apt-get install libvirt-clients)")
	}
	d := libvirtd.Start(b)
	c := d.Connect(b)
	var run, remove, backup, loop, setup time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		root := b.TempDir()
		begin := time.Now()
		uuids := defineMany(b, d, c, fmt.Sprintf("plugin%d", i), domainCount, snapshotCount)
		setup += time.Since(begin)
		writeRecord(b, root, strings.Join(uuids, "\n")+"\n")
		b.StartTimer()

		begin = time.Now()
		r := drive(b, newPlugin(options{}), sdk.Environment{Root: root, LibvirtURI: d.URI(), RunID: fmt.Sprintf("20260101000000-bench%d", i)})
		run += time.Since(begin)

		b.StopTimer()
		if bl := r.blocking(); len(bl) > 0 {
			b.Fatalf("the plugin failed: %v", bl[0])
		}
		for id, took := range r.took {
			switch {
			case strings.HasPrefix(id, idRemove):
				remove += took
			case strings.HasPrefix(id, idBackup):
				backup += took
			}
		}
		assertGone(b, c, uuids)

		uuids = defineMany(b, d, c, fmt.Sprintf("virsh%d", i), domainCount, snapshotCount)
		script := `uri=$1; shift; for d in "$@"; do "` + virsh + `" -q -c "$uri" undefine --snapshots-metadata --managed-save "$d" >/dev/null || exit 1; done`
		begin = time.Now()
		out, err := exec.Command("sh", append([]string{"-c", script, "loop", d.URI()}, uuids...)...).CombinedOutput()
		loop += time.Since(begin)
		if err != nil {
			b.Fatalf("the virsh loop failed: %v: %s", err, out)
		}
		assertGone(b, c, uuids)
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(run.Seconds()/n, "plugin-run-s/op")
	b.ReportMetric(remove.Seconds()/n, "plugin-remove-s/op")
	b.ReportMetric(loop.Seconds()/n, "virsh-loop-s/op")
	b.ReportMetric(loop.Seconds()/remove.Seconds(), "virsh/plugin-remove")
	b.ReportMetric(loop.Seconds()/run.Seconds(), "virsh/plugin-run")
	per := func(d time.Duration) time.Duration { return (d / time.Duration(b.N)).Round(time.Millisecond) }
	b.Logf("per iteration: setup (define %d domains, redefine %d snapshots each) %v; plugin run %v; backup actions %v (summed: the core runs 4 at once), removals %v",
		domainCount, snapshotCount, per(setup), per(run), per(backup), per(remove))
}

// defineMany defines count inactive domains with a chain of snapshots
// snapshots each (the last current) and returns their UUIDs.
func defineMany(b *testing.B, d *libvirtd.Daemon, c *libvirt.Connect, prefix string, count, snapshots int) []string {
	b.Helper()
	var uuids []string
	for i := 0; i < count; i++ {
		spec := libvirtd.DomainSpec{Name: fmt.Sprintf("%s-%03d", prefix, i), UUID: fmt.Sprintf("%08x-0000-4000-8000-%012x", len(prefix)*1000+i, hash(prefix))}
		x := d.DomainXML(spec)
		dom, err := c.DomainDefineXML(x)
		if err != nil {
			b.Fatalf("defining %s: %v", spec.Name, err)
		}
		parent := ""
		for s := 0; s < snapshots; s++ {
			name := fmt.Sprintf("s%d", s)
			flags := libvirt.DOMAIN_SNAPSHOT_CREATE_REDEFINE
			if s == snapshots-1 {
				flags |= libvirt.DOMAIN_SNAPSHOT_CREATE_CURRENT
			}
			snap, err := dom.CreateSnapshotXML(libvirtd.SnapshotXML(name, parent, int64(s+1), x), flags)
			if err != nil {
				b.Fatalf("redefining %s of %s: %v", name, spec.Name, err)
			}
			snap.Free()
			parent = name
		}
		dom.Free()
		uuids = append(uuids, spec.UUID)
	}
	return uuids
}

func hash(s string) uint64 {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h & 0xffffffffffff
}

func assertGone(b *testing.B, c *libvirt.Connect, uuids []string) {
	b.Helper()
	for _, u := range uuids {
		if d, err := c.LookupDomainByUUIDString(u); err == nil {
			d.Free()
			b.Fatalf("domain %s is still defined", u)
		}
	}
}
