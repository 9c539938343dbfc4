package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/component"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
	"github.com/engine-cleanup/engine-cleanup/plugins/pki"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// trackedPKI returns the PKI files setup created: the manifests' PKI groups,
// or the legacy era's known list.
func (in *installation) trackedPKI() []string {
	if in.era == eraLegacy {
		return pki.LegacyTracked()
	}
	return pki.Tracked(in.inventory)
}

// planPKI plans the archive of the whole PKI tree and its configuration,
// then the removal of the files setup created. Untracked files (host
// certificates, requests) stay and are listed in the summary.
func (p *plugin) planPKI(plan *component.Plan) []sdk.Problem {
	root := p.env.Root
	tracked := p.inst.trackedPKI()
	st, err := pki.Check(root, tracked)
	if err != nil {
		return []sdk.Problem{sdk.Blocker(sdk.KindGeneral, err.Error(), "check the PKI tree by hand")}
	}
	var problems []sdk.Problem
	for _, e := range st.Problems {
		problems = append(problems, sdk.Warn(e.Error(), ""))
	}
	p.untracked = st.Untracked
	if len(st.Present) == 0 {
		return problems
	}
	present := st.Present
	plan.Add(sdk.Action{ID: "engine.backup.pki", Stage: sdk.StageBackup,
		Description: "Archive the PKI tree " + records.PKIDir + " and its configuration", Resources: pki.Sources(tracked)},
		func(ctx context.Context, _ func(sdk.Progress)) sdk.ExecuteResponse {
			now, err := pki.Check(root, tracked)
			if err != nil {
				return component.Failed(err.Error(), "")
			}
			if len(now.Present) == 0 {
				return sdk.ExecuteResponse{Outcome: "nothing left to archive"}
			}
			res, err := pki.Archive(ctx, root, pki.Sources(tracked), records.EngineBackupDir, pki.BackupName(component.RunStamp(p.env.RunID)))
			if err != nil {
				return component.Failed("archiving the PKI: "+err.Error(), "free space or fix the cause, then run engine-cleanup again")
			}
			return sdk.ExecuteResponse{Changed: true, Outcome: fmt.Sprintf("%d files archived", res.Files),
				Backups: []sdk.Backup{{Path: res.Path, Description: "PKI configuration and keys"}}}
		})
	plan.Add(sdk.Action{ID: "engine.remove.pki", Stage: sdk.StageRemove,
		Description: fmt.Sprintf("Remove the keystore and the %d PKI file(s) setup created", len(present)), Resources: present},
		func(ctx context.Context, _ func(sdk.Progress)) sdk.ExecuteResponse {
			removed, _, errs := pki.RemoveTracked(root, present)
			if len(errs) > 0 {
				return component.Failed("removing PKI files: "+errors.Join(errs...).Error(), "")
			}
			return sdk.ExecuteResponse{Changed: len(removed) > 0, Outcome: fmt.Sprintf("%d removed", len(removed))}
		})
	return problems
}

// closingNotes says what was deliberately left in place.
func (p *plugin) closingNotes() []string {
	var notes []string
	if p.dbNote != "" {
		notes = append(notes, strings.ToUpper(p.dbNote[:1])+p.dbNote[1:]+".")
	}
	if len(p.untracked) > 0 {
		notes = append(notes, fmt.Sprintf("Files under %s that setup did not create were left in place: %s",
			records.PKIDir, strings.Join(p.untracked, ", ")))
	}
	if len(p.protected) > 0 {
		notes = append(notes, "Never removed (the NFS ISO export and its configuration): "+strings.Join(p.protected, ", "))
	}
	if !component.Wants(p.answers, keyRemoveChanged) {
		if changed := p.inst.changedFiles(p.env.Root); len(changed) > 0 {
			notes = append(notes, "Files changed since setup were kept, as answered: "+strings.Join(changed, ", "))
		}
	}
	return notes
}
