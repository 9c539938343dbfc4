package schema_test

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest"
	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest/schema"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := schema.Generate(schema.Small()), schema.Generate(schema.Small())
	if a.SQL != b.SQL {
		t.Fatal("two runs generated different SQL")
	}
	full := schema.Generate(schema.Full())
	t.Logf("full schema: %d bytes of SQL, kinds %v, %d rows", len(full.SQL), full.Kinds, full.Rows)
	if full.Tables < 300 || full.Functions < 2500 || full.Rows < 3000 {
		t.Fatalf("full schema too small: %d tables, %d functions, %d rows", full.Tables, full.Functions, full.Rows)
	}
}

// TestSmallSchemaOwnership checks, on the quick size, that the generator's
// bookkeeping matches what PostgreSQL records as owned by the role, and
// that the role's DROP OWNED leaves nothing behind.
func TestSmallSchemaOwnership(t *testing.T) {
	c := pgtest.Start(t)
	c.LocalDBUser(t, "engine", "engine", "engine")
	s := schema.Load(t, c, "engine", "engine", schema.Small())
	checkLoaded(t, c, s, schema.Small())

	conn := c.Conn(t, c.SocketDSN("engine", "engine"))
	if _, err := conn.Exec(t.Context(), "DROP OWNED BY engine"); err != nil {
		t.Fatalf("DROP OWNED BY engine as engine: %v", err)
	}
	if got := c.ObjectsOwnedBy(t, "engine", "engine"); len(got) != 0 {
		t.Fatalf("after DROP OWNED: %d objects remain: %q", len(got), got)
	}
	if got := c.RowCounts(t, "engine"); len(got) != 0 {
		t.Fatalf("after DROP OWNED: tables remain: %v", got)
	}
}

// TestFullSchemaRemoteUser loads the realistic size as the remote-database
// user, dumps it with pg_dump -Fc over TCP as that user and restores it into
// a second database, then compares both.
func TestFullSchemaRemoteUser(t *testing.T) {
	if testing.Short() {
		t.Skip("full schema load takes seconds")
	}
	c := pgtest.Start(t, pgtest.WithTCP())
	u := c.RemoteDBUser(t, "engine", "engine-pw", "engine")
	start := time.Now()
	s := schema.Load(t, c, "engine", "engine", schema.Full())
	t.Logf("loaded full schema (%d bytes of SQL) in %v", len(s.SQL), time.Since(start))
	objects := checkLoaded(t, c, s, schema.Full())

	dump := filepath.Join(t.TempDir(), "engine.dump")
	start = time.Now()
	run(t, u.Env(), pgtest.Bin("pg_dump"), "-Fc", "-f", dump)
	t.Logf("pg_dump -Fc as engine over TCP: %v", time.Since(start))
	if fi, err := os.Stat(dump); err != nil || fi.Size() == 0 {
		t.Fatalf("dump file: %v", err)
	}
	toc := run(t, u.Env(), pgtest.Bin("pg_restore"), "-l", dump)
	for _, want := range []string{"FUNCTION public getvmstaticbyid(", "TABLE public vds_dynamic ", "SCHEMA - aaa_jdbc ", "MATERIALIZED VIEW DATA public vm_static_mv_summary "} {
		if !strings.Contains(toc, want) {
			t.Errorf("dump contents lack %q", want)
		}
	}

	// A second database for engine, which cannot create it itself.
	c.CreateDatabase(t, "engine_copy", "engine")
	copyUser := u
	copyUser.Database = "engine_copy"
	start = time.Now()
	run(t, copyUser.Env(), pgtest.Bin("pg_restore"), "--no-owner", "--exit-on-error", "-d", "engine_copy", dump)
	t.Logf("pg_restore --no-owner as engine over TCP: %v", time.Since(start))
	if got := c.ObjectsOwnedBy(t, "engine_copy", "engine"); !slices.Equal(got, objects) {
		t.Errorf("restored copy differs: %d objects, original %d", len(got), len(objects))
	}
	if a, b := c.RowCounts(t, "engine"), c.RowCounts(t, "engine_copy"); !maps.Equal(a, b) {
		t.Errorf("row counts differ after restore")
	}
}

