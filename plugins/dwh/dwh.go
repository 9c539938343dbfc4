// Package dwh is the built-in plugin that cleans the oVirt data warehouse:
// the ovirt-engine-dwhd service, the history database, DWH's records, and
// its registration in the engine database. See README.md.
package dwh

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/engine-cleanup/engine-cleanup/plugins/db"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/component"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// New returns the dwh plugin.
func New() sdk.Plugin {
	return component.NewDBComponent(component.Spec{
		Name:        "dwh",
		Description: "oVirt data warehouse: ovirt-engine-dwhd, history database, records, registration in the engine",
		DependsOn:   []string{"engine"},
		EnableKey:   "OVESETUP_DWH_CORE/enable",
		Services:    []string{records.ServiceDWH},
		DropKey:     "dwh.dropDatabase", DropAnswerKey: "OVESETUP_DWH_REMOVE/database",
		Database: component.Database{Component: "dwh", Label: "DWH history database", BackupLabel: "the DWH database",
			BackupDir: records.DWHBackupDir, Prefix: records.DWHDumpPrefix},
		CredsRecord: records.DWHDatabaseConf,
		ReadCreds:   func(root string) (records.DBCreds, error) { return readCreds(root, records.PrefixDWH) },
		// The credentials go with the engine's forget, after the
		// post-install file.
		Records: []string{records.EngineDWHDatabaseConf, records.DWHUUIDConf},
		Extra:   planUnregister,
	})
}

// readCreds reads a DB_* family from DWH's configuration.
func readCreds(root, prefix string) (records.DBCreds, error) {
	if _, err := records.ReadRecord(root, records.DWHDatabaseConf); err != nil {
		return records.DBCreds{}, err
	}
	cfg, err := records.LoadConfig(root, records.DWHConfigBases()...)
	if err != nil {
		return records.DBCreds{}, err
	}
	return records.DatabaseCredentials(cfg, prefix)
}

// engineCreds finds the engine database as DWH knows it: DWH's own
// configuration has ENGINE_DB_* (also on a separate DWH host); else the
// engine's record on this host.
func engineCreds(root string) (records.DBCreds, bool) {
	if c, err := readCreds(root, records.PrefixEngine); err == nil {
		return c, true
	}
	data, err := records.ReadRecord(root, records.EngineDatabaseConf)
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return records.DBCreds{}, false
	}
	cfg, err := records.LoadConfig(root, records.EngineConfigBases()...)
	if err != nil {
		return records.DBCreds{}, false
	}
	c, err := records.DatabaseCredentials(cfg, records.PrefixEngine)
	return c, err == nil
}

// planUnregister removes DWH's registration (dwhUuid, dwhHostname) from the
// engine database, so that a new DWH can register with a kept engine
// database. It runs in the remove stage, before the engine plugin may clear
// that database, where it is harmless.
func planUnregister(ctx context.Context, c *component.DBComponent, plan *component.Plan) []sdk.Problem {
	creds, ok := engineCreds(c.Env.Root)
	if !ok {
		return nil
	}
	sdk.Redact(ctx, creds.Password.Reveal(), creds.AltPassword.Reveal())
	target := db.TargetFromRecords(creds)
	plan.Add(sdk.Action{ID: "dwh.unregister", Stage: sdk.StageRemove,
		Description: "Remove DWH's registration from the engine database " + target.String(),
		Resources:   []string{"database:" + target.String()}},
		func(ctx context.Context, _ func(sdk.Progress)) sdk.ExecuteResponse {
			n, err := unregister(ctx, target)
			if err != nil {
				return sdk.ExecuteResponse{Outcome: "not done", Problems: []sdk.Problem{sdk.Warn(
					"could not remove DWH's registration from the engine database: "+err.Error(),
					"if the engine database is kept, clear dwhUuid and dwhHostname in dwh_history_timekeeping before setting up a new DWH")}}
			}
			if n == 0 {
				return sdk.ExecuteResponse{Outcome: "not registered"}
			}
			return sdk.ExecuteResponse{Changed: true, Outcome: "unregistered"}
		})
	return nil
}

// unregister resets the registration to the state the engine schema starts
// with (NULL values); it returns how many keys it changed.
func unregister(ctx context.Context, t db.Target) (int64, error) {
	conn, _, err := db.Connect(ctx, t)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tag, err := conn.Exec(ctx, `UPDATE dwh_history_timekeeping SET var_value = NULL
		WHERE var_name IN ('dwhUuid', 'dwhHostname') AND var_value IS NOT NULL`)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table: an empty or foreign database
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("updating dwh_history_timekeeping in %s: %w", t, err)
	}
	return tag.RowsAffected(), nil
}
