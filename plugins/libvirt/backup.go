//go:build cgo

package libvirt

import (
	"context"
	"fmt"
	"time"

	"libvirt.org/go/libvirt"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// backup writes the archive of one domain, read as it is now.
func backup(ctx context.Context, conn *libvirt.Connect, env sdk.Environment, f *domainFacts) sdk.ExecuteResponse {
	d, err := conn.LookupDomainByUUIDString(f.UUID)
	if isCode(err, libvirt.ERR_NO_DOMAIN) {
		return sdk.ExecuteResponse{Outcome: "already gone: nothing to back up"}
	}
	if err != nil {
		return failed(fmt.Sprintf("looking up libvirt domain %s to back it up: %s", f.label(), lvMessage(err)), "")
	}
	defer d.Free()
	c, err := captureDomain(ctx, d, f.UUID, env.LibvirtURI)
	if err != nil {
		return failed(fmt.Sprintf("reading the XML of libvirt domain %s: %s", f.label(), lvMessage(err)),
			"nothing was removed; fix the cause and run engine-cleanup again")
	}
	runID := env.RunID
	if runID == "" {
		runID = time.Now().Format("20060102150405")
	}
	path, err := writeBackup(ctx, env.Root, BackupDir, c, runID, time.Now())
	if err != nil {
		return failed(fmt.Sprintf("backing up libvirt domain %s: %v", f.label(), err),
			"nothing was removed; free space or fix the cause, then run engine-cleanup again")
	}
	sdk.Logger(ctx).Info("domain backed up", "domain", f.label(), "file", path,
		"snapshots", len(c.Snapshots), "checkpoints", len(c.Checkpoints))
	return sdk.ExecuteResponse{Changed: true, Outcome: "written",
		Backups: []sdk.Backup{{Path: path, Description: fmt.Sprintf(
			"libvirt domain %s with the XML of its %s and %s (unpack it and see %s to restore)",
			fmt.Sprintf("%s (%s)", quote(c.Name), c.UUID), plural(len(c.Snapshots), "snapshot"),
			plural(len(c.Checkpoints), "checkpoint"), RestoreNote)}}}
}

// captureDomain reads the secure XML of a domain (its persistent
// definition when it has one), of every snapshot, marking the current
// one, and of every checkpoint.
func captureDomain(ctx context.Context, d *libvirt.Domain, uuid, uri string) (*capture, error) {
	c := &capture{UUID: uuid, URI: uri}
	var err error
	if c.Name, err = d.GetName(); err != nil {
		return nil, err
	}
	if c.Persistent, err = d.IsPersistent(); err != nil {
		return nil, err
	}
	flags := libvirt.DOMAIN_XML_SECURE
	if c.Persistent {
		flags |= libvirt.DOMAIN_XML_INACTIVE
	}
	if c.DomainXML, err = d.GetXMLDesc(flags); err != nil {
		return nil, err
	}

	snaps, err := d.ListAllSnapshots(0)
	if isCode(err, libvirt.ERR_NO_SUPPORT) {
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing snapshots: %w", err)
	}
	defer func() {
		for i := range snaps {
			snaps[i].Free()
		}
	}()
	for i := range snaps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s := &snaps[i]
		name, err := s.GetName()
		if err != nil {
			return nil, err
		}
		x, err := s.GetXMLDesc(libvirt.DOMAIN_SNAPSHOT_XML_SECURE)
		if err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", quote(name), err)
		}
		current, err := s.IsCurrent(0)
		if err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", quote(name), err)
		}
		c.Snapshots = append(c.Snapshots, newMetaXML(name, x, current))
	}
	c.Snapshots = topological(c.Snapshots)

	cps, err := d.ListAllCheckpoints(0)
	if isCode(err, libvirt.ERR_NO_SUPPORT) {
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing checkpoints: %w", err)
	}
	defer func() {
		for i := range cps {
			cps[i].Free()
		}
	}()
	for i := range cps {
		cp := &cps[i]
		name, err := cp.GetName()
		if err != nil {
			return nil, err
		}
		x, err := cp.GetXMLDesc(libvirt.DOMAIN_CHECKPOINT_XML_SECURE)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", quote(name), err)
		}
		c.Checkpoints = append(c.Checkpoints, newMetaXML(name, x, false))
	}
	c.Checkpoints = topological(c.Checkpoints)
	return c, nil
}
