package engine

import (
	"bytes"
	"context"
	"fmt"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/component"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/files"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// credentialRecords are every component's database credentials, removed
// after the post-install file: while the post-install file says a
// component was set up, its credentials must be there, or a rerun would
// have to refuse. The engine's go last.
func credentialRecords() []string {
	return []string{records.ReportsBuildomaticProperties, records.DWHDatabaseConf, records.EngineDatabaseConf}
}

// engineRecords lists the records the engine's forget removes, in order:
// the manifests, the PKI configuration, the post-install file, then every
// component's credentials. A run killed after any of them leaves records
// that let a rerun finish the job.
func (p *plugin) engineRecords() []string {
	var out []string
	if paths, err := records.ManifestPaths(p.env.Root); err == nil {
		out = append(out, paths...)
	}
	// The PKI action normally removed this one already, as a tracked file.
	out = append(out, records.PKIConf, records.PostInstallFile)
	return append(out, credentialRecords()...)
}

// planRecords plans the forget stage: the records go last.
func (p *plugin) planRecords(plan *component.Plan) {
	root := p.env.Root
	switch p.inst.era {
	case eraOtopi:
		var present []string
		for _, r := range p.engineRecords() {
			if exists(root, r) {
				present = append(present, r)
			}
		}
		if len(present) == 0 {
			return
		}
		plan.Add(sdk.Action{ID: "engine.forget.records", Stage: sdk.StageForget,
			Description: fmt.Sprintf("Remove the engine's setup records (%d file(s))", len(present)), Resources: present},
			func(ctx context.Context, _ func(sdk.Progress)) sdk.ExecuteResponse {
				return component.RemoveRecords(root, present)
			})
	case eraLegacy:
		pg := p.inst.legacyPgpass
		if pg == nil {
			return
		}
		plan.Add(sdk.Action{ID: "engine.forget.pgpass", Stage: sdk.StageForget,
			Description: "Remove the engine's section from " + records.LegacyPgpass, Resources: []string{records.LegacyPgpass}},
			func(ctx context.Context, _ func(sdk.Progress)) sdk.ExecuteResponse {
				edits, err := pgpassBlock(root, pg)
				if err != nil {
					return component.Failed(err.Error(), "")
				}
				res, err := files.RevertLines(root, records.LegacyPgpass, edits)
				if err != nil {
					return component.Failed(err.Error(), "")
				}
				// Legacy setup created the file for its section: when
				// nothing else is left in it, it goes too.
				if rest, err := records.ReadRecord(root, records.LegacyPgpass); err == nil && len(bytes.TrimSpace(rest)) == 0 {
					if _, err := files.Remove(root, records.LegacyPgpass); err != nil {
						return component.Failed(err.Error(), "")
					}
					return sdk.ExecuteResponse{Changed: true, Outcome: "removed"}
				}
				return sdk.ExecuteResponse{Changed: res.Outcome == files.Reverted, Outcome: string(res.Outcome)}
			})
	}
}

// pgpassBlock returns the engine's section of the legacy .pgpass as line
// edits that added it, so that reverting them cuts the section out with an
// atomic write, as legacy engine-cleanup did.
func pgpassBlock(root string, pg *records.Pgpass) ([]records.LineEdit, error) {
	data, err := records.ReadRecord(root, records.LegacyPgpass)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", records.LegacyPgpass, err)
	}
	lines := bytes.Split(data, []byte("\n"))
	var edits []records.LineEdit
	for i := pg.Start; i <= pg.End && i-1 < len(lines); i++ {
		edits = append(edits, records.LineEdit{Path: records.LegacyPgpass, Change: records.LineAdded,
			Added: string(lines[i-1])})
	}
	return edits, nil
}
