package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// queryTimeout bounds each helper's work. The helpers use their own context
// rather than t.Context() because they are also called from t.Cleanup
// functions, where t.Context() is already cancelled.
const queryTimeout = 5 * time.Minute

func helperContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), queryTimeout)
}

// Conn opens a connection that is closed when the test ends.
func (c *Cluster) Conn(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: connect %s: %v", redact(dsn), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = conn.Close(ctx)
	})
	return conn
}

// Exec runs each SQL string as the superuser in db, over one connection.
// A string may hold several statements (no parameters: pgx then uses the
// simple protocol).
func (c *Cluster) Exec(t testing.TB, db string, sql ...string) {
	t.Helper()
	if err := c.ExecErr(db, sql...); err != nil {
		t.Fatal(err)
	}
}

// ExecErr is Exec returning its error, for programs that are not tests.
func (c *Cluster) ExecErr(db string, sql ...string) error { return c.exec(db, "", sql) }

// ExecAs runs SQL in db as role (SET ROLE from the superuser), so that the
// objects it creates are owned by role, which needs no password or login.
func (c *Cluster) ExecAs(t testing.TB, db, role string, sql ...string) {
	t.Helper()
	if err := c.ExecAsErr(db, role, sql...); err != nil {
		t.Fatal(err)
	}
}

// ExecAsErr is ExecAs returning its error, for programs that are not tests.
func (c *Cluster) ExecAsErr(db, role string, sql ...string) error { return c.exec(db, role, sql) }

func (c *Cluster) exec(db, role string, sql []string) error {
	ctx, cancel := helperContext()
	defer cancel()
	conn, err := pgx.Connect(ctx, c.SuperDSN(db))
	if err != nil {
		return fmt.Errorf("pgtest: connect to %s as postgres: %w", db, err)
	}
	defer conn.Close(context.Background())
	if role != "" {
		if _, err := conn.Exec(ctx, "SET ROLE "+Ident(role)); err != nil {
			return fmt.Errorf("pgtest: set role %s in %s: %w", role, db, err)
		}
	}
	for _, s := range sql {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("pgtest: exec in %s: %w\n%s", db, err, abbreviate(s, 2000))
		}
	}
	return nil
}

