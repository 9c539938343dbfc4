//go:build cgo

package libvirt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"libvirt.org/go/libvirt"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// undefiner is what removing a domain needs from libvirt: a
// *libvirt.Domain through domainOps, or, in the tests of the fallback, a
// driver that refuses what lxc or an old server would refuse.
type undefiner interface {
	UndefineFlags(libvirt.DomainUndefineFlagsValues) error
	Undefine() error
	ManagedSaveRemove(flags uint32) error
	// deleteSnapshotMetadata removes the metadata of every snapshot,
	// children first, keeping their data; it returns how many it removed.
	deleteSnapshotMetadata() (int, error)
	deleteCheckpointMetadata() (int, error)
}

// attempt is one UndefineFlags call of the fallback ladder.
type attempt struct {
	flags libvirt.DomainUndefineFlagsValues
	// drops names the flags this attempt leaves out compared with the one
	// before.
	drops string
}

const lastAttempt = 4

// attempts is the ladder, most complete first. A driver that does not know
// a flag refuses the call before doing anything (virCheckFlags: code
// VIR_ERR_INVALID_ARG), and a driver without the call says
// VIR_ERR_NO_SUPPORT; only then is the next attempt made. Every attempt
// carries every flag the driver has not refused: qemu deletes snapshot
// metadata before it checks for a managed save, so a call with only some
// flags can fail after partly succeeding.
//
// The order follows the flags' age: TPM (libvirt 8.9), checkpoints (5.6),
// NVRAM (1.2.9), then managed save and snapshots (0.9.5) together, since
// no driver takes one without the other. What an attempt leaves out is
// removed by separate calls first where libvirt has one (checkpoint and
// snapshot metadata, the managed-save image).
func attempts() []attempt {
	const (
		ms    = libvirt.DOMAIN_UNDEFINE_MANAGED_SAVE
		snap  = libvirt.DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
		chk   = libvirt.DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
		nvram = libvirt.DOMAIN_UNDEFINE_NVRAM
		tpm   = libvirt.DOMAIN_UNDEFINE_TPM
	)
	return []attempt{
		{ms | snap | chk | nvram | tpm, ""},
		{ms | snap | chk | nvram, "TPM"},
		{ms | snap | nvram, "CHECKPOINTS_METADATA"},
		{ms | snap, "NVRAM"},
		{0, "MANAGED_SAVE|SNAPSHOTS_METADATA"},
	}
}

// flagNames spells undefine flags as libvirt names them, without the
// VIR_DOMAIN_UNDEFINE_ prefix.
func flagNames(f libvirt.DomainUndefineFlagsValues) string {
	var names []string
	for _, n := range []struct {
		f    libvirt.DomainUndefineFlagsValues
		name string
	}{
		{libvirt.DOMAIN_UNDEFINE_MANAGED_SAVE, "MANAGED_SAVE"},
		{libvirt.DOMAIN_UNDEFINE_SNAPSHOTS_METADATA, "SNAPSHOTS_METADATA"},
		{libvirt.DOMAIN_UNDEFINE_CHECKPOINTS_METADATA, "CHECKPOINTS_METADATA"},
		{libvirt.DOMAIN_UNDEFINE_NVRAM, "NVRAM"},
		{libvirt.DOMAIN_UNDEFINE_TPM, "TPM"},
	} {
		if f&n.f != 0 {
			names = append(names, n.name)
		}
	}
	if len(names) == 0 {
		return "no flags"
	}
	return strings.Join(names, "|")
}

// undefineResult says how a domain was undefined.
type undefineResult struct {
	// Flags are those of the call that undefined the domain.
	Flags libvirt.DomainUndefineFlagsValues
	// Refused lists the flags the driver refused.
	Refused []string
	// ByHand lists what separate calls removed before the undefine.
	ByHand []string
	// Left lists what the driver could not remove and may be left behind.
	Left []string
}

// unsupported reports whether err means the driver lacks a call or a flag.
func unsupported(err error) bool {
	return isCode(err, libvirt.ERR_INVALID_ARG, libvirt.ERR_NO_SUPPORT)
}

