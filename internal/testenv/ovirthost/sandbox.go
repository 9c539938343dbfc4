package ovirthost

import (
	"fmt"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest"
	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest/schema"
)

// This file holds the entry points for programs that are not tests (the
// sandbox of internal/cmd/sandbox): NewDatabases and PopulateDatabase
// returning their errors instead of failing a test. New is Build's.

// NewDatabasesErr is NewDatabases returning its error, for programs that
// are not tests; NewDatabases is this function failing the test.
func NewDatabasesErr(c *pgtest.Cluster, opts Options) (engine, dwh, reports *DB, err error) {
	o, err := normalize(Options{Era: opts.Era, EngineVersion: opts.EngineVersion, PasswordStyle: opts.PasswordStyle, FQDN: opts.FQDN})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("ovirthost: NewDatabases: %w", err)
	}
	create := func(component, user, database string, want *DB) (*DB, error) {
		pw := Password(component, o.PasswordStyle)
		if want != nil {
			if want.User != "" {
				user = want.User
			}
			if want.Password != "" {
				pw = want.Password
			}
			if want.Database != "" {
				database = want.Database
			}
		}
		var u pgtest.DBUser
		var err error
		if c.TCP() {
			u, err = c.RemoteDBUserErr(user, pw, database)
		} else {
			u, err = c.LocalDBUserErr(user, pw, database)
		}
		if err != nil {
			return nil, fmt.Errorf("ovirthost: %s database: %w", component, err)
		}
		return &DB{Host: u.Host, Port: u.Port, User: u.Name, Password: u.Password, Database: u.Database}, nil
	}
	if engine, err = create("engine", "engine", "engine", opts.Engine); err != nil {
		return nil, nil, nil, err
	}
	if opts.DWH != nil {
		if dwh, err = create("dwh", "ovirt_engine_history", "ovirt_engine_history", opts.DWH); err != nil {
			return nil, nil, nil, err
		}
	}
	if opts.Reports != nil {
		if reports, err = create("reports", "ovirt_engine_reports", "ovirt_engine_reports", opts.Reports); err != nil {
			return nil, nil, nil, err
		}
	}
	if o.Era == EraLegacy {
		if err := c.ExecErr("postgres", "ALTER ROLE postgres PASSWORD "+pgtest.Literal(engine.Password)); err != nil {
			return nil, nil, nil, fmt.Errorf("ovirthost: superuser password: %w", err)
		}
	}
	return engine, dwh, reports, nil
}

// PopulateDatabaseErr is PopulateDatabase returning its error, for
// programs that are not tests.
func PopulateDatabaseErr(c *pgtest.Cluster, db DB, size schema.Options) (*schema.Schema, error) {
	s, err := schema.LoadErr(c, db.Database, db.User, size)
	if err != nil {
		return nil, fmt.Errorf("ovirthost: populate %s: %w", db.Database, err)
	}
	return s, nil
}
