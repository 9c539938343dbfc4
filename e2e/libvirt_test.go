package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"libvirt.org/go/libvirt"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/libvirtd"
)

// Domains a site's libvirt holds: one recorded by UUID, one tagged with
// engine-cleanup's metadata, one unrelated that must survive.
var siteDomains = []struct {
	name, uuid, how string
}{
	{"hosted-engine", "6695eb01-f6a4-8304-79aa-97f2502e193f", "recorded"},
	{"engine-appliance", "0f6e24a1-54b4-4e5c-9a5a-8b0b4bd1c0de", "tagged"},
	{"unrelated-vm", "3b0c6a52-5e0f-4c1e-9d41-7a2f0e6c9b11", "unrelated"},
}

// addDomains starts a private libvirtd for the site and defines its
// domains, each with a snapshot tree s1 -> s2 -> s3 (current s3).
func (s *site) addDomains(t testing.TB) {
	d := libvirtd.Start(t)
	c := d.Connect(t)
	created := time.Now().Add(-time.Hour).Unix()
	for _, dom := range siteDomains {
		spec := libvirtd.DomainSpec{Name: dom.name, UUID: dom.uuid}
		if dom.how == "tagged" {
			spec.Metadata = `<ec:installation xmlns:ec="http://ovirt.org/ns/engine-cleanup/1.0"/>`
		}
		xml := d.DomainXML(spec)
		domain, err := c.DomainDefineXML(xml)
		if err != nil {
			t.Fatalf("defining %s: %v", dom.name, err)
		}
		for i, name := range []string{"s1", "s2", "s3"} {
			parent := ""
			if i > 0 {
				parent = fmt.Sprintf("s%d", i)
			}
			flags := libvirt.DOMAIN_SNAPSHOT_CREATE_REDEFINE
			if i == 2 {
				flags |= libvirt.DOMAIN_SNAPSHOT_CREATE_CURRENT
			}
			snap, err := domain.CreateSnapshotXML(libvirtd.SnapshotXML(name, parent, created+int64(i), xml), flags)
			if err != nil {
				t.Fatalf("snapshot %s of %s: %v", name, dom.name, err)
			}
			snap.Free()
		}
		domain.Free()
	}
	rec := s.host.Path("/etc/ovirt-engine/engine-cleanup.d/libvirt-domains.conf")
	if err := os.MkdirAll(filepath.Dir(rec), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rec, []byte(siteDomains[0].uuid+" "+siteDomains[0].name+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.libvirt, s.libvirtConn = d, c
	s.args = append(s.args, "--libvirt-uri", d.URI())
}

// domainStates says, for each domain of the site, whether it exists with
// how many snapshots, and what state files it left in the daemon.
func (s *site) domainStates() map[string]string {
	out := map[string]string{}
	if s.libvirt == nil {
		return out
	}
	for _, dom := range siteDomains {
		state := "gone"
		if d, err := s.libvirtConn.LookupDomainByUUIDString(dom.uuid); err == nil {
			n, _ := d.SnapshotNum(0)
			state = fmt.Sprintf("defined with %d snapshots", n)
			d.Free()
		}
		if left := s.libvirt.Leftovers(dom.name); len(left) > 0 && state == "gone" {
			state += ", leftovers " + strings.Join(left, ",")
		}
		out["libvirt:"+dom.name] = state
	}
	return out
}
