//go:build cgo

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"libvirt.org/go/libvirt"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/libvirtd"
	lvplugin "github.com/engine-cleanup/engine-cleanup/plugins/libvirt"
)

// libvirtHost is the libvirt part of the host: a private libvirtd
// (internal/testenv/libvirtd) holding the installation's domains and one
// that must survive.
type libvirtHost struct {
	d *libvirtd.Daemon
	// domains are the installation's (recorded, then tagged); keep is
	// unrelated and must survive.
	domains []lvDomain
	keep    lvDomain
}

type lvDomain struct {
	name, uuid, how string
	managedSave     bool
}

// lvSnapshots is the snapshot tree of every domain: s1 -> s2 -> s3, s3
// current.
var lvSnapshots = []string{"s1", "s2", "s3"}

// addLibvirtDomains gives the host the domains an oVirt installation
// leaves in libvirt: when libvirtd can run here, it starts a private
// daemon and defines three TCG domains with snapshot trees: one recorded
// by UUID in the record file (with a managed save), one carrying the
// metadata tag, and one unrelated that must survive. s.libvirtURI then
// names the daemon. Otherwise it prints a note and leaves s.libvirtURI
// naming the empty test-driver host.
func addLibvirtDomains(ctx context.Context, s *site) error {
	done := s.times.start("libvirtd and domains")
	defer done()
	d, err := libvirtd.StartDaemon()
	if err != nil {
		fmt.Fprintf(s.out, "note: no private libvirtd, the host has no libvirt domain: %s\n", firstLine(err))
		return nil
	}
	lh := &libvirtHost{d: d,
		domains: []lvDomain{
			{name: "hosted-engine", uuid: "6695eb01-f6a4-8304-79aa-97f2502e193f", how: "recorded", managedSave: true},
			{name: "engine-appliance", uuid: "0f6e24a1-54b4-4e5c-9a5a-8b0b4bd1c0de", how: "tagged"},
		},
		keep: lvDomain{name: "unrelated-vm", uuid: "3b0c6a52-5e0f-4c1e-9d41-7a2f0e6c9b11", how: "unrelated"},
	}
	s.libvirt = lh // from now on, teardown stops the daemon
	c, err := d.ConnectErr()
	if err != nil {
		return err
	}
	defer c.Close()
	for _, dom := range append(lh.domains, lh.keep) {
		if err := ctx.Err(); err != nil {
			return err
		}
		spec := libvirtd.DomainSpec{Name: dom.name, UUID: dom.uuid}
		if dom.how == "tagged" {
			spec.Metadata = fmt.Sprintf(`<ec:installation xmlns:ec="%s"/>`, lvplugin.MetadataNamespace)
		}
		if err := defineDomain(c, d.DomainXML(spec), dom.managedSave); err != nil {
			return fmt.Errorf("domain %s: %w", dom.name, err)
		}
	}
	rec := filepath.Join(s.root, filepath.FromSlash(lvplugin.RecordFile))
	if err := os.MkdirAll(filepath.Dir(rec), 0o755); err != nil {
		return err
	}
	r := lh.domains[0]
	line := fmt.Sprintf("# domains of this engine installation (sandbox)\n%s %s\n", r.uuid, r.name)
	if err := os.WriteFile(rec, []byte(line), 0o644); err != nil {
		return fmt.Errorf("write the libvirt record: %w", err)
	}
	s.libvirtURI = d.URI()
	return nil
}

// defineDomain defines a domain, redefines its snapshot tree and, with
// managedSave, starts it and saves it (1.5 to 2 s of TCG).
func defineDomain(c *libvirt.Connect, xml string, managedSave bool) error {
	dom, err := c.DomainDefineXML(xml)
	if err != nil {
		return err
	}
	defer dom.Free()
	created := time.Now().Add(-time.Hour).Unix()
	for i, name := range lvSnapshots {
		parent := ""
		if i > 0 {
			parent = lvSnapshots[i-1]
		}
		flags := libvirt.DOMAIN_SNAPSHOT_CREATE_REDEFINE
		if i == len(lvSnapshots)-1 {
			flags |= libvirt.DOMAIN_SNAPSHOT_CREATE_CURRENT
		}
		snap, err := dom.CreateSnapshotXML(libvirtd.SnapshotXML(name, parent, created+int64(i), xml), flags)
		if err != nil {
			return fmt.Errorf("redefine snapshot %s: %w", name, err)
		}
		snap.Free()
	}
	if managedSave {
		if err := dom.Create(); err != nil {
			return fmt.Errorf("start: %w", err)
		}
		if err := dom.ManagedSave(0); err != nil {
			return fmt.Errorf("managed save: %w", err)
		}
	}
	return nil
}

// describeLibvirt is the libvirt line of describe.
func (s *site) describeLibvirt(w io.Writer) {
	lh := s.libvirt
	if lh == nil {
		fmt.Fprintf(w, "libvirt      %s: no domains (no private libvirtd here)\n", s.libvirtURI)
		return
	}
	fmt.Fprintf(w, "libvirt      private libvirtd %d (qemu driver), %s\n", lh.d.PID(), s.libvirtURI)
	for _, dom := range append(lh.domains, lh.keep) {
		extra := ""
		if dom.managedSave {
			extra = ", managed save"
		}
		what := map[string]string{"recorded": "recorded by UUID in " + lvplugin.RecordFile,
			"tagged": "tagged <ec:installation/>", "unrelated": "neither: must survive"}[dom.how]
		fmt.Fprintf(w, "  %-16s %s, snapshots %s (current %s)%s; %s\n", dom.name, dom.uuid,
			strings.Join(lvSnapshots, "->"), lvSnapshots[len(lvSnapshots)-1], extra, what)
	}
}

