package ovirthost

import (
	"testing"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest"
	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest/schema"
)

// Passwords returns the database password NewDatabases gives a component
// ("engine", "dwh" or "reports") for a writer style. Each holds ", $, \, a
// colon, a space and #, so that every writer's escaping is exercised. For
// StyleMaster the $ starts a ${...} reference: that writer leaves $
// unescaped, and a bare one makes the file unreadable to oVirt itself.
func Password(component, style string) string {
	dollar := "$"
	if style == StyleMaster {
		dollar = "${x}"
	}
	tag := map[string]string{"engine": "En", "dwh": "Dw", "reports": "Rp"}[component]
	if tag == "" {
		panic("ovirthost: unknown component " + component)
	}
	return tag + `"g` + dollar + `1ne\pw:4 you#` + component
}

// NewDatabases creates, in cluster c, the roles and databases of the
// components opts asks for, the way engine-setup provisions them (a login
// role without CREATEDB or CREATEROLE that owns its database), and returns
// where they are. The engine's is always created; DWH's and Reports' when
// opts.DWH or opts.Reports is non-nil, whose non-empty User, Password and
// Database fields override the defaults (engine, ovirt_engine_history,
// ovirt_engine_reports, and Password(component, opts.PasswordStyle)).
//
// Over TCP (a cluster started WithTCP) the roles authenticate with their
// passwords, the remote-database case; otherwise they use the socket. For a
// legacy host the superuser gets the engine's password too, as local 3.2
// installs did, so that the admin line of .pgpass works over TCP.
//
//	opts := ovirthost.Options{DWH: &ovirthost.DB{}}
//	opts.Engine, opts.DWH, opts.Reports = ovirthost.NewDatabases(t, c, opts)
//	h := ovirthost.Build(t, t.TempDir(), opts)
func NewDatabases(t testing.TB, c *pgtest.Cluster, opts Options) (engine, dwh, reports *DB) {
	t.Helper()
	engine, dwh, reports, err := NewDatabasesErr(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	return engine, dwh, reports
}

// PopulateDatabase loads an engine-like schema of the given size
// (schema.Small() or schema.Full()) into db, owned by db's role, and
// returns what it created.
func PopulateDatabase(t testing.TB, c *pgtest.Cluster, db DB, size schema.Options) *schema.Schema {
	t.Helper()
	return schema.Load(t, c, db.Database, db.User, size)
}
