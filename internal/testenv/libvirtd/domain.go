package libvirtd

import (
	"fmt"
	"html"
	"path/filepath"
	"strings"
)

// DomainSpec describes a test domain: a TCG guest of 64 MiB with no disk
// unless Disk is set.
type DomainSpec struct {
	Name, UUID string
	// Disk, when set, is the path of a qcow2 disk image (it need not
	// exist while the domain does not run): qemu keeps checkpoint metadata
	// only for a domain with a qcow2 disk.
	Disk string
	// NVRAM, when set, is the path of the domain's NVRAM file, and the
	// domain gets a UEFI loader (a dummy: such a domain is never started).
	// Undefine refuses such a domain unless told what to do with the
	// file, if it exists.
	NVRAM string
	// Metadata is raw XML placed inside <metadata>.
	Metadata string
}

// DomainXML is the XML of a domain for daemon d: type qemu (TCG, no
// /dev/kvm needed), 64 MiB, no network, no graphics.
func (d *Daemon) DomainXML(s DomainSpec) string {
	return domainXML(s, filepath.Join(d.DataDir(), "loader.fd"))
}

func domainXML(s DomainSpec, loader string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<domain type='qemu'>\n  <name>%s</name>\n  <uuid>%s</uuid>\n", html.EscapeString(s.Name), s.UUID)
	if s.Metadata != "" {
		fmt.Fprintf(&b, "  <metadata>%s</metadata>\n", s.Metadata)
	}
	b.WriteString("  <memory unit='MiB'>64</memory>\n  <vcpu>1</vcpu>\n  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n")
	if s.NVRAM != "" {
		fmt.Fprintf(&b, "    <loader readonly='yes' type='pflash'>%s</loader>\n    <nvram>%s</nvram>\n",
			html.EscapeString(loader), html.EscapeString(s.NVRAM))
	}
	b.WriteString("  </os>\n")
	if s.NVRAM != "" {
		b.WriteString("  <features><acpi/></features>\n")
	}
	b.WriteString("  <on_poweroff>destroy</on_poweroff>\n  <devices>\n    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n")
	if s.Disk != "" {
		fmt.Fprintf(&b, "    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n      <source file='%s'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n",
			html.EscapeString(s.Disk))
	}
	b.WriteString("    <video><model type='none'/></video>\n    <memballoon model='none'/>\n  </devices>\n</domain>\n")
	return b.String()
}

// SnapshotXML is the XML that redefines a snapshot of an inactive domain:
// name, parent ("" for a root), creation time and the domain's XML, which
// redefinition requires.
func SnapshotXML(name, parent string, created int64, domainXML string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<domainsnapshot>\n  <name>%s</name>\n  <state>shutoff</state>\n", html.EscapeString(name))
	if parent != "" {
		fmt.Fprintf(&b, "  <parent><name>%s</name></parent>\n", html.EscapeString(parent))
	}
	fmt.Fprintf(&b, "  <creationTime>%d</creationTime>\n  <memory snapshot='no'/>\n%s</domainsnapshot>\n", created, domainXML)
	return b.String()
}

// CheckpointXML is the XML that redefines a checkpoint with a bitmap on
// disk vda, of a domain with a qcow2 disk.
func CheckpointXML(name, parent string, created int64, domainXML string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<domaincheckpoint>\n  <name>%s</name>\n", html.EscapeString(name))
	if parent != "" {
		fmt.Fprintf(&b, "  <parent><name>%s</name></parent>\n", html.EscapeString(parent))
	}
	fmt.Fprintf(&b, "  <creationTime>%d</creationTime>\n  <disks><disk name='vda' checkpoint='bitmap' bitmap='%s'/></disks>\n%s</domaincheckpoint>\n",
		created, html.EscapeString(name), domainXML)
	return b.String()
}