// QueryStrings runs a query as the superuser in db and returns the first
// column of every row as text (cast in SQL if needed: "SELECT x::text"); a
// NULL becomes "".
func (c *Cluster) QueryStrings(t testing.TB, db, sql string, args ...any) []string {
	t.Helper()
	out, err := c.QueryStringsErr(db, sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// QueryStringsErr is QueryStrings returning its error, for programs that
// are not tests.
func (c *Cluster) QueryStringsErr(db, sql string, args ...any) ([]string, error) {
	ctx, cancel := helperContext()
	defer cancel()
	conn, err := pgx.Connect(ctx, c.SuperDSN(db))
	if err != nil {
		return nil, fmt.Errorf("pgtest: connect to %s as postgres: %w", db, err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("pgtest: query in %s: %w\n%s", db, err, abbreviate(sql, 2000))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var s *string
		if err := r.Scan(&s); err != nil || s == nil {
			return "", err
		}
		return *s, nil
	})
	if err != nil {
		return nil, fmt.Errorf("pgtest: query in %s: %w\n%s", db, err, abbreviate(sql, 2000))
	}
	return out, nil
}

// CreateRole creates a role. attrs is the option list of CREATE ROLE, e.g.
// "LOGIN NOCREATEDB NOCREATEROLE"; an empty password means none.
func (c *Cluster) CreateRole(t testing.TB, name, password, attrs string) {
	t.Helper()
	if err := c.CreateRoleErr(name, password, attrs); err != nil {
		t.Fatal(err)
	}
}

// CreateRoleErr is CreateRole returning its error, for programs that are
// not tests.
func (c *Cluster) CreateRoleErr(name, password, attrs string) error {
	sql := "CREATE ROLE " + Ident(name) + " " + attrs
	if password != "" {
		// password_encryption defaults to scram-sha-256 in PostgreSQL 15.
		sql += " PASSWORD " + Literal(password)
	}
	return c.ExecErr("postgres", sql)
}

// CreateDatabase creates a database owned by owner (the superuser if
// owner is empty).
func (c *Cluster) CreateDatabase(t testing.TB, name, owner string) {
	t.Helper()
	if err := c.CreateDatabaseErr(name, owner); err != nil {
		t.Fatal(err)
	}
}

// CreateDatabaseErr is CreateDatabase returning its error, for programs
// that are not tests.
func (c *Cluster) CreateDatabaseErr(name, owner string) error {
	sql := "CREATE DATABASE " + Ident(name)
	if owner != "" {
		sql += " OWNER " + Ident(owner)
	}
	return c.ExecErr("postgres", sql)
}

// CloneDatabase creates dst as a copy of src (CREATE DATABASE ... TEMPLATE,
// with the FILE_COPY strategy, much faster than the default WAL_LOG one
// with fsync off), owned by owner (or by the superuser if empty); the
// objects inside keep their owners. Nobody may be connected to src.
func (c *Cluster) CloneDatabase(t testing.TB, src, dst, owner string) {
	t.Helper()
	sql := "CREATE DATABASE " + Ident(dst) + " TEMPLATE " + Ident(src) + " STRATEGY FILE_COPY"
	if owner != "" {
		sql += " OWNER " + Ident(owner)
	}
	c.Exec(t, "postgres", sql)
}

// RoleExists reports whether a role of that name exists.
func (c *Cluster) RoleExists(t testing.TB, name string) bool {
	t.Helper()
	return len(c.QueryStrings(t, "postgres", "SELECT rolname::text FROM pg_roles WHERE rolname = $1", name)) > 0
}

// DatabasesOwnedBy lists, sorted, the databases whose owner is role.
func (c *Cluster) DatabasesOwnedBy(t testing.TB, role string) []string {
	t.Helper()
	return c.QueryStrings(t, "postgres", `SELECT d.datname::text FROM pg_database d
		JOIN pg_roles r ON r.oid = d.datdba WHERE r.rolname = $1 ORDER BY 1`, role)
}

// objectsOwnedSQL lists what pg_shdepend records as owned by the role in the
// current database: exactly the objects that make DROP ROLE fail and that
// DROP OWNED / REASSIGN OWNED act on (tables, views, materialized views,
// sequences, functions, procedures, aggregates, types, domains, schemas,
// operators, collations, text search objects, foreign servers, event
// triggers, publications, extensions, large objects, statistics objects...).
// Indexes carry no owner dependency (they follow their table) and are
// added from pg_class so that before/after comparisons see them.
//
// pg_identify_object's identity is always schema-qualified and quoted as
// needed, and so are argument types: "function
// public.getvmbyvmguid(pg_catalog.uuid,pg_catalog.bool)". Domains are
// reported as "domain" (pg_identify_object says "type").
const objectsOwnedSQL = `
WITH r AS (SELECT oid FROM pg_roles WHERE rolname = $1),
     owned AS (
       SELECT d.classid, d.objid, d.objsubid
       FROM pg_shdepend d, r
       WHERE d.refclassid = 'pg_authid'::regclass AND d.refobjid = r.oid AND d.deptype = 'o'
         AND d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()))
SELECT CASE WHEN t.typtype = 'd' THEN 'domain' ELSE i.type END || ' ' || i.identity ||
       CASE t.typtype WHEN 'e' THEN ' (enum)' WHEN 'c' THEN ' (composite)' WHEN 'r' THEN ' (range)'
         WHEN 'm' THEN ' (multirange)' WHEN 'b' THEN ' (base)' ELSE '' END
FROM owned o
  CROSS JOIN LATERAL pg_identify_object(o.classid, o.objid, o.objsubid) i
  LEFT JOIN pg_type t ON o.classid = 'pg_type'::regclass AND t.oid = o.objid
UNION ALL
SELECT 'index ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, r
WHERE c.relkind IN ('i', 'I') AND c.relowner = r.oid
  AND n.nspname NOT IN ('pg_catalog', 'pg_toast', 'information_schema')`

// ObjectsOwnedBy returns a sorted description of every object role owns in
// db, one per line such as "table public.vds_static", "function
// public.getvmbyvmguid(pg_catalog.uuid)", "procedure public.p()", "type
// public.vm_status (enum)", "type public.iduuidtype (composite)", "domain
// public.mac_address", "schema aaa_jdbc", "sequence public.t_id_seq",
// "index public.pk_vds_static", "default acl for role engine in schema
// aaa_jdbc on tables".
// An empty result proves that nothing owned by the role remains in db (the
// database itself, a cluster-wide object, is reported by DatabasesOwnedBy).
//
// It relies on pg_shdepend, which has no entries for the bootstrap
// superuser: do not ask about "postgres".
func (c *Cluster) ObjectsOwnedBy(t testing.TB, db, role string) []string {
	t.Helper()
	objs, err := c.ObjectsOwnedByErr(db, role)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// ObjectsOwnedByErr is ObjectsOwnedBy returning its error, for programs
// that are not tests.
func (c *Cluster) ObjectsOwnedByErr(db, role string) ([]string, error) {
	objs, err := c.QueryStringsErr(db, objectsOwnedSQL, role)
	if err != nil {
		return nil, err
	}
	sort.Strings(objs)
	return objs, nil
}

// CountKinds tallies ObjectsOwnedBy lines by kind, the text before the
// object's identity: "table", "function", "type", "materialized view"...
func CountKinds(objects []string) map[string]int {
	kinds := map[string]int{}
	for _, o := range objects {
		kinds[objectKind(o)]++
	}
	return kinds
}

func objectKind(o string) string {
	for _, k := range []string{"materialized view", "foreign table", "text search configuration",
		"text search dictionary", "text search parser", "text search template", "event trigger",
		"foreign-data wrapper", "large object", "operator class", "operator family",
		"statistics object", "default acl"} {
		if strings.HasPrefix(o, k+" ") {
			return k
		}
	}
	k, _, _ := strings.Cut(o, " ")
	return k
}

// RowCounts returns the exact row count of every ordinary table (including
// partitions, not their parents) outside the system schemas, keyed by
// "schema.table".
func (c *Cluster) RowCounts(t testing.TB, db string) map[string]int64 {
	t.Helper()
	tables := c.QueryStrings(t, db, `
		SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'`)
	counts := make(map[string]int64, len(tables))
	if len(tables) == 0 {
		return counts
	}
	// One query for all tables: a round trip per table would dominate.
	parts := make([]string, len(tables))
	for i, tbl := range tables {
		parts[i] = fmt.Sprintf("SELECT %s::text || ' ' || count(*)::text FROM %s", Literal(tbl), tbl)
	}
	for _, line := range c.QueryStrings(t, db, strings.Join(parts, "\nUNION ALL\n")) {
		i := strings.LastIndexByte(line, ' ')
		n, err := strconv.ParseInt(line[i+1:], 10, 64)
		if err != nil {
			t.Fatalf("pgtest: parse row count %q: %v", line, err)
		}
		counts[line[:i]] = n
	}
	return counts
}

// DBUser is a login role that owns a database, as the oVirt engine's
// database user does.
type DBUser struct {
	Name     string
	Password string
	Database string
	// Host is "127.0.0.1" for a remote user and the socket directory for a
	// local one.
	Host string
	Port int
}

// DSN connects as the user to its database, with its password.
func (u DBUser) DSN() string {
	return DSN("host", u.Host, "port", strconv.Itoa(u.Port), "user", u.Name, "password", u.Password,
		"dbname", u.Database, "sslmode", "disable")
}

// Env returns the environment for client programs (pg_dump, psql...) to
// connect as the user: os.Environ() with PGHOST, PGPORT, PGUSER,
// PGPASSWORD and PGDATABASE replaced.
func (u DBUser) Env() []string {
	env := make([]string, 0, len(os.Environ())+5)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return append(env, "PGHOST="+u.Host, "PGPORT="+strconv.Itoa(u.Port), "PGUSER="+u.Name,
		"PGPASSWORD="+u.Password, "PGDATABASE="+u.Database, "PGSSLMODE=disable")
}

// userAttrs are those of an oVirt engine database user: it may log in and
// owns its database, but can create neither databases nor roles.
const userAttrs = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"

// RemoteDBUser creates a role with a password and a database it owns, and
// returns how to reach it over TCP with scram-sha-256: the "remote
// database" case, where the user can empty its database but not drop it.
// The cluster must have been started WithTCP.
func (c *Cluster) RemoteDBUser(t testing.TB, name, password, db string) DBUser {
	t.Helper()
	u, err := c.RemoteDBUserErr(name, password, db)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// RemoteDBUserErr is RemoteDBUser returning its error, for programs that
// are not tests.
func (c *Cluster) RemoteDBUserErr(name, password, db string) (DBUser, error) {
	if !c.tcp {
		return DBUser{}, errors.New("pgtest: RemoteDBUser needs a cluster started WithTCP()")
	}
	if password == "" {
		return DBUser{}, errors.New("pgtest: RemoteDBUser needs a password")
	}
	if err := c.createDBUser(name, password, db); err != nil {
		return DBUser{}, err
	}
	return c.DBUserOverTCP(name, password, db), nil
}

// LocalDBUser creates the same role and database as RemoteDBUser but
// connects over the Unix socket, where authentication is trust: the
// "local database" case, where the cleanup may also act as the superuser.
func (c *Cluster) LocalDBUser(t testing.TB, name, password, db string) DBUser {
	t.Helper()
	u, err := c.LocalDBUserErr(name, password, db)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// LocalDBUserErr is LocalDBUser returning its error, for programs that are
// not tests.
func (c *Cluster) LocalDBUserErr(name, password, db string) (DBUser, error) {
	if err := c.createDBUser(name, password, db); err != nil {
		return DBUser{}, err
	}
	return c.DBUserOverSocket(name, password, db), nil
}

func (c *Cluster) createDBUser(name, password, db string) error {
	if err := c.CreateRoleErr(name, password, userAttrs); err != nil {
		return err
	}
	return c.CreateDatabaseErr(db, name)
}

// DBUserOverTCP describes how an existing role reaches db over TCP, e.g.
// one created by a WithTemplate setup. It creates nothing.
func (c *Cluster) DBUserOverTCP(name, password, db string) DBUser {
	return DBUser{Name: name, Password: password, Database: db, Host: "127.0.0.1", Port: c.port}
}

// DBUserOverSocket describes how an existing role reaches db over the Unix
// socket. It creates nothing.
func (c *Cluster) DBUserOverSocket(name, password, db string) DBUser {
	return DBUser{Name: name, Password: password, Database: db, Host: c.dir, Port: c.port}
}

// Ident quotes an SQL identifier.
func Ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// Literal quotes an SQL string literal (standard_conforming_strings is on).
func Literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func abbreviate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("... (%d more bytes)", len(s)-n)
}

// redact hides the password of a keyword/value DSN in error messages.
func redact(dsn string) string {
	i := strings.Index(dsn, "password='")
	if i < 0 {
		return dsn
	}
	j := i + len("password='")
	for j < len(dsn) && dsn[j] != '\'' {
		if dsn[j] == '\\' {
			j++
		}
		j++
	}
	if j >= len(dsn) {
		return dsn[:i] + "password=xxx"
	}
	return dsn[:i] + "password=xxx" + dsn[j+1:]
}
