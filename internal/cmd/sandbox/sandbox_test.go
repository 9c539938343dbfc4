package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"golang.org/x/term"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/ovirthost"
	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// roleFacts describes what NewDatabases made of a role, password aside
// (its SCRAM hash is salted).
func roleFacts(t *testing.T, c *pgtest.Cluster, db *ovirthost.DB) string {
	t.Helper()
	facts := c.QueryStrings(t, "postgres", `SELECT concat_ws(' ', r.rolname, r.rolcanlogin, r.rolsuper, r.rolcreatedb,
		r.rolcreaterole, r.rolpassword IS NOT NULL, d.datname) FROM pg_roles r
		LEFT JOIN pg_database d ON d.datdba = r.oid WHERE r.rolname = $1`, db.User)
	return strings.Join(facts, "; ")
}

// TestNewDatabasesErrMatchesNewDatabases keeps ovirthost's two entry
// points in step: the same databases, roles, attributes and passwords.
func TestNewDatabasesErrMatchesNewDatabases(t *testing.T) {
	for _, era := range []ovirthost.Era{ovirthost.EraOtopi, ovirthost.EraLegacy} {
		t.Run(string(era), func(t *testing.T) {
			opts := ovirthost.Options{Era: era}
			if era == ovirthost.EraOtopi {
				opts.DWH, opts.Reports = &ovirthost.DB{}, &ovirthost.DB{Password: "own pw"}
			}
			ct := pgtest.Start(t, pgtest.WithTCP())
			e1, d1, r1 := ovirthost.NewDatabases(t, ct, opts)
			cp, err := pgtest.StartCluster(pgtest.WithTCP())
			if err != nil {
				t.Fatal(err)
			}
			defer cp.Close()
			e2, d2, r2, err := ovirthost.NewDatabasesErr(cp, opts)
			if err != nil {
				t.Fatal(err)
			}
			for i, pair := range [][2]*ovirthost.DB{{e1, e2}, {d1, d2}, {r1, r2}} {
				a, b := pair[0], pair[1]
				if (a == nil) != (b == nil) {
					t.Fatalf("component %d: NewDatabases %v, NewDatabasesErr %v", i, a, b)
				}
				if a == nil {
					continue
				}
				if a.Port != ct.Port() || b.Port != cp.Port() {
					t.Errorf("ports %d and %d, want those of their clusters", a.Port, b.Port)
				}
				a2, b2 := *a, *b
				a2.Port, b2.Port = 0, 0
				if a2 != b2 {
					t.Errorf("NewDatabases %+v, NewDatabasesErr %+v", a2, b2)
				}
				if fa, fb := roleFacts(t, ct, a), roleFacts(t, cp, b); fa != fb {
					t.Errorf("roles differ: NewDatabases %q, NewDatabasesErr %q", fa, fb)
				}
				conn, err := pgx.Connect(context.Background(), cp.TCPDSN(b.User, b.Password, b.Database))
				if err != nil {
					t.Fatalf("%s cannot log in with its password: %v", b.User, err)
				}
				_ = conn.Close(context.Background())
			}
			// A legacy host's superuser has the engine's password.
			conn, err := pgx.Connect(context.Background(), cp.TCPDSN("postgres", e2.Password, "postgres"))
			if era == ovirthost.EraLegacy && err != nil {
				t.Errorf("legacy: the superuser cannot log in with the engine's password: %v", err)
			}
			if era == ovirthost.EraOtopi && err == nil {
				t.Error("otopi: the superuser logs in with the engine's password")
			}
			if err == nil {
				_ = conn.Close(context.Background())
			}
		})
	}
}

// TestDemo runs the demo as "make demo" does on a CI machine (stdin not a
// terminal, hence unattended), in-process: it must exit 0, having checked
// the outcome and that no process was left behind.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes 15 to 30 s")
	}
	if err := pgtest.Available(); err != nil {
		t.Skip(err)
	}
	if os.Geteuid() != 0 {
		t.Skip("the sandbox needs root")
	}
	if term.IsTerminal(int(os.Stdin.Fd())) {
		t.Skip("stdin is a terminal: the demo would be interactive")
	}
	var out, errOut bytes.Buffer
	code := run([]string{"demo"}, &out, &errOut)
	t.Logf("sandbox demo -> %d\n%s\n%s", code, out.String(), errOut.String())
	if code != exitOK {
		t.Fatalf("exit %d, want 0", code)
	}
	for _, want := range []string{msgFinished, msgNothingToClean, "3926 -> 0", "no process left behind",
		"the demo went as expected"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo's output lacks %q", want)
		}
	}
	for _, secret := range []string{ovirthost.Password("engine", ovirthost.StyleMaster),
		ovirthost.Password("dwh", ovirthost.StyleMaster), ovirthost.Password("reports", ovirthost.StyleMaster)} {
		if strings.Contains(out.String(), secret) || strings.Contains(errOut.String(), secret) {
			t.Errorf("the demo printed a database password")
		}
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{{nil, exitUsage}, {[]string{"nope"}, exitUsage}, {[]string{"demo", "--bogus"}, exitUsage},
		{[]string{"shell", "extra"}, exitUsage}, {[]string{"--help"}, exitOK}} {
		var out, errOut bytes.Buffer
		if got := run(tc.args, &out, &errOut); got != tc.code {
			t.Errorf("run(%q) = %d, want %d (%s)", tc.args, got, tc.code, errOut.String())
		}
	}
}

func TestDSNForPeople(t *testing.T) {
	if got, want := dsn("127.0.0.1", 5432, "engine", "engine"), "host=127.0.0.1 port=5432 user=engine dbname=engine sslmode=disable"; got != want {
		t.Errorf("dsn = %s, want %s", got, want)
	}
	if got, want := dsn("/a b", 1, "o'k", "d"), `host='/a b' port=1 user='o\'k' dbname=d sslmode=disable`; got != want {
		t.Errorf("dsn = %s, want %s", got, want)
	}
}

func TestWithoutCancellation(t *testing.T) {
	teardown := errors.New("remove x: busy")
	err := errors.Join(fmt.Errorf("build the sandbox: %w", errors.Join(context.Canceled, context.Canceled)), teardown)
	if got := withoutCancellation(err); got == nil || got.Error() != teardown.Error() {
		t.Errorf("withoutCancellation = %v, want only the teardown error", got)
	}
	if got := withoutCancellation(fmt.Errorf("x: %w", context.Canceled)); got != nil {
		t.Errorf("withoutCancellation of a cancellation = %v", got)
	}
}