// checkLoaded compares the loaded database with the generator's counts and
// returns ObjectsOwnedBy.
func checkLoaded(t *testing.T, c *pgtest.Cluster, s *schema.Schema, o schema.Options) []string {
	t.Helper()
	objects := c.ObjectsOwnedBy(t, "engine", "engine")
	kinds := pgtest.CountKinds(objects)
	t.Logf("objects owned by engine: %d: %v", len(objects), kinds)
	if kinds["table"] < o.Tables || kinds["function"] < o.Functions {
		t.Errorf("owned: %d tables, %d functions; requested %d and %d", kinds["table"], kinds["function"], o.Tables, o.Functions)
	}
	if !maps.Equal(kinds, s.Kinds) {
		t.Errorf("owned objects by kind\n got %v\nwant %v", kinds, s.Kinds)
	}
	for _, k := range []string{"view", "materialized view", "sequence", "procedure", "domain", "schema", "index"} {
		if kinds[k] == 0 {
			t.Errorf("no %s owned by engine", k)
		}
	}
	for _, want := range []string{"schema aaa_jdbc", "table aaa_jdbc.users", "type public.vm_status (enum)",
		"type public.iduuidtype (composite)", "domain public.mac_address", "function public.insertvmstatic(pg_catalog.uuid,character varying,pg_catalog.text,integer)"} {
		if !slices.Contains(objects, want) {
			t.Errorf("%q not owned by engine", want)
		}
	}
	counts := c.RowCounts(t, "engine")
	var rows int64
	for _, n := range counts {
		rows += n
	}
	if len(counts) != s.Tables || rows != s.Rows {
		t.Errorf("RowCounts: %d tables, %d rows; generator says %d and %d", len(counts), rows, s.Tables, s.Rows)
	}
	if got := slices.Sorted(maps.Keys(counts)); !slices.Equal(got, slices.Sorted(slices.Values(s.TableNames))) {
		t.Errorf("tables differ from TableNames")
	}
	// The stored procedures run: the schema is not just syntactically valid.
	got := c.QueryStrings(t, "engine", "SELECT count(*)::text FROM GetAllFromVmStatic()")
	if want := []string{strconv.Itoa(o.RowsPerTable)}; !slices.Equal(got, want) {
		t.Errorf("GetAllFromVmStatic() returned %v rows, want %v", got, want)
	}
	return objects
}

func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestFullSchemaTemplate checks that clusters started from a template
// carry the schema, the data and the role with its password.
func TestFullSchemaTemplate(t *testing.T) {
	if testing.Short() {
		t.Skip("full schema load takes seconds")
	}
	var first []string
	for i := range 3 {
		start := time.Now()
		c := pgtest.Start(t, pgtest.WithTCP(), schema.EngineTemplate("engine", "engine-pw", "engine", schema.Full()))
		t.Logf("cluster %d with the full engine schema ready in %v", i, time.Since(start))
		u := c.DBUserOverTCP("engine", "engine-pw", "engine")
		conn, err := pgx.Connect(t.Context(), u.DSN())
		if err != nil {
			t.Fatalf("connect as engine over TCP: %v", err)
		}
		conn.Close(t.Context()) // CloneDatabase needs engine unused
		objects := c.ObjectsOwnedBy(t, "engine", "engine")
		if i == 0 {
			first = objects
			if len(objects) < 3000 {
				t.Fatalf("template cluster has %d objects owned by engine", len(objects))
			}
			start = time.Now()
			c.CloneDatabase(t, "engine", "engine_clone", "engine")
			t.Logf("CloneDatabase of the full engine database: %v", time.Since(start))
			if got := c.ObjectsOwnedBy(t, "engine_clone", "engine"); !slices.Equal(got, objects) {
				t.Errorf("clone differs: %d objects, original %d", len(got), len(objects))
			}
		} else if !slices.Equal(objects, first) {
			t.Errorf("cluster %d: %d objects, first cluster %d", i, len(objects), len(first))
		}
		// Each cluster is a private copy.
		c.Exec(t, "engine", "DROP OWNED BY engine")
	}
}