// undefineInactive undefines an inactive persistent domain described by f,
// starting at attempt start (earlier ones were refused for another domain
// of the same connection). The first attempt needs no facts; before any
// other, metadata (when not nil) fills in f's counts, NVRAM and TPM, which
// the fallback and its report need. It returns the attempt that answered:
// the one that undefined the domain, or the one that failed for a reason
// other than a refused flag.
func undefineInactive(u undefiner, f *domainFacts, metadata func(*domainFacts) error, start int) (undefineResult, int, error) {
	var res undefineResult
	steps := attempts()
	checkpointsDone := false
	for i := start; i < len(steps); i++ {
		if i > 0 {
			res.Refused = refusedUpTo(steps, i)
			if metadata != nil {
				if err := metadata(f); err != nil {
					return res, i, fmt.Errorf("reading the domain's metadata: %w", err)
				}
				metadata = nil
			}
		}
		if i >= 2 && f.Checkpoints > 0 && !checkpointsDone {
			checkpointsDone = true
			n, err := u.deleteCheckpointMetadata()
			switch {
			case unsupported(err):
				res.Left = append(res.Left, "the metadata of "+plural(f.Checkpoints, "checkpoint")+" (the driver cannot delete it)")
			case err != nil:
				return res, i, fmt.Errorf("deleting checkpoint metadata: %w", err)
			case n > 0:
				res.ByHand = append(res.ByHand, "the metadata of "+plural(n, "checkpoint"))
			}
		}
		if i == lastAttempt {
			switch err := u.ManagedSaveRemove(0); {
			case unsupported(err):
				if f.ManagedSave {
					res.Left = append(res.Left, "the managed-save image (the driver cannot remove it)")
				}
			case err != nil:
				return res, i, fmt.Errorf("removing the managed-save image: %w", err)
			default:
				res.ByHand = append(res.ByHand, "any managed-save image")
			}
			if f.Snapshots > 0 {
				n, err := u.deleteSnapshotMetadata()
				switch {
				case unsupported(err):
					res.Left = append(res.Left, "the metadata of "+plural(f.Snapshots, "snapshot")+" (the driver cannot delete metadata alone)")
				case err != nil:
					return res, i, fmt.Errorf("deleting snapshot metadata: %w", err)
				case n > 0:
					res.ByHand = append(res.ByHand, "the metadata of "+plural(n, "snapshot"))
				}
			}
		}
		err := u.UndefineFlags(steps[i].flags)
		if i == lastAttempt && isCode(err, libvirt.ERR_NO_SUPPORT) {
			err = u.Undefine()
		}
		if err == nil {
			res.Flags = steps[i].flags
			if i >= 1 && f.TPM {
				res.Left = append(res.Left, "the TPM state, unless the driver removes it by default")
			}
			if i >= 3 && f.NVRAM != "" {
				res.Left = append(res.Left, "the NVRAM file "+quote(f.NVRAM))
			}
			return res, i, nil
		}
		if !unsupported(err) || i == lastAttempt {
			return res, i, err
		}
	}
	return res, len(steps), errors.New("no undefine attempt left")
}

func refusedUpTo(steps []attempt, i int) []string {
	var out []string
	for j := 1; j <= i && j < len(steps); j++ {
		out = append(out, steps[j].drops)
	}
	return out
}

// domainOps adapts *libvirt.Domain to undefiner.
type domainOps struct{ *libvirt.Domain }

func (d domainOps) deleteSnapshotMetadata() (int, error) {
	snaps, err := d.ListAllSnapshots(0)
	if err != nil {
		return 0, err
	}
	defer func() {
		for i := range snaps {
			snaps[i].Free()
		}
	}()
	byName := map[string]*libvirt.DomainSnapshot{}
	var order []metaXML
	for i := range snaps {
		name, err := snaps[i].GetName()
		if err != nil {
			return 0, err
		}
		x, err := snaps[i].GetXMLDesc(0)
		if err != nil {
			return 0, err
		}
		byName[name] = &snaps[i]
		order = append(order, newMetaXML(name, x, false))
	}
	order = topological(order)
	slices.Reverse(order) // children first
	n := 0
	for _, m := range order {
		if err := byName[m.Name].Delete(libvirt.DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY); err != nil && !isCode(err, libvirt.ERR_NO_DOMAIN_SNAPSHOT) {
			return n, err
		}
		n++
	}
	return n, nil
}

func (d domainOps) deleteCheckpointMetadata() (int, error) {
	cps, err := d.ListAllCheckpoints(0)
	if err != nil {
		return 0, err
	}
	defer func() {
		for i := range cps {
			cps[i].Free()
		}
	}()
	byName := map[string]*libvirt.DomainCheckpoint{}
	var order []metaXML
	for i := range cps {
		name, err := cps[i].GetName()
		if err != nil {
			return 0, err
		}
		x, err := cps[i].GetXMLDesc(0)
		if err != nil {
			return 0, err
		}
		byName[name] = &cps[i]
		order = append(order, newMetaXML(name, x, false))
	}
	order = topological(order)
	slices.Reverse(order)
	n := 0
	for _, m := range order {
		if err := byName[m.Name].Delete(libvirt.DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY); err != nil && !isCode(err, libvirt.ERR_NO_DOMAIN_CHECKPOINT) {
			return n, err
		}
		n++
	}
	return n, nil
}

