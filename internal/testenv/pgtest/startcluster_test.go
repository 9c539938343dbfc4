package pgtest_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest"
)

// TestStartClusterForPrograms drives the entry points for programs that
// are not tests: nothing is registered with t, so the test checks itself
// that Close stops the server and removes its directory.
func TestStartClusterForPrograms(t *testing.T) {
	if err := pgtest.Available(); err != nil {
		t.Skip(err)
	}
	c, err := pgtest.StartCluster(pgtest.WithTCP())
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = c.Close()
		}
	})
	pid, dir := c.PID(), c.SocketDir()

	u, err := c.RemoteDBUserErr("engine", "pw'1", "engine")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ExecAsErr("engine", "engine", "CREATE TABLE t (id int PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	objs, err := c.ObjectsOwnedByErr("engine", "engine")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"index public.t_pkey", "table public.t"}; strings.Join(objs, ",") != strings.Join(want, ",") {
		t.Errorf("objects owned by engine: %v, want %v", objs, want)
	}
	conn, err := pgx.Connect(context.Background(), u.DSN())
	if err != nil {
		t.Fatalf("the role cannot log in over TCP with its password: %v", err)
	}
	_ = conn.Close(context.Background())

	// Errors are returned, with context, instead of failing a test.
	if err := c.ExecErr("engine", "SELECT * FROM nowhere"); err == nil || !strings.Contains(err.Error(), "pgtest: exec in engine") {
		t.Errorf("ExecErr of a bad statement: %v", err)
	}
	if _, err := c.QueryStringsErr("nodb", "SELECT 1"); err == nil || !strings.Contains(err.Error(), "connect to nodb") {
		t.Errorf("QueryStringsErr in a missing database: %v", err)
	}
	if err := c.CreateRoleErr("engine", "", "LOGIN"); err == nil {
		t.Error("CreateRoleErr of an existing role succeeded")
	}

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	if !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		t.Errorf("postmaster %d still runs after Close", pid)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there after Close: %v", dir, err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}

func TestStartClusterRefusesWhatNeedsATest(t *testing.T) {
	if err := pgtest.Available(); err != nil {
		t.Skip(err)
	}
	_, err := pgtest.StartCluster(pgtest.WithTemplate("x", func(testing.TB, *pgtest.Cluster) {}))
	if err == nil || !strings.Contains(err.Error(), "needs a test") {
		t.Fatalf("StartCluster(WithTemplate): %v, want a refusal", err)
	}
	c, err := pgtest.StartCluster() // socket only
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.RemoteDBUserErr("engine", "pw", "engine"); err == nil || !strings.Contains(err.Error(), "WithTCP") {
		t.Errorf("RemoteDBUserErr without TCP: %v", err)
	}
	u, err := c.LocalDBUserErr("engine", "pw", "engine")
	if err != nil {
		t.Fatal(err)
	}
	if u.Host != c.SocketDir() {
		t.Errorf("local user reached at %s, want the socket directory", u.Host)
	}
}
