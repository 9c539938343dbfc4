package db

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest"
	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest/schema"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The full engine-like schema is loaded once per test binary under these
// credentials (pgtest.WithTemplate) and copied for each test that uses it.
const (
	engineRole = "engine"
	enginePW   = "engine-pw"
	engineDB   = "engine"
)

// fullCluster starts a cluster whose engine database holds the full
// engine-like schema (3,900 objects, owned by the NOCREATEDB role engine).
func fullCluster(t testing.TB, opts ...pgtest.Option) *pgtest.Cluster {
	t.Helper()
	opts = append([]pgtest.Option{pgtest.WithTCP(), schema.EngineTemplate(engineRole, enginePW, engineDB, schema.Full())}, opts...)
	return pgtest.Start(t, opts...)
}

// smallCluster starts a cluster with the remote-case role engine owning
// database engine, which holds the small engine-like schema.
func smallCluster(t testing.TB) *pgtest.Cluster {
	t.Helper()
	c := pgtest.Start(t, pgtest.WithTCP(), schema.EngineTemplate(engineRole, enginePW, engineDB, schema.Small()))
	return c
}

// targetOf is the Target a plugin would build for u.
func targetOf(u pgtest.DBUser) Target {
	return Target{Host: u.Host, Port: u.Port, User: u.Name, Password: records.Secret(u.Password), Database: u.Database}
}

func remoteTarget(c *pgtest.Cluster, db string) Target {
	return targetOf(c.DBUserOverTCP(engineRole, enginePW, db))
}

// testLogger sends the package's log lines to the test log.
func testLogger(t testing.TB) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "db", Level: hclog.Debug, Output: testWriter{t}, DisableTime: true})
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// canReuse proves what the next engine-setup needs: the role still logs
// in to its database and can create a table in public.
func canReuse(t *testing.T, tg Target) {
	t.Helper()
	ctx := ctxFor(t)
	conn, _, err := Connect(ctx, tg)
	if err != nil {
		t.Fatalf("after clearing, %s cannot connect: %v", tg, err)
	}
	defer closeQuietly(conn)
	if _, err := conn.Exec(ctx, "CREATE TABLE public.next_setup (id int PRIMARY KEY); INSERT INTO public.next_setup VALUES (1)"); err != nil {
		t.Fatalf("after clearing, %s cannot create a table in public: %v", tg, err)
	}
	if _, err := conn.Exec(ctx, "DROP TABLE public.next_setup"); err != nil {
		t.Fatalf("dropping the probe table: %v", err)
	}
}

// closedPort returns a TCP port on 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// dirNames lists the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// childDumps finds the pg_dump processes that are children of this test
// binary and returns their PIDs.
func childDumps(t *testing.T) []int {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || !strings.Contains(s[:i], "(pg_dump") {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(os.Getpid()) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procStrings reads a NUL-separated /proc file (cmdline, environ).
func procStrings(pid int, file string) []string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), file))
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// restoreCounts restores dump with pg_restore --no-owner into a new
// database owned by a new role and returns its row counts and number of
// functions and procedures.
func restoreCounts(t *testing.T, c *pgtest.Cluster, dump string) (map[string]int64, string) {
	t.Helper()
	c.CreateRole(t, "restorer", "", "LOGIN NOCREATEDB NOCREATEROLE")
	c.CreateDatabase(t, "restored", "restorer")
	cmd := exec.Command(pgtest.Bin("pg_restore"), "--no-owner", "--exit-on-error", "--dbname", c.SocketDSN("restorer", "restored"), dump)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_restore --no-owner %s: %v\n%s", dump, err, out)
	}
	return c.RowCounts(t, "restored"), routineCount(t, c, "restored")
}

func routineCount(t *testing.T, c *pgtest.Cluster, db string) string {
	t.Helper()
	return c.QueryStrings(t, db, `SELECT count(*)::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')`)[0]
}

func mustExec(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(ctxFor(t), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