// remove removes one domain: a transient one is destroyed; a persistent
// one is destroyed if it still runs, then undefined with every flag.
func (p *plugin) remove(ctx context.Context, conn *libvirt.Connect, planned *domainFacts) sdk.ExecuteResponse {
	log := sdk.Logger(ctx)
	d, err := conn.LookupDomainByUUIDString(planned.UUID)
	if isCode(err, libvirt.ERR_NO_DOMAIN) {
		return sdk.ExecuteResponse{Outcome: "already gone"}
	}
	if err != nil {
		return failed(fmt.Sprintf("looking up libvirt domain %s to remove it: %s", planned.label(), lvMessage(err)), "")
	}
	defer d.Free()
	f := &domainFacts{UUID: planned.UUID, RecordLine: planned.RecordLine, Tagged: planned.Tagged}
	if err := inspectState(ctx, d, f); err != nil {
		if isCode(err, libvirt.ERR_NO_DOMAIN) {
			return sdk.ExecuteResponse{Outcome: "already gone"}
		}
		return failed(fmt.Sprintf("reading the state of libvirt domain %s: %s", planned.label(), lvMessage(err)), "")
	}
	if f.Name != planned.Name {
		return failed(fmt.Sprintf("libvirt domain %s was renamed %s since the plan was made; it is left alone", planned.label(), quote(f.Name)),
			"run engine-cleanup again to plan with its current name")
	}
	byHand := fmt.Sprintf("virsh undefine --managed-save --snapshots-metadata --checkpoints-metadata --nvram %s", f.UUID)

	if !f.Persistent {
		if err := d.Destroy(); err != nil && !isCode(err, libvirt.ERR_NO_DOMAIN) {
			return failed(fmt.Sprintf("destroying transient libvirt domain %s: %s", f.label(), lvMessage(err)),
				"destroy it by hand (virsh destroy "+f.UUID+"), then run engine-cleanup again")
		}
		if msg := stillThere(conn, f); msg != "" {
			return failed(msg, "destroy it by hand (virsh destroy "+f.UUID+"), then run engine-cleanup again")
		}
		return sdk.ExecuteResponse{Changed: true, Outcome: "destroyed (transient: its metadata went with it)"}
	}
	if f.Active {
		log.Info("destroying before undefine", "domain", f.label())
		if err := d.Destroy(); err != nil {
			return failed(fmt.Sprintf("destroying libvirt domain %s before undefining it: %s", f.label(), lvMessage(err)),
				"stop it by hand (virsh destroy "+f.UUID+"), then run engine-cleanup again")
		}
	}
	p.mu.Lock()
	start := p.ladder
	p.mu.Unlock()
	res, at, err := undefineInactive(domainOps{d}, f, func(f *domainFacts) error { return inspectMetadata(d, f) }, start)
	p.mu.Lock()
	if at > p.ladder && at <= lastAttempt {
		p.ladder = at
	}
	p.mu.Unlock()
	if err != nil {
		msg := fmt.Sprintf("undefining libvirt domain %s: %s", f.label(), lvMessage(err))
		if len(res.Refused) > 0 {
			msg += "; the driver refused the flag(s) " + strings.Join(res.Refused, ", ")
		}
		if len(res.ByHand) > 0 {
			msg += "; already removed: " + strings.Join(res.ByHand, ", ")
		}
		if len(res.Left) > 0 {
			msg += "; cannot be removed through this driver: " + strings.Join(res.Left, ", ")
		}
		return failed(msg, "fix the cause, or undefine it by hand ("+byHand+"), then run engine-cleanup again")
	}
	if msg := stillThere(conn, f); msg != "" {
		return failed(msg, "undefine it by hand ("+byHand+"), then run engine-cleanup again")
	}
	log.Info("domain undefined", "domain", f.label(), "flags", flagNames(res.Flags), "refused", strings.Join(res.Refused, ","))
	outcome := "undefined with " + flagNames(res.Flags)
	if len(res.Refused) > 0 {
		outcome += " (the driver refused " + strings.Join(res.Refused, ", ") + ")"
	}
	if len(res.ByHand) > 0 {
		outcome += "; removed first: " + strings.Join(res.ByHand, ", ")
	}
	resp := sdk.ExecuteResponse{Changed: true, Outcome: outcome}
	if len(res.Left) > 0 {
		resp.Problems = append(resp.Problems, sdk.Warn(
			fmt.Sprintf("libvirt domain %s was undefined, but its driver could not remove %s", f.label(), strings.Join(res.Left, "; ")),
			"remove them by hand before a new domain with that name is defined"))
	}
	return resp
}

// stillThere returns a message when the domain still exists, "" when it
// is gone.
func stillThere(conn *libvirt.Connect, f *domainFacts) string {
	d, err := conn.LookupDomainByUUIDString(f.UUID)
	if isCode(err, libvirt.ERR_NO_DOMAIN) {
		return ""
	}
	if err != nil {
		return fmt.Sprintf("checking that libvirt domain %s is gone: %s", f.label(), lvMessage(err))
	}
	defer d.Free()
	active, _ := d.IsActive()
	persistent, _ := d.IsPersistent()
	return fmt.Sprintf("libvirt domain %s still exists after its removal (active %v, persistent %v)", f.label(), active, persistent)
}