// libvirtOutcome prints what became of the domains and returns what
// differs from a full cleanup: the installation's domains gone with no
// definition, managed save or snapshot metadata left in the daemon, a
// backup of each, the unrelated domain intact with its snapshots, the
// record forgotten. An interactive run (not strict) may have been told to
// stop before the removal: then only the unrelated domain is checked.
func (s *site) libvirtOutcome(backupsBefore map[string]bool, strict bool) []string {
	lh := s.libvirt
	if lh == nil {
		return nil
	}
	w := s.out
	var problems, removal []string
	fmt.Fprintf(w, "libvirt domains:\n")
	c, err := lh.d.ConnectErr()
	if err != nil {
		return []string{err.Error()}
	}
	defer c.Close()
	for _, dom := range lh.domains {
		left := lh.d.Leftovers(dom.name)
		state := "gone, nothing left in the daemon"
		if d, err := c.LookupDomainByUUIDString(dom.uuid); err == nil {
			d.Free()
			state = "STILL DEFINED"
			removal = append(removal, fmt.Sprintf("libvirt domain %s (%s) is still defined", dom.name, dom.how))
		} else if lerr, ok := errors.AsType[libvirt.Error](err); !ok || lerr.Code != libvirt.ERR_NO_DOMAIN {
			problems = append(problems, fmt.Sprintf("look up libvirt domain %s: %v", dom.name, err))
		}
		if len(left) > 0 {
			state += fmt.Sprintf("; LEFT %s", strings.Join(left, ", "))
			removal = append(removal, fmt.Sprintf("libvirt domain %s left %s", dom.name, strings.Join(left, ", ")))
		}
		backups, _ := filepath.Glob(filepath.Join(s.root, filepath.FromSlash(lvplugin.BackupDir),
			lvplugin.BackupPrefix+dom.name+"-"+dom.uuid+"-*"+lvplugin.BackupSuffix))
		fresh := 0
		for _, b := range backups {
			if !backupsBefore[lvplugin.BackupDir+"/"+filepath.Base(b)] {
				fresh++
			}
		}
		if fresh == 0 {
			removal = append(removal, fmt.Sprintf("no new libvirt backup of %s in %s", dom.name, lvplugin.BackupDir))
		}
		fmt.Fprintf(w, "  %-16s %s (%s); %d new backup\n", dom.name, state, dom.how, fresh)
	}
	state := "kept"
	if d, err := c.LookupDomainByUUIDString(lh.keep.uuid); err != nil {
		state = "GONE"
		problems = append(problems, fmt.Sprintf("the unrelated libvirt domain %s is gone: %v", lh.keep.name, err))
	} else {
		n, err := d.SnapshotNum(0)
		d.Free()
		state = fmt.Sprintf("kept, %d snapshots", n)
		if err != nil || n != len(lvSnapshots) {
			problems = append(problems, fmt.Sprintf("the unrelated libvirt domain %s has %d snapshots (%v), want %d",
				lh.keep.name, n, err, len(lvSnapshots)))
		}
	}
	fmt.Fprintf(w, "  %-16s %s (%s)\n", lh.keep.name, state, lh.keep.how)
	if _, err := os.Lstat(filepath.Join(s.root, filepath.FromSlash(lvplugin.RecordFile))); err == nil {
		removal = append(removal, fmt.Sprintf("the libvirt record %s was not removed", lvplugin.RecordFile))
	}
	if strict {
		problems = append(problems, removal...)
	}
	return problems
}

// libvirtPIDs are the daemon and any process naming its directory (the
// qemu of a running guest).
func (s *site) libvirtPIDs() []int {
	if s.libvirt == nil {
		return nil
	}
	pids := []int{s.libvirt.d.PID()}
	dir := []byte(s.libvirt.d.Dir() + "/")
	for _, pid := range allPIDs() {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && bytes.Contains(b, dir) && pid != pids[0] {
			pids = append(pids, pid)
		}
	}
	return pids
}

// stopLibvirt stops the daemon with its domains (Close: destroy, undefine
// with every flag, SIGTERM by PID, qemu leftovers killed by PID, directory
// removed); with keep it first copies the daemon's log into logs.
func (s *site) stopLibvirt(keep bool, logs string) error {
	lh := s.libvirt
	if lh == nil {
		return nil
	}
	var errs []error
	if keep {
		errs = append(errs, copyFile(lh.d.LogPath(), filepath.Join(logs, "libvirtd.log")))
	}
	pid, dir := lh.d.PID(), lh.d.Dir()
	if err := lh.d.Close(); err != nil {
		errs = append(errs, err)
	} else {
		fmt.Fprintf(s.out, "libvirtd %d stopped with its domains; %s removed\n", pid, dir)
	}
	return errors.Join(errs...)
}

func firstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}
