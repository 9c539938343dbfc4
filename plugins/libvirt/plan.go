//go:build cgo

package libvirt

import (
	"context"
	"fmt"
	"strings"
	"time"

	"libvirt.org/go/libvirt"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/files"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// Action IDs: stable for the same host, by domain UUID.
const (
	idStop   = "libvirt.stop"
	idBackup = "libvirt.backup."
	idRemove = "libvirt.remove."
	idForget = "libvirt.forget.record"
)

// build makes the plan from the current state of the domains, without
// changing anything.
func (p *plugin) build(ctx context.Context) ([]sdk.Action, []sdk.Problem) {
	p.plan, p.handlers = nil, map[string]handler{}
	if p.recordErr != nil {
		return nil, nil // Init refused the host
	}
	if p.conn == nil {
		// libvirt is unavailable or unreachable: Init said so, and refused
		// the host if a domain is recorded. A record naming none can go.
		if p.record != nil && len(p.record.Domains) == 0 {
			p.planForget()
		}
		return p.plan, nil
	}
	s := p.scan(ctx)
	var running []*domainFacts
	for _, f := range s.targets {
		if f.Persistent && f.Active {
			running = append(running, f)
		}
	}
	if len(running) > 0 {
		p.planStop(running)
	}
	for _, f := range s.targets {
		p.planBackup(f)
	}
	for _, f := range s.targets {
		p.planRemove(f)
	}
	if p.record != nil && s.mismatched == 0 {
		p.planForget()
	}
	return p.plan, s.problems
}

func (p *plugin) add(a sdk.Action, h handler) {
	p.plan = append(p.plan, a)
	p.handlers[a.ID] = h
}

func (p *plugin) planStop(running []*domainFacts) {
	var labels, res, uuids []string
	for _, f := range running {
		labels = append(labels, f.label())
		res = append(res, f.resource())
		uuids = append(uuids, f.UUID)
	}
	p.add(sdk.Action{ID: idStop, Stage: sdk.StageStop, Resources: res,
		Description: fmt.Sprintf("Shut down running libvirt domain(s) %s; destroy any still running after %s",
			strings.Join(labels, ", "), p.opts.shutdownTimeout)},
		func(ctx context.Context, conn *libvirt.Connect, progress func(sdk.Progress)) sdk.ExecuteResponse {
			return stop(ctx, conn, uuids, p.opts.shutdownTimeout, progress)
		})
}

func (p *plugin) planBackup(f *domainFacts) {
	facts := *f
	p.add(sdk.Action{ID: idBackup + f.UUID, Stage: sdk.StageBackup, Resources: []string{f.resource()},
		Description: fmt.Sprintf("Back up the XML of libvirt domain %s, of its %s and of its %s",
			f.label(), plural(f.Snapshots, "snapshot"), plural(f.Checkpoints, "checkpoint"))},
		func(ctx context.Context, conn *libvirt.Connect, _ func(sdk.Progress)) sdk.ExecuteResponse {
			return backup(ctx, conn, p.env, &facts)
		})
}

func (p *plugin) planRemove(f *domainFacts) {
	facts := *f
	var d string
	if f.Persistent {
		var with []string
		if f.Active {
			with = append(with, "destroy it if still running")
		}
		saved := "any managed-save image" // the cached flag can be stale: removed either way
		if f.ManagedSave {
			saved = "its managed-save image"
		}
		with = append(with, "undefine it with "+saved,
			fmt.Sprintf("the metadata of its %s and %s", plural(f.Snapshots, "snapshot"), plural(f.Checkpoints, "checkpoint")))
		if f.NVRAM != "" {
			with = append(with, "its NVRAM file "+quote(f.NVRAM))
		}
		d = fmt.Sprintf("Remove libvirt domain %s: %s", f.label(), strings.Join(with, ", "))
	} else {
		d = fmt.Sprintf("Destroy transient libvirt domain %s; its snapshot and checkpoint metadata go with it", f.label())
	}
	p.add(sdk.Action{ID: idRemove + f.UUID, Stage: sdk.StageRemove, Description: d, Resources: []string{f.resource()}},
		func(ctx context.Context, conn *libvirt.Connect, _ func(sdk.Progress)) sdk.ExecuteResponse {
			return p.remove(ctx, conn, &facts)
		})
}

func (p *plugin) planForget() {
	p.add(sdk.Action{ID: idForget, Stage: sdk.StageForget, Resources: []string{RecordFile},
		Description: "Remove the record of the installation's libvirt domains " + RecordFile},
		func(ctx context.Context, conn *libvirt.Connect, _ func(sdk.Progress)) sdk.ExecuteResponse {
			return p.forget(ctx, conn)
		})
}

// stop asks every running domain of uuids to shut down, all at once, waits
// up to the shutdown timeout, then destroys those still running. A paused,
// crashed or suspended domain cannot shut down, so it is destroyed at once.
func stop(ctx context.Context, conn *libvirt.Connect, uuids []string, timeout time.Duration, progress func(sdk.Progress)) sdk.ExecuteResponse {
	log := sdk.Logger(ctx)
	type domain struct {
		d           *libvirt.Domain
		uuid, label string
	}
	var waiting []domain
	defer func() {
		for _, w := range waiting {
			w.d.Free()
		}
	}()
	already, destroyed := 0, 0
	var problems []sdk.Problem
	destroy := func(w domain) {
		err := w.d.Destroy()
		if active, aerr := w.d.IsActive(); aerr == nil && !active {
			destroyed++
			return
		}
		if err == nil {
			err = fmt.Errorf("still active after being destroyed")
		}
		problems = append(problems, sdk.Blocker(sdk.KindGeneral,
			fmt.Sprintf("cannot stop libvirt domain %s: %s", w.label, lvMessage(err)),
			fmt.Sprintf("stop it by hand (virsh destroy %s), then run engine-cleanup again", w.uuid)))
	}
	for _, uuid := range uuids {
		d, err := conn.LookupDomainByUUIDString(uuid)
		if isCode(err, libvirt.ERR_NO_DOMAIN) {
			already++
			continue
		}
		if err != nil {
			return failed(fmt.Sprintf("looking up libvirt domain %s to stop it: %s", uuid, lvMessage(err)), "")
		}
		name, _ := d.GetName()
		w := domain{d: d, uuid: uuid, label: fmt.Sprintf("%s (%s)", quote(name), uuid)}
		if persistent, err := d.IsPersistent(); err == nil && !persistent {
			// Undefined by someone since the plan: stopping it now would
			// take its metadata before the backup. The remove stage
			// destroys it, after the backup.
			log.Info("now transient; left for the remove stage", "domain", w.label)
			d.Free()
			continue
		}
		state, _, err := d.GetState()
		switch {
		case err != nil && isCode(err, libvirt.ERR_NO_DOMAIN):
			already++
			d.Free()
			continue
		case err != nil:
			d.Free()
			return failed(fmt.Sprintf("reading the state of libvirt domain %s: %s", w.label, lvMessage(err)), "")
		case state == libvirt.DOMAIN_SHUTOFF:
			already++
			d.Free()
			continue
		case state == libvirt.DOMAIN_RUNNING || state == libvirt.DOMAIN_BLOCKED || state == libvirt.DOMAIN_SHUTDOWN:
			if err := d.Shutdown(); err != nil {
				log.Info("shutdown refused; destroying", "domain", w.label, "error", lvMessage(err))
				destroy(w)
				d.Free()
				continue
			}
			waiting = append(waiting, w)
		default:
			destroy(w)
			d.Free()
		}
	}
	total := int64(len(uuids))
	shutDown := 0
	deadline := time.Now().Add(timeout)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for len(waiting) > 0 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return failed("interrupted while waiting for libvirt domains to shut down: "+ctx.Err().Error(), "run engine-cleanup again")
		case <-timer.C:
		}
		rest := waiting[:0]
		for _, w := range waiting {
			if active, err := w.d.IsActive(); err == nil && !active || isCode(err, libvirt.ERR_NO_DOMAIN) {
				shutDown++
				w.d.Free()
				continue
			}
			rest = append(rest, w)
		}
		waiting = rest
		progress(sdk.Progress{Message: "waiting for libvirt domains to shut down",
			Done: int64(already + destroyed + shutDown), Total: total})
		timer.Reset(shutdownPoll)
	}
	for _, w := range waiting {
		log.Info("not shut down in time; destroying", "domain", w.label, "timeout", timeout)
		destroy(w)
	}
	if len(problems) > 0 {
		return sdk.ExecuteResponse{Changed: shutDown+destroyed > 0, Problems: problems}
	}
	if shutDown+destroyed == 0 {
		return sdk.ExecuteResponse{Outcome: "already stopped"}
	}
	return sdk.ExecuteResponse{Changed: true, Outcome: fmt.Sprintf("%d shut down, %d destroyed", shutDown, destroyed)}
}

