package ovirthost

import (
	"strings"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest"
	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest/schema"
)

// The databases NewDatabases makes are reached with the credentials the
// records package recovers from the host Build writes for them.
func TestDatabasesAreReachedWithTheRecordedCredentials(t *testing.T) {
	pgtest.SkipIfUnavailable(t)
	check := newRecordsCheck(t)
	for _, c := range []struct {
		name  string
		era   Era
		style string
	}{
		{"otopi, master writer", EraOtopi, StyleMaster},
		{"otopi, 3.3.0 writer", EraOtopi, Style330},
		{"legacy", EraLegacy, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl := pgtest.Start(t, pgtest.WithTCP())
			opts := Options{Era: c.era, PasswordStyle: c.style}
			if c.era == EraOtopi {
				opts.DWH, opts.Reports = &DB{}, &DB{Database: "reports"}
			}
			opts.Engine, opts.DWH, opts.Reports = NewDatabases(t, cl, opts)
			if opts.Reports != nil && opts.Reports.Database != "reports" {
				t.Errorf("Reports database %q, want the one asked for", opts.Reports.Database)
			}
			for _, db := range []*DB{opts.Engine, opts.DWH, opts.Reports} {
				if db == nil {
					continue
				}
				if got := cl.QueryStrings(t, "postgres", "SELECT rolcreatedb::text || rolcreaterole::text || rolsuper::text FROM pg_roles WHERE rolname = $1", db.User); len(got) != 1 || got[0] != "falsefalsefalse" {
					t.Errorf("role %s: createdb, createrole, super = %v", db.User, got)
				}
				for _, ch := range []string{`"`, `$`, `\`, `:`, ` `, `#`} {
					if !strings.Contains(db.Password, ch) {
						t.Errorf("the password of %s lacks %q", db.User, ch)
					}
				}
			}
			s := PopulateDatabase(t, cl, *opts.Engine, schema.Small())
			if owned := cl.ObjectsOwnedBy(t, opts.Engine.Database, opts.Engine.User); len(owned) < s.Tables {
				t.Errorf("%d objects owned by %s after loading %d tables", len(owned), opts.Engine.User, s.Tables)
			}

			h := Build(t, t.TempDir(), opts)
			r := check.read(t, h.Root)
			connect := func(what, user, password, database string) {
				t.Run("log in as "+what, func(t *testing.T) {
					cl.Conn(t, cl.DBUserOverTCP(user, password, database).DSN()) // fails on a wrong password
				})
			}
			switch c.era {
			case EraLegacy:
				if r.PgpassUser == nil {
					t.Fatalf("ParsePgpass: %s", r.PgpassErr)
				}
				// Legacy setup wrote the password unescaped: the literal
				// reading is the right one.
				connect("engine", r.PgpassUser.User, r.PgpassUser.Alt, opts.Engine.Database)
				connect("admin", r.PgpassAdmin.User, r.PgpassAdmin.Alt, "postgres")
			default:
				pick := func(cr checkCreds) string {
					if cr.Err != "" {
						t.Fatalf("credentials: %s", cr.Err)
					}
					if cr.Alt != "" {
						return cr.Alt // the master writer's loss, undone
					}
					return cr.Password
				}
				connect("engine", r.Engine.User, pick(r.Engine), r.Engine.Database)
				connect("DWH", r.DWH.User, pick(r.DWH), r.DWH.Database)
				connect("Reports", r.Reports.User, pick(r.Reports), r.Reports.Database)
			}
		})
	}
}
