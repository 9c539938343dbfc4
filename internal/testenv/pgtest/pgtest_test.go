package pgtest_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// sqlState returns the SQLSTATE of a server error, or "" for other errors.
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

func TestRemoteUserNeedsItsPasswordOverTCP(t *testing.T) {
	c := pgtest.Start(t, pgtest.WithTCP())
	u := c.RemoteDBUser(t, "engine", "s3cret'\\pw", "engine")
	if u.Host != "127.0.0.1" || u.Port != c.Port() || c.Host() != "127.0.0.1" {
		t.Fatalf("remote user reached at %s:%d, cluster host %s port %d", u.Host, u.Port, c.Host(), c.Port())
	}

	conn := c.Conn(t, u.DSN())
	var who, addr string
	if err := conn.QueryRow(t.Context(), "SELECT current_user, inet_server_addr()::text").Scan(&who, &addr); err != nil {
		t.Fatal(err)
	}
	if who != "engine" || addr != "127.0.0.1/32" {
		t.Fatalf("connected as %q to %q, want engine over 127.0.0.1", who, addr)
	}

	_, err := pgx.Connect(t.Context(), c.TCPDSN("engine", "wrong", "engine"))
	if got := sqlState(err); got != "28P01" {
		t.Fatalf("wrong password over TCP: SQLSTATE %q (%v), want 28P01", got, err)
	}
	// The superuser has no password: over TCP it is refused too...
	_, err = pgx.Connect(t.Context(), c.TCPDSN("postgres", "", "postgres"))
	if err == nil {
		t.Fatal("superuser without password connected over TCP")
	}
	// ...while the socket is trusted, for the superuser and for engine.
	c.Conn(t, c.SuperDSN("engine"))
	c.Conn(t, c.SocketDSN("engine", "engine"))
}

func TestRemoteUserCannotCreateDatabasesOrRoles(t *testing.T) {
	c := pgtest.Start(t, pgtest.WithTCP())
	u := c.RemoteDBUser(t, "engine", "engine", "engine")
	conn := c.Conn(t, u.DSN())

	_, err := conn.Exec(t.Context(), "CREATE DATABASE other")
	if got := sqlState(err); got != "42501" {
		t.Fatalf("CREATE DATABASE as NOCREATEDB role: SQLSTATE %q (%v), want 42501", got, err)
	}
	_, err = conn.Exec(t.Context(), "CREATE ROLE other")
	if got := sqlState(err); got != "42501" {
		t.Fatalf("CREATE ROLE as NOCREATEROLE role: SQLSTATE %q (%v), want 42501", got, err)
	}
	// But it can create objects in the database it owns.
	if _, err := conn.Exec(t.Context(), "CREATE TABLE t (id int); CREATE SCHEMA aaa_jdbc"); err != nil {
		t.Fatalf("create objects in own database: %v", err)
	}
	if got, want := c.ObjectsOwnedBy(t, "engine", "engine"), []string{"schema aaa_jdbc", "table public.t"}; !slices.Equal(got, want) {
		t.Fatalf("owned objects: %q, want %q", got, want)
	}
	if got := c.DatabasesOwnedBy(t, "engine"); !slices.Equal(got, []string{"engine"}) {
		t.Fatalf("databases owned by engine: %q", got)
	}
}

func TestLocalUserOverSocket(t *testing.T) {
	c := pgtest.Start(t) // no TCP at all
	u := c.LocalDBUser(t, "engine", "engine", "engine")
	if u.Host != c.SocketDir() || c.Host() != c.SocketDir() {
		t.Fatalf("local user host %q, cluster host %q, socket dir %q", u.Host, c.Host(), c.SocketDir())
	}
	conn := c.Conn(t, u.DSN())
	var who string
	var addr *string
	if err := conn.QueryRow(t.Context(), "SELECT current_user, inet_server_addr()::text").Scan(&who, &addr); err != nil {
		t.Fatal(err)
	}
	if who != "engine" || addr != nil {
		t.Fatalf("connected as %q from %v, want engine over the socket", who, addr)
	}
	if !c.RoleExists(t, "engine") || c.RoleExists(t, "nobody") {
		t.Fatal("RoleExists is wrong")
	}
	_, err := pgx.Connect(t.Context(), c.TCPDSN("engine", "engine", "engine"))
	if err == nil {
		t.Fatal("connected over TCP to a cluster started without WithTCP")
	}
}

