package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/engine-cleanup/engine-cleanup/plugins/db"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// runStamp is the time part of the run's ID, for naming backups as oVirt
// does; it falls back to now.
func runStamp(runID string) time.Time {
	head, _, _ := strings.Cut(runID, "-")
	if t, err := time.ParseInLocation(records.TimestampLayout, head, time.Local); err == nil {
		return t
	}
	return time.Now()
}

// planDatabase plans the backup and the clearing of the engine database
// when it is to be dropped, after checking — read-only — that both can be
// done: credentials readable, server reachable, credentials accepted,
// pg_dump fit for the server, nothing that would make clearing refuse.
func (p *plugin) planDatabase(ctx context.Context, add func(sdk.Action, handler)) []sdk.Problem {
	in := p.inst
	if !wants(p.answers, keyDrop) || (in.creds == nil && in.credsProblem == nil) {
		return nil
	}
	if in.credsProblem != nil {
		return []sdk.Problem{*in.credsProblem}
	}
	target := db.TargetFromRecords(*in.creds)
	insp, err := db.Inspect(ctx, target)
	if err != nil {
		if errors.Is(err, db.ErrDatabaseMissing) {
			p.dbNote = fmt.Sprintf("the engine database %s does not exist: nothing to clear", target)
			return []sdk.Problem{sdk.Warn(p.dbNote, "")}
		}
		return []sdk.Problem{seqII(in.credsFile, 0,
			fmt.Sprintf("the engine database cannot be reached with the recorded credentials, so it cannot be backed up and cleared: %v", err),
			"start the database server or correct "+in.credsFile+", run with -d to keep the database, or clean it by hand")}
	}
	if insp.ObjectCount() == 0 {
		p.dbNote = fmt.Sprintf("the engine database %s is already empty", target)
		return nil
	}
	var problems []sdk.Problem
	for _, msg := range insp.Problems() {
		problems = append(problems, sdk.Blocker(sdk.KindGeneral, msg, "").At(in.credsFile, 0))
	}
	tool, err := db.CheckDumpTool(ctx, insp.ServerMajor)
	if err != nil {
		problems = append(problems, sdk.Blocker(sdk.KindGeneral, "the engine database cannot be backed up: "+err.Error(),
			"install a PostgreSQL client at least as new as the server, or run with -d to keep the database"))
	}
	if len(problems) > 0 {
		return problems
	}
	desc := fmt.Sprintf("%s (%s)", target, db.DescribeCounts(insp.Objects))
	res := []string{"database:" + target.String()}
	add(sdk.Action{ID: "engine.backup.database", Stage: sdk.StageBackup,
		Description: "Back up the engine database " + desc, Resources: res},
		func(ctx context.Context, progress func(sdk.Progress)) sdk.ExecuteResponse {
			return p.backupDatabase(ctx, target, tool, progress)
		})
	add(sdk.Action{ID: "engine.clear.database", Stage: sdk.StageRemove,
		Description: "Clear the engine database " + desc + "; the database and its role are kept", Resources: res},
		func(ctx context.Context, _ func(sdk.Progress)) sdk.ExecuteResponse {
			r, err := db.Clear(ctx, target, sdk.Logger(ctx).Named("db"))
			if err != nil {
				return failed("clearing the engine database: "+err.Error(), "")
			}
			if !r.Changed {
				return sdk.ExecuteResponse{Outcome: "already empty"}
			}
			return sdk.ExecuteResponse{Changed: true,
				Outcome: fmt.Sprintf("cleared %d objects with %s", db.Total(r.Before), r.Method)}
		})
	return nil
}

// backupDatabase dumps the database unless it is already empty (a rerun
// after the clear): a dump of nothing protects nothing.
func (p *plugin) backupDatabase(ctx context.Context, target db.Target, tool db.DumpTool, progress func(sdk.Progress)) sdk.ExecuteResponse {
	insp, err := db.Inspect(ctx, target)
	if err != nil {
		return failed("backing up the engine database: "+err.Error(), "")
	}
	if insp.ObjectCount() == 0 {
		return sdk.ExecuteResponse{Outcome: "already empty: nothing to back up"}
	}
	dir, err := records.Resolve(p.env.Root, records.EngineBackupDir)
	if err != nil {
		return failed(err.Error(), "")
	}
	path, err := db.Backup(ctx, target, tool, db.BackupOptions{Dir: dir, Prefix: records.EngineDumpPrefix,
		Stamp: runStamp(p.env.RunID), Log: sdk.Logger(ctx).Named("pg_dump"),
		Progress: func(n int64) { progress(sdk.Progress{Message: "pg_dump", Done: n}) }})
	if err != nil {
		return failed("backing up the engine database: "+err.Error(), "free space or fix the cause, then run engine-cleanup again")
	}
	return sdk.ExecuteResponse{Changed: true, Outcome: "written",
		Backups: []sdk.Backup{{Path: path, Description: "the Engine database"}}}
}
