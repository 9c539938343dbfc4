package engine

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/component"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/files"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
	"github.com/engine-cleanup/engine-cleanup/plugins/pki"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// isRecord reports whether a recorded path is one of the records that
// locate an installation: the post-install file, a manifest, a database or
// PKI credentials file. Records are removed in the forget stage, last, by
// the component they describe, never with the other files.
func isRecord(p string) bool {
	switch p {
	case records.PostInstallFile, records.EngineDatabaseConf, records.EngineDWHDatabaseConf, records.PKIConf,
		records.DWHDatabaseConf, records.DWHUUIDConf, records.ReportsDatabaseConf, records.ReportsBuildomaticProperties:
		return true
	}
	return path.Dir(p) == records.UninstallDir
}

// recordedFiles returns the files and symlinks setup recorded as created,
// that the file action removes: every group's files but the PKI groups',
// the records and [unremovable], each path once.
func (in *installation) recordedFiles() []records.FileRecord {
	var out []records.FileRecord
	seen := map[string]bool{}
	for _, g := range in.inventory.Groups {
		// The PKI actions archive and remove these.
		if pki.IsPKIGroup(g.Name) {
			continue
		}
		for _, f := range g.Files {
			if seen[f.Path] || isRecord(f.Path) || in.inventory.IsUnremovable(f.Path) {
				continue
			}
			seen[f.Path] = true
			out = append(out, f)
		}
	}
	return out
}

// protectOptions protects the ISO domain export setup recorded, on top of
// the default one.
func (in *installation) protectOptions() []files.Option {
	if in.postInstall != nil {
		if iso, ok := in.postInstall.Str("OVESETUP_CONFIG/isoDomainMountPoint"); ok && strings.HasPrefix(iso, "/") {
			return []files.Option{files.ProtectAlso(iso)}
		}
	}
	return nil
}

// changedFiles lists recorded files whose content differs from the digest
// setup recorded (the administrator changed them since).
func (in *installation) changedFiles(root string) []string {
	var out []string
	for _, f := range in.recordedFiles() {
		if f.Hash.IsZero() {
			continue
		}
		if _, protected := files.Protected(f.Path, in.protectOptions()...); protected {
			continue
		}
		changed, gone, err := files.Changed(root, f.Path, f.Hash)
		if err == nil && changed && !gone {
			out = append(out, f.Path)
		}
	}
	return out
}

// planFiles plans the removal of recorded files and the revert of line
// edits. It looks at each file now, so that cleanup refuses a file that
// was swapped for something else meanwhile.
func (p *plugin) planFiles(plan *component.Plan) []sdk.Problem {
	in, root := p.inst, p.env.Root
	opts := in.protectOptions()
	var problems []sdk.Problem
	keepChanged := !component.Wants(p.answers, keyRemoveChanged)
	changed := in.changedFiles(root)
	type target struct {
		path string
		info files.Info
	}
	var targets []target
	var kept []string
	for _, f := range in.recordedFiles() {
		if _, protected := files.Protected(f.Path, opts...); protected {
			kept = append(kept, f.Path)
			continue
		}
		if keepChanged && slices.Contains(changed, f.Path) {
			continue
		}
		info, err := files.Inspect(root, f.Path, opts...)
		if err != nil {
			problems = append(problems, sdk.Blocker(sdk.KindGeneral,
				fmt.Sprintf("%s, recorded as created by setup, cannot be removed safely: %v", f.Path, err),
				"check what is at that path; remove it by hand if it is setup's").At(f.At.File, f.At.Line))
			continue
		}
		if info.Kind == files.Missing {
			continue
		}
		targets = append(targets, target{f.Path, info})
	}
	p.protected = kept
	if len(targets) > 0 {
		var paths []string
		for _, t := range targets {
			paths = append(paths, t.path)
		}
		plan.Add(sdk.Action{ID: "engine.remove.files", Stage: sdk.StageRemove,
			Description: fmt.Sprintf("Remove %d file(s) and symlink(s) setup created", len(targets)), Resources: paths},
			func(ctx context.Context, _ func(sdk.Progress)) sdk.ExecuteResponse {
				removed := 0
				for _, t := range targets {
					if ctx.Err() != nil {
						return component.Failed("interrupted", "")
					}
					out, err := files.Remove(root, t.path, append(opts, files.Expect(t.info))...)
					if err != nil {
						return component.Failed(err.Error(), "check what is at that path, then run engine-cleanup again")
					}
					if out == files.Removed {
						removed++
					}
				}
				return sdk.ExecuteResponse{Changed: removed > 0, Outcome: fmt.Sprintf("%d removed", removed)}
			})
	}
	for _, fe := range files.GroupLineEdits(in.inventory.LineEdits()) {
		fe := fe
		if _, protected := files.Protected(fe.Path, opts...); protected {
			continue
		}
		plan.Add(sdk.Action{ID: "engine.revert:" + fe.Path, Stage: sdk.StageRemove,
			Description: "Revert setup's changes to " + fe.Path, Resources: []string{fe.Path}},
			func(ctx context.Context, _ func(sdk.Progress)) sdk.ExecuteResponse {
				res, err := files.RevertLines(root, fe.Path, fe.Edits, opts...)
				if err != nil {
					if errors.Is(err, files.ErrProtected) {
						return sdk.ExecuteResponse{Outcome: "kept: protected"}
					}
					return component.Failed(err.Error(), "")
				}
				resp := sdk.ExecuteResponse{Changed: res.Outcome == files.Reverted || res.Outcome == files.PartlyReverted,
					Outcome: string(res.Outcome)}
				if len(res.NotFound) > 0 {
					var lines []string
					for _, e := range res.NotFound {
						lines = append(lines, e.Change.String()+" "+strings.TrimSpace(e.Added+e.Removed))
					}
					resp.Problems = append(resp.Problems, sdk.Warn(
						fmt.Sprintf("some changes to %s could not be reverted: %s", fe.Path, strings.Join(lines, "; ")),
						"review the file by hand"))
				}
				return resp
			})
	}
	return problems
}
