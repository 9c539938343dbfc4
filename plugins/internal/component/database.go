package component

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

// Database is a component's database as its records describe it.
type Database struct {
	// Component names the plugin, for action IDs: "engine", "dwh", "reports".
	Component string
	// Label names the database for people: "engine database".
	Label string
	// BackupLabel describes the dump in the summary: "the Engine database".
	BackupLabel string
	// Creds are the recorded credentials; nil when there are none.
	Creds *records.DBCreds
	// CredsFile is where they are recorded (as shown, under the root).
	CredsFile string
	// CredsProblem says why the credentials are missing or unreadable
	// although the component was set up.
	CredsProblem *sdk.Problem
	// BackupDir (recorded path) and Prefix name the dump, as oVirt does.
	BackupDir, Prefix string
}

// Recorded reports whether the component has a database to ask about.
func (d *Database) Recorded() bool { return d.Creds != nil || d.CredsProblem != nil }

// DropQuestion is the spec's drop question for this database.
func (d *Database) DropQuestion(key, answerKey string) sdk.Question {
	return sdk.Question{Key: key, Type: sdk.YesNo, Default: "true", AnswerKey: answerKey, Purpose: sdk.PurposeDropDatabase,
		Prompt: "Drop database? If you want to reuse the existing database for the future installation, choose No."}
}

// RunStamp is the time part of a run's ID, for naming backups as oVirt
// does; it falls back to now.
func RunStamp(runID string) time.Time {
	head, _, _ := strings.Cut(runID, "-")
	if t, err := time.ParseInLocation(records.TimestampLayout, head, time.Local); err == nil {
		return t
	}
	return time.Now()
}

// Plan plans the backup and the clearing of the database, after checking —
// read-only — that both can be done: credentials readable, server
// reachable, credentials accepted, pg_dump fit for the server, nothing that
// would make clearing refuse. note says why nothing needs doing, if so.
func (d *Database) Plan(ctx context.Context, env sdk.Environment, plan *Plan) (note string, problems []sdk.Problem) {
	if d.CredsProblem != nil {
		return "", []sdk.Problem{*d.CredsProblem}
	}
	if d.Creds == nil {
		return "", nil
	}
	target := db.TargetFromRecords(*d.Creds)
	insp, err := db.Inspect(ctx, target)
	if err != nil {
		if errors.Is(err, db.ErrDatabaseMissing) {
			note = fmt.Sprintf("the %s %s does not exist: nothing to clear", d.Label, target)
			return note, []sdk.Problem{sdk.Warn(note, "")}
		}
		return "", []sdk.Problem{SeqII(d.CredsFile, 0,
			fmt.Sprintf("the %s cannot be reached with the recorded credentials, so it cannot be backed up and cleared: %v", d.Label, err),
			"start the database server or correct "+d.CredsFile+", run with -d to keep the database, or clean it by hand")}
	}
	if insp.ObjectCount() == 0 {
		return fmt.Sprintf("the %s %s is already empty", d.Label, target), nil
	}
	for _, msg := range insp.Problems() {
		problems = append(problems, sdk.Blocker(sdk.KindGeneral, msg, "").At(d.CredsFile, 0))
	}
	tool, err := db.CheckDumpTool(ctx, insp.ServerMajor)
	if err != nil {
		problems = append(problems, sdk.Blocker(sdk.KindGeneral, fmt.Sprintf("the %s cannot be backed up: %v", d.Label, err),
			"install a PostgreSQL client at least as new as the server, or run with -d to keep the database"))
	}
	if len(problems) > 0 {
		return "", problems
	}
	desc := fmt.Sprintf("%s (%s)", target, db.DescribeCounts(insp.Objects))
	res := []string{"database:" + target.String()}
	plan.Add(sdk.Action{ID: d.Component + ".backup.database", Stage: sdk.StageBackup,
		Description: "Back up the " + d.Label + " " + desc, Resources: res},
		func(ctx context.Context, progress func(sdk.Progress)) sdk.ExecuteResponse {
			return d.backup(ctx, env, target, tool, progress)
		})
	plan.Add(sdk.Action{ID: d.Component + ".clear.database", Stage: sdk.StageRemove,
		Description: "Clear the " + d.Label + " " + desc + "; the database and its role are kept", Resources: res},
		func(ctx context.Context, _ func(sdk.Progress)) sdk.ExecuteResponse {
			r, err := db.Clear(ctx, target, sdk.Logger(ctx).Named("db"))
			if err != nil {
				return Failed(fmt.Sprintf("clearing the %s: %v", d.Label, err), "")
			}
			if !r.Changed {
				return sdk.ExecuteResponse{Outcome: "already empty"}
			}
			return sdk.ExecuteResponse{Changed: true,
				Outcome: fmt.Sprintf("cleared %d objects with %s", db.Total(r.Before), r.Method)}
		})
	return "", nil
}

// backup dumps the database unless it is already empty (a rerun after the
// clear): a dump of nothing protects nothing.
func (d *Database) backup(ctx context.Context, env sdk.Environment, target db.Target, tool db.DumpTool, progress func(sdk.Progress)) sdk.ExecuteResponse {
	insp, err := db.Inspect(ctx, target)
	if err != nil {
		return Failed(fmt.Sprintf("backing up the %s: %v", d.Label, err), "")
	}
	if insp.ObjectCount() == 0 {
		return sdk.ExecuteResponse{Outcome: "already empty: nothing to back up"}
	}
	dir, err := records.Resolve(env.Root, d.BackupDir)
	if err != nil {
		return Failed(err.Error(), "")
	}
	path, err := db.Backup(ctx, target, tool, db.BackupOptions{Dir: dir, Prefix: d.Prefix,
		Stamp: RunStamp(env.RunID), Log: sdk.Logger(ctx).Named("pg_dump"),
		Progress: func(n int64) { progress(sdk.Progress{Message: "pg_dump", Done: n}) }})
	if err != nil {
		return Failed(fmt.Sprintf("backing up the %s: %v", d.Label, err), "free space or fix the cause, then run engine-cleanup again")
	}
	return sdk.ExecuteResponse{Changed: true, Outcome: "written",
		Backups: []sdk.Backup{{Path: path, Description: d.BackupLabel}}}
}
