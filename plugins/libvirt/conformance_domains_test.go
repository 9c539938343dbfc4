//go:build cgo

package libvirt_test

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	golibvirt "libvirt.org/go/libvirt"

	"github.com/engine-cleanup/engine-cleanup/plugins/libvirt"
	"github.com/engine-cleanup/engine-cleanup/sdk/sdktest"
)

// TestConformanceWithDomains runs the conformance kit on hosts whose record
// names a domain of libvirt's test driver (test:///default, which every
// connection of this process shares): persistent, shut off with a managed
// save, with a parent and a child snapshot. Every host gets a domain of
// its own, so the hosts of the kit do not see each other's; the copy the
// kit keeps next to the root records another one, which must survive.
func TestConformanceWithDomains(t *testing.T) {
	conn, err := golibvirt.NewConnect("test:///default")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	sdktest.Run(t, sdktest.Config{New: libvirt.New, Setup: func(t testing.TB, root string) {
		uuid := newUUID(t)
		name := "conformance-" + uuid[:8]
		dom, err := conn.DomainDefineXML(fmt.Sprintf(
			"<domain type='test'><name>%s</name><uuid>%s</uuid><memory>65536</memory><os><type>hvm</type></os></domain>", name, uuid))
		if err != nil {
			t.Fatalf("defining %s: %v", name, err)
		}
		defer dom.Free()
		t.Cleanup(func() {
			if d, err := conn.LookupDomainByUUIDString(uuid); err == nil {
				d.Destroy()
				d.UndefineFlags(golibvirt.DOMAIN_UNDEFINE_MANAGED_SAVE | golibvirt.DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
				d.Free()
			}
		})
		if err := dom.Create(); err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"parent", "child"} {
			snap, err := dom.CreateSnapshotXML("<domainsnapshot><name>"+s+"</name></domainsnapshot>", 0)
			if err != nil {
				t.Fatalf("snapshot %s: %v", s, err)
			}
			snap.Free()
		}
		if err := dom.ManagedSave(0); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(root, libvirt.RecordFile)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(uuid+" "+name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}})
}

func newUUID(t testing.TB) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