// forget removes RecordFile, but only once every domain it names is gone:
// while one exists, the record is what finds it again.
func (p *plugin) forget(ctx context.Context, conn *libvirt.Connect) sdk.ExecuteResponse {
	if p.record != nil && len(p.record.Domains) > 0 {
		if conn == nil {
			return failed("cannot check that the recorded libvirt domains are gone: libvirt is not connected", "")
		}
		for _, r := range p.record.Domains {
			d, err := conn.LookupDomainByUUIDString(r.UUID)
			if err == nil {
				d.Free()
				return failed(fmt.Sprintf("recorded libvirt domain %s (%s) still exists, so its record %s is kept", quote(r.Name), r.UUID, p.record.Path),
					"remove the domain (run engine-cleanup again), then the record goes too")
			}
			if !isCode(err, libvirt.ERR_NO_DOMAIN) {
				return failed(fmt.Sprintf("checking that recorded libvirt domain %s (%s) is gone: %s", quote(r.Name), r.UUID, lvMessage(err)), "")
			}
		}
	}
	out, err := files.Remove(p.env.Root, RecordFile)
	if err != nil {
		return failed("removing the record of the libvirt domains: "+err.Error(), "")
	}
	return sdk.ExecuteResponse{Changed: out == files.Removed, Outcome: string(out)}
}