// TestObjectsOwnedByDescribesEveryKind pins the format of ObjectsOwnedBy,
// which tests compare literally.
func TestObjectsOwnedByDescribesEveryKind(t *testing.T) {
	c := pgtest.Start(t)
	c.LocalDBUser(t, "engine", "engine", "engine")
	c.CreateRole(t, "other", "", "NOLOGIN")
	c.ExecAs(t, "engine", "engine", `
		CREATE TYPE st AS ENUM ('a', 'b');
		CREATE TYPE comp AS (a int, b text);
		CREATE DOMAIN pos AS int CHECK (VALUE > 0);
		CREATE TABLE t1 (id serial PRIMARY KEY, s st, p pos);
		CREATE INDEX t1_s ON t1 (s);
		CREATE VIEW v1 AS SELECT * FROM t1;
		CREATE MATERIALIZED VIEW mv AS SELECT count(*) FROM t1;
		CREATE FUNCTION f(x uuid, y st) RETURNS int LANGUAGE plpgsql AS $$BEGIN RETURN 1; END$$;
		CREATE PROCEDURE p() LANGUAGE sql AS 'SELECT 1';
		CREATE SCHEMA aaa_jdbc;
		CREATE SEQUENCE aaa_jdbc.s1;
		ALTER DEFAULT PRIVILEGES IN SCHEMA aaa_jdbc GRANT SELECT ON TABLES TO PUBLIC;
		INSERT INTO t1 (s, p) VALUES ('a', 1), ('b', 2);`)
	// Objects of another role in the same database must not be listed.
	c.Exec(t, "engine", "CREATE SCHEMA other_s AUTHORIZATION other")
	c.ExecAs(t, "engine", "other", "CREATE TABLE other_s.t (id int)")
	got := c.ObjectsOwnedBy(t, "engine", "engine")
	want := []string{
		"default acl for role engine in schema aaa_jdbc on tables",
		"domain public.pos",
		"function public.f(pg_catalog.uuid,public.st)",
		"index public.t1_pkey",
		"index public.t1_s",
		"materialized view public.mv",
		"procedure public.p()",
		"schema aaa_jdbc",
		"sequence aaa_jdbc.s1",
		"sequence public.t1_id_seq",
		"table public.t1",
		"type public.comp (composite)",
		"type public.st (enum)",
		"view public.v1",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ObjectsOwnedBy:\n got %q\nwant %q", got, want)
	}
	if got := c.RowCounts(t, "engine"); len(got) != 2 || got["public.t1"] != 2 || got["other_s.t"] != 0 {
		t.Fatalf("RowCounts: %v", got)
	}
	if got := pgtest.CountKinds(want); got["materialized view"] != 1 || got["default acl"] != 1 || got["index"] != 2 || got["type"] != 2 {
		t.Fatalf("CountKinds: %v", got)
	}
	// What the superuser's DROP OWNED removes is exactly what was listed.
	c.Exec(t, "engine", "DROP OWNED BY engine")
	if got := c.ObjectsOwnedBy(t, "engine", "engine"); len(got) != 0 {
		t.Fatalf("after DROP OWNED: %q", got)
	}
	if got := c.ObjectsOwnedBy(t, "engine", "other"); !slices.Equal(got, []string{"schema other_s", "table other_s.t"}) {
		t.Fatalf("objects of other: %q", got)
	}
}

func TestStopRestartAndCleanup(t *testing.T) {
	var dir string
	var pid int
	t.Run("cluster", func(t *testing.T) {
		c := pgtest.Start(t)
		dir, pid = c.SocketDir(), c.PID()
		c.Exec(t, "postgres", "CREATE TABLE kept (id int)", "INSERT INTO kept VALUES (1), (2)")
		start := time.Now()
		c.Restart(t)
		t.Logf("restart took %v", time.Since(start))
		if c.PID() == pid || c.PID() == 0 {
			t.Fatalf("restart: pid %d -> %d", pid, c.PID())
		}
		if !processGone(pid) {
			t.Fatalf("old postmaster %d still alive after restart", pid)
		}
		pid = c.PID()
		if n := c.RowCounts(t, "postgres")["public.kept"]; n != 2 {
			t.Fatalf("rows after restart: %d", n)
		}
		c.Stop()
		c.Stop() // idempotent
		if c.PID() != 0 || !processGone(pid) {
			t.Fatalf("after Stop: PID() = %d, postmaster %d gone: %v", c.PID(), pid, processGone(pid))
		}
		c.Restart(t)
		pid = c.PID()
	})
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster dir %s survived the test: %v", dir, err)
	}
	if !processGone(pid) {
		t.Errorf("postmaster %d survived the test", pid)
	}
}

func TestParallelClusters(t *testing.T) {
	const n = 4
	var mu sync.Mutex
	ports := map[int]bool{}
	for i := 0; i < n; i++ {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			c := pgtest.Start(t, pgtest.WithTCP())
			t.Logf("started in %v", time.Since(start))
			u := c.RemoteDBUser(t, "engine", "engine", "engine")
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			conn := c.Conn(t, u.DSN())
			if _, err := conn.Exec(ctx, "CREATE TABLE t (id int)"); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if ports[c.Port()] {
				t.Errorf("port %d used twice", c.Port())
			}
			ports[c.Port()] = true
		})
	}
}

func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
