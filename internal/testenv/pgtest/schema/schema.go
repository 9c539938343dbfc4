package schema

import (
	"fmt"
	"strings"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest"
)

// Options sizes the generated schema.
type Options struct {
	// Tables is the number of generated tables in public; a few fixed ones
	// (schema_version, vdc_options and those of aaa_jdbc) come on top.
	Tables int
	// Functions is the number of generated plpgsql functions in public; a
	// trigger function, procedures and aaa_jdbc's functions come on top.
	Functions int
	// RowsPerTable is the number of rows inserted into each generated
	// table.
	RowsPerTable int
}

// Small is for quick tests: every kind of object, few of each.
func Small() Options { return Options{Tables: 20, Functions: 100, RowsPerTable: 5} }

// Full approaches a real engine database: 300 tables, 2500 functions and
// about 3,500 rows.
func Full() Options { return Options{Tables: 300, Functions: 2500, RowsPerTable: 10} }

// Schema is generated SQL and the number of objects of each kind it
// creates, all owned by the role that runs it. The counts use the kinds of
// pgtest.ObjectsOwnedBy / pgtest.CountKinds.
type Schema struct {
	SQL string

	Tables            int // in public and aaa_jdbc
	Views             int
	MaterializedViews int
	Sequences         int // serial columns' and standalone ones
	Functions         int
	Procedures        int
	Types             int // enums and composite types
	Domains           int
	Schemas           int // aaa_jdbc
	Indexes           int // including those of primary keys and unique constraints
	Rows              int64

	// Objects by kind, as pgtest.CountKinds would count them.
	Kinds map[string]int
	// TableNames lists every table, schema-qualified ("public.vm_static").
	TableNames []string
}

// Load creates the schema in db as owner, which must be allowed to create
// objects there (owning db is enough), and returns what it created.
func Load(t testing.TB, c *pgtest.Cluster, db, owner string, o Options) *Schema {
	t.Helper()
	s, err := LoadErr(c, db, owner, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// LoadErr is Load returning its error, for programs that are not tests.
func LoadErr(c *pgtest.Cluster, db, owner string, o Options) (*Schema, error) {
	s := Generate(o)
	if err := c.ExecAsErr(db, owner, s.SQL); err != nil {
		return nil, err
	}
	return s, nil
}

// EngineTemplate is a pgtest option for clusters that start with the
// engine database already loaded: role user (LOGIN, password, NOCREATEDB,
// NOCREATEROLE) owning database db, which holds the schema of o. The
// schema is loaded once per test binary and copied for each cluster (see
// pgtest.WithTemplate). Reach the database with c.DBUserOverTCP (add
// pgtest.WithTCP()) or c.DBUserOverSocket.
func EngineTemplate(user, password, db string, o Options) pgtest.Option {
	name := fmt.Sprintf("schema.EngineTemplate(%q, %q, %q, %+v)", user, password, db, o)
	return pgtest.WithTemplate(name, func(t testing.TB, c *pgtest.Cluster) {
		c.LocalDBUser(t, user, password, db) // the same role and database as RemoteDBUser's
		Load(t, c, db, user, o)
	})
}

// EngineLikeSchema returns the SQL of Generate(o).
func EngineLikeSchema(o Options) string { return Generate(o).SQL }

// entities are oVirt engine entity names; tables are entity+suffix.
var entities = []string{
	"vm", "vds", "vm_template", "storage_domain", "storage_pool", "cluster", "network",
	"vnic_profile", "disk", "image", "snapshot", "vm_device", "vm_interface", "audit_log",
	"job", "step", "async_task", "engine_user", "ad_group", "role", "permission", "tag",
	"bookmark", "quota", "disk_profile", "cpu_profile", "provider", "event_subscriber",
	"affinity_group", "label", "gluster_volume", "gluster_brick", "gluster_server",
	"host_device", "numa_node", "vm_pool", "mac_pool", "iscsi_bond", "lun",
	"storage_server_connection", "image_transfer", "vm_backup", "vm_checkpoint",
	"engine_session", "command_entity", "dns_resolver", "business_entity_snapshot",
	"policy_unit", "cluster_policy", "fence_agent", "vds_kdump", "repo_file",
	"unregistered_disk", "qos", "network_attachment", "bond", "host_nic_vf_config",
	"vm_icon", "vm_init", "vm_ovf_generation",
}

var suffixes = []string{"_static", "_dynamic", "_statistics", "_map", "_history"}

var enums = []struct{ name, labels string }{
	{"vm_status", "'Down', 'Up', 'PoweringUp', 'Paused', 'MigratingFrom', 'MigratingTo', 'Unknown', 'NotResponding', 'WaitForLaunch', 'RebootInProgress', 'SavingState', 'RestoringState', 'Suspended', 'ImageIllegal', 'ImageLocked', 'PoweringDown'"},
	{"vds_status", "'Unassigned', 'Down', 'Maintenance', 'Up', 'NonResponsive', 'Error', 'Installing', 'InstallFailed', 'Reboot', 'PreparingForMaintenance', 'NonOperational', 'PendingApproval', 'Initializing', 'Connecting', 'InstallingOS', 'Kdumping'"},
	{"storage_domain_status", "'Unknown', 'Uninitialized', 'Unattached', 'Active', 'Inactive', 'Locked', 'Maintenance', 'PreparingForMaintenance', 'Detaching', 'Activating'"},
	{"job_status", "'STARTED', 'FINISHED', 'FAILED', 'ABORTED', 'UNKNOWN'"},
	{"async_task_status", "'unknown', 'init', 'running', 'finished', 'aborting', 'cleaning'"},
	{"image_transfer_phase", "'UNKNOWN', 'INITIALIZING', 'TRANSFERRING', 'RESUMING', 'PAUSED_SYSTEM', 'PAUSED_USER', 'CANCELLED_SYSTEM', 'FINALIZING_SUCCESS', 'FINALIZING_FAILURE', 'FINISHED_SUCCESS', 'FINISHED_FAILURE'"},
}

// table is one generated table.
type table struct {
	name    string // unqualified, in public
	camel   string // for function names: vm_static -> VmStatic
	serial  bool   // BIGSERIAL id (audit_log-like) instead of UUID
	parent  *table // FOREIGN KEY (parent_id) REFERENCES parent(id)
	enum    string // enum column "kind" of that type, or ""
	domain  string // "positive_int" or "mac_address" column, or ""
	trigger bool
}

func (tb *table) idType() string {
	if tb.serial {
		return "BIGINT"
	}
	return "UUID"
}

// generator accumulates SQL and counts.
type generator struct {
	o Options
	b strings.Builder
	s *Schema
}

func (g *generator) printf(format string, args ...any) { fmt.Fprintf(&g.b, format, args...) }

// Generate returns the SQL for o and what it creates. The output depends
// only on o.
func Generate(o Options) *Schema {
	if o.Tables < 1 {
		o.Tables = 1
	}
	if o.Functions < 0 {
		o.Functions = 0
	}
	if o.RowsPerTable < 0 {
		o.RowsPerTable = 0
	}
	g := &generator{o: o, s: &Schema{}}
	g.printf("-- oVirt-engine-like schema: %d tables, %d functions, %d rows per table\n", o.Tables, o.Functions, o.RowsPerTable)
	// search_path fixes where unqualified objects go whoever runs the
	// script; client_min_messages keeps the server log quiet.
	g.printf("SET search_path = public;\nSET client_min_messages = warning;\n\n")
	g.types()
	tables := g.planTables()
	g.printf(`CREATE OR REPLACE FUNCTION fn_set_update_date() RETURNS TRIGGER AS $PROCEDURE$
BEGIN
    NEW._update_date := LOCALTIMESTAMP;
    RETURN NEW;
END;$PROCEDURE$
LANGUAGE plpgsql;

`)
	g.s.Functions++
	for _, tb := range tables {
		g.table(tb)
	}
	g.fixedTables()
	g.views(tables)
	g.functions(tables)
	g.aaaJDBC()
	g.s.SQL = g.b.String()
	g.s.Kinds = map[string]int{
		"table": g.s.Tables, "view": g.s.Views, "materialized view": g.s.MaterializedViews,
		"sequence": g.s.Sequences, "function": g.s.Functions, "procedure": g.s.Procedures,
		"type": g.s.Types, "domain": g.s.Domains, "schema": g.s.Schemas, "index": g.s.Indexes,
	}
	return g.s
}

func (g *generator) types() {
	for _, e := range enums {
		g.printf("CREATE TYPE %s AS ENUM (%s);\n", e.name, e.labels)
		g.s.Types++
	}
	g.printf(`CREATE DOMAIN positive_int AS INTEGER CHECK (VALUE >= 0);
CREATE DOMAIN mac_address AS VARCHAR(17) CHECK (VALUE ~ '^([0-9a-f]{2}:){5}[0-9a-f]{2}$');
CREATE DOMAIN non_empty_text AS TEXT CHECK (VALUE <> '');
`)
	g.s.Domains += 3
	// The engine's stored procedures return these "result set" types.
	g.printf(`CREATE TYPE idUuidType AS (id UUID);
CREATE TYPE idTextType AS (id TEXT);
CREATE TYPE booleanResultType AS (result BOOLEAN);
CREATE TYPE user_permissions_rs AS (permission_id UUID, role_id UUID, object_id UUID, object_type_id INTEGER);

`)
	g.s.Types += 4
}

func (g *generator) planTables() []*table {
	var tables []*table
	var uuidTables []*table
	perRound := len(entities) * len(suffixes)
	for i := 0; i < g.o.Tables; i++ {
		name := entities[i%len(entities)] + suffixes[(i/len(entities))%len(suffixes)]
		if r := i / perRound; r > 0 {
			name += fmt.Sprintf("_%d", r+1)
		}
		tb := &table{name: name, camel: camel(name), serial: i%10 == 9, trigger: i%10 == 0}
		if len(uuidTables) > 0 {
			tb.parent = uuidTables[(i*7)%len(uuidTables)]
		}
		if i%3 == 0 {
			tb.enum = enums[(i/3)%len(enums)].name
		}
		switch i % 4 {
		case 1:
			tb.domain = "positive_int"
		case 2:
			tb.domain = "mac_address"
		}
		tables = append(tables, tb)
		if !tb.serial {
			uuidTables = append(uuidTables, tb)
		}
	}
	return tables
}

func (g *generator) table(tb *table) {
	t := tb.name
	id := "id UUID NOT NULL"
	if tb.serial {
		id = "id BIGSERIAL NOT NULL"
		g.s.Sequences++
	}
	cols := []string{id, "name VARCHAR(255) NOT NULL", "description TEXT", "status INTEGER NOT NULL DEFAULT 0"}
	if tb.parent != nil {
		cols = append(cols, "parent_id UUID")
	}
	if tb.enum != "" {
		cols = append(cols, fmt.Sprintf("kind %s NOT NULL DEFAULT '%s'", tb.enum, firstLabel(tb.enum)))
	}
	switch tb.domain {
	case "positive_int":
		cols = append(cols, "mem_size_mb positive_int")
	case "mac_address":
		cols = append(cols, "mac_addr mac_address")
	}
	cols = append(cols, "is_locked BOOLEAN NOT NULL DEFAULT FALSE",
		"_create_date TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT LOCALTIMESTAMP",
		"_update_date TIMESTAMP WITH TIME ZONE",
		fmt.Sprintf("CONSTRAINT pk_%s PRIMARY KEY (id)", t))
	if tb.parent != nil {
		cols = append(cols, fmt.Sprintf("CONSTRAINT fk_%s_parent FOREIGN KEY (parent_id) REFERENCES %s (id) ON DELETE CASCADE", t, tb.parent.name))
	}
	g.printf("CREATE TABLE %s (\n    %s\n);\n", t, strings.Join(cols, ",\n    "))
	g.s.Tables++
	g.s.Indexes++ // primary key
	g.s.TableNames = append(g.s.TableNames, "public."+t)

	unique := ""
	if len(t)%5 == 0 {
		unique = "UNIQUE "
	}
	g.printf("CREATE %sINDEX idx_%s_name ON %s (name);\n", unique, t, t)
	g.s.Indexes++
	if tb.parent != nil {
		g.printf("CREATE INDEX idx_%s_parent_id ON %s (parent_id);\n", t, t)
		g.s.Indexes++
	}
	if tb.trigger {
		g.printf("CREATE TRIGGER trg_%s_update_date BEFORE UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION fn_set_update_date();\n", t, t)
	}

	if n := g.o.RowsPerTable; n > 0 {
		insCols := []string{"name", "description", "status"}
		vals := []string{fmt.Sprintf("'%s-' || g", t), fmt.Sprintf("'generated row ' || g || ' of %s'", t), "g % 5"}
		if !tb.serial {
			insCols = append(insCols, "id")
			vals = append(vals, rowUUID(t, "g"))
		}
		if tb.parent != nil {
			// Parent rows exist already: parents precede children.
			insCols = append(insCols, "parent_id")
			vals = append(vals, rowUUID(tb.parent.name, fmt.Sprintf("(1 + (g - 1) %% %d)", n)))
		}
		switch tb.domain {
		case "positive_int":
			insCols = append(insCols, "mem_size_mb")
			vals = append(vals, "g * 1024")
		case "mac_address":
			insCols = append(insCols, "mac_addr")
			vals = append(vals, "'00:1a:4a:16:01:' || lpad(to_hex(g % 256), 2, '0')")
		}
		g.printf("INSERT INTO %s (%s)\n    SELECT %s FROM generate_series(1, %d) AS g;\n",
			t, strings.Join(insCols, ", "), strings.Join(vals, ", "), n)
		g.s.Rows += int64(n)
	}
	g.printf("\n")
}

// rowUUID is the deterministic id of row n of a table, so that foreign keys
// can be computed without lookups.
func rowUUID(table, n string) string { return fmt.Sprintf("md5('%s:' || %s)::uuid", table, n) }

func firstLabel(enum string) string {
	for _, e := range enums {
		if e.name == enum {
			l, _, _ := strings.Cut(e.labels, ",")
			return strings.Trim(l, "' ")
		}
	}
	panic("schema: unknown enum " + enum)
}

// fixedTables are the engine's bookkeeping tables.
func (g *generator) fixedTables() {
	g.printf(`CREATE TABLE schema_version (
    id SERIAL NOT NULL,
    version VARCHAR(10) NOT NULL,
    script VARCHAR(255) NOT NULL,
    checksum VARCHAR(128),
    installed_by VARCHAR(63) NOT NULL,
    started_at TIMESTAMP WITHOUT TIME ZONE DEFAULT now(),
    ended_at TIMESTAMP WITHOUT TIME ZONE,
    state VARCHAR(15) NOT NULL,
    current BOOLEAN NOT NULL,
    comment TEXT,
    CONSTRAINT schema_version_primary_key PRIMARY KEY (id)
);
CREATE TABLE vdc_options (
    option_id SERIAL NOT NULL,
    option_name VARCHAR(100) NOT NULL,
    option_value VARCHAR(4000) NOT NULL,
    default_value VARCHAR(4000),
    version VARCHAR(40) NOT NULL DEFAULT 'general',
    CONSTRAINT pk_vdc_options PRIMARY KEY (option_id),
    CONSTRAINT vdc_options_option_name_version_key UNIQUE (option_name, version)
);
`)
	g.s.Tables += 2
	g.s.Sequences += 2
	g.s.Indexes += 3
	g.s.TableNames = append(g.s.TableNames, "public.schema_version", "public.vdc_options")
	scripts := max(10, g.o.Tables/2)
	options := max(10, g.o.Tables)
	g.printf(`INSERT INTO schema_version (version, script, checksum, installed_by, state, current)
    SELECT '04050' || lpad(g::text, 3, '0'), 'upgrade/04_05_' || lpad((g * 10)::text, 4, '0') || '_change.sql',
           md5(g::text), 'engine', 'INSTALLED', g = %[1]d FROM generate_series(1, %[1]d) AS g;
INSERT INTO vdc_options (option_name, option_value, default_value)
    SELECT 'Option' || g, (g * 7)::text, (g * 7)::text FROM generate_series(1, %[2]d) AS g;

`, scripts, options)
	g.s.Rows += int64(scripts + options)
}

func (g *generator) views(tables []*table) {
	for i, tb := range tables {
		if tb.parent == nil || i%3 != 1 {
			continue
		}
		g.printf(`CREATE VIEW %[1]s_view AS
    SELECT c.id, c.name, c.status, c.parent_id, p.name AS parent_name, p.status AS parent_status
    FROM %[1]s c LEFT JOIN %[2]s p ON p.id = c.parent_id;
`, tb.name, tb.parent.name)
		g.s.Views++
		if i%30 == 1 {
			// A view over a view, as the engine's vms/vds views are.
			g.printf("CREATE VIEW %[1]s_status_summary AS SELECT status, count(*) AS n FROM %[1]s_view GROUP BY status;\n", tb.name)
			g.s.Views++
		}
	}
	for i, tb := range tables {
		if i%100 != 0 {
			continue
		}
		// Created after the rows are in, so WITH DATA has something to
		// aggregate.
		g.printf(`CREATE MATERIALIZED VIEW %[1]s_mv_summary AS
    SELECT status, count(*) AS n, max(_create_date) AS newest FROM %[1]s GROUP BY status WITH DATA;
CREATE UNIQUE INDEX idx_%[1]s_mv_summary ON %[1]s_mv_summary (status);
`, tb.name)
		g.s.MaterializedViews++
		g.s.Indexes++
	}
	for i, tb := range tables {
		if i%25 == 0 {
			g.printf("CREATE SEQUENCE %s_seq INCREMENT BY 1 START WITH 1000;\n", tb.name)
			g.s.Sequences++
		}
		if i%20 == 0 {
			g.printf("CREATE TYPE %s_rs AS (id %s, name VARCHAR(255), status INTEGER);\n", tb.name, tb.idType())
			g.s.Types++
		}
	}
	g.printf("\n")
}

// functionKinds is the rotation of stored procedure shapes; each returns
// the SQL of one function on table tb named name.
var functionKinds = []func(tb *table, name string) string{
	insertFn, updateFn, deleteFn, getByIDFn, getAllFn, getByNameFn, countFn,
	idsByStatusFn, byParentFn, updateStatusFn, statusSummaryFn, existsFn,
}

var functionPrefixes = []string{
	"Insert%s", "Update%s", "Delete%s", "Get%sById", "GetAllFrom%s", "Get%sByName", "Get%sCount",
	"Get%sIdsByStatus", "Get%sByParentId", "Update%sStatus", "Get%sStatusSummary", "Exists%s",
}

func (g *generator) functions(tables []*table) {
	perRound := len(tables) * len(functionKinds)
	for i := 0; i < g.o.Functions; i++ {
		tb := tables[i%len(tables)]
		k := (i / len(tables)) % len(functionKinds)
		name := fmt.Sprintf(functionPrefixes[k], tb.camel)
		if r := i / perRound; r > 0 {
			// "_r" cannot clash with a camel-cased table name.
			name += fmt.Sprintf("_r%d", r+1)
		}
		g.b.WriteString(functionKinds[k](tb, name))
		g.s.Functions++
	}
	for i, tb := range tables {
		if i%50 != 0 {
			continue
		}
		g.printf(`CREATE OR REPLACE PROCEDURE Cleanup%[1]sHistory(v_before TIMESTAMP WITH TIME ZONE)
AS $PROCEDURE$
BEGIN
    DELETE FROM %[2]s WHERE _create_date < v_before;
END;$PROCEDURE$
LANGUAGE plpgsql;

`, tb.camel, tb.name)
		g.s.Procedures++
	}
}

func fn(name, params, returns, body string) string {
	return fmt.Sprintf("CREATE OR REPLACE FUNCTION %s (%s)\nRETURNS %s AS $PROCEDURE$\n%s\n$PROCEDURE$\nLANGUAGE plpgsql;\n\n",
		name, params, returns, body)
}

func insertFn(tb *table, name string) string {
	params := []string{"v_name VARCHAR(255)", "v_description TEXT", "v_status INTEGER"}
	cols := []string{"name", "description", "status"}
	vals := []string{"v_name", "v_description", "v_status"}
	if !tb.serial {
		params = append([]string{"v_id UUID"}, params...)
		cols = append(cols, "id")
		vals = append(vals, "v_id")
	}
	if tb.parent != nil {
		params = append(params, "v_parent_id UUID")
		cols = append(cols, "parent_id")
		vals = append(vals, "v_parent_id")
	}
	if tb.serial {
		// Like InsertAuditLog: the id comes from the sequence.
		return fn(name, strings.Join(params, ", "), "BIGINT", fmt.Sprintf(`DECLARE
    v_id BIGINT;
BEGIN
    INSERT INTO %s (%s)
    VALUES (%s)
    RETURNING id INTO v_id;
    RETURN v_id;
END;`, tb.name, strings.Join(cols, ", "), strings.Join(vals, ", ")))
	}
	return fn(name, strings.Join(params, ", "), "VOID", fmt.Sprintf(`BEGIN
    INSERT INTO %s (%s)
    VALUES (%s);
END;`, tb.name, strings.Join(cols, ", "), strings.Join(vals, ", ")))
}

func updateFn(tb *table, name string) string {
	return fn(name, "v_id "+tb.idType()+", v_name VARCHAR(255), v_description TEXT, v_status INTEGER", "VOID",
		fmt.Sprintf(`BEGIN
    UPDATE %s
    SET name = v_name,
        description = v_description,
        status = v_status,
        _update_date = LOCALTIMESTAMP
    WHERE id = v_id;
END;`, tb.name))
}

func deleteFn(tb *table, name string) string {
	return fn(name, "v_id "+tb.idType(), "VOID", fmt.Sprintf(`BEGIN
    DELETE
    FROM %s
    WHERE id = v_id;
END;`, tb.name))
}

func getByIDFn(tb *table, name string) string {
	return fn(name, "v_id "+tb.idType()+", v_user_id UUID DEFAULT NULL, v_is_filtered BOOLEAN DEFAULT FALSE",
		"SETOF "+tb.name+" STABLE", fmt.Sprintf(`BEGIN
    RETURN QUERY
    SELECT %[1]s.*
    FROM %[1]s
    WHERE id = v_id
        AND (NOT v_is_filtered OR v_user_id IS NOT NULL);
END;`, tb.name))
}

func getAllFn(tb *table, name string) string {
	return fn(name, "", "SETOF "+tb.name+" STABLE", fmt.Sprintf(`BEGIN
    RETURN QUERY
    SELECT %s.*
    FROM %s;
END;`, tb.name, tb.name))
}

func getByNameFn(tb *table, name string) string {
	return fn(name, "v_name VARCHAR(255)", "SETOF "+tb.name+" STABLE", fmt.Sprintf(`BEGIN
    RETURN QUERY
    SELECT %[1]s.*
    FROM %[1]s
    WHERE name = v_name;
END;`, tb.name))
}

func countFn(tb *table, name string) string {
	return fn(name, "", "BIGINT STABLE", fmt.Sprintf(`DECLARE
    v_count BIGINT;
BEGIN
    SELECT count(*) INTO v_count FROM %s;
    RETURN v_count;
END;`, tb.name))
}

func idsByStatusFn(tb *table, name string) string {
	return fn(name, "v_status INTEGER", "SETOF idTextType STABLE", fmt.Sprintf(`BEGIN
    RETURN QUERY
    SELECT id::TEXT
    FROM %s
    WHERE status = v_status;
END;`, tb.name))
}

func byParentFn(tb *table, name string) string {
	if tb.parent == nil {
		return fn(name, "v_parent_id UUID", "SETOF "+tb.name+" STABLE", fmt.Sprintf(`BEGIN
    -- No parent table: nothing can match.
    RETURN QUERY
    SELECT %[1]s.*
    FROM %[1]s
    WHERE FALSE;
END;`, tb.name))
	}
	return fn(name, "v_parent_id UUID", "SETOF "+tb.name+" STABLE", fmt.Sprintf(`BEGIN
    RETURN QUERY
    SELECT %[1]s.*
    FROM %[1]s
    WHERE parent_id = v_parent_id
    ORDER BY name;
END;`, tb.name))
}

func updateStatusFn(tb *table, name string) string {
	return fn(name, "v_id "+tb.idType()+", v_status INTEGER", "VOID", fmt.Sprintf(`BEGIN
    UPDATE %s
    SET status = v_status
    WHERE id = v_id;
    IF NOT FOUND THEN
        RAISE NOTICE 'no row %% in %s', v_id;
    END IF;
END;`, tb.name, tb.name))
}

func statusSummaryFn(tb *table, name string) string {
	return fn(name, "", "TABLE (status INTEGER, n BIGINT) STABLE", fmt.Sprintf(`BEGIN
    RETURN QUERY
    SELECT t.status, count(*)
    FROM %s t
    GROUP BY t.status;
END;`, tb.name))
}

func existsFn(tb *table, name string) string {
	return fn(name, "v_id "+tb.idType(), "BOOLEAN STABLE", fmt.Sprintf(`BEGIN
    RETURN EXISTS (SELECT 1 FROM %s WHERE id = v_id);
END;`, tb.name))
}

// aaaJDBC is the schema of ovirt-engine-extension-aaa-jdbc, which lives in
// the engine database and is owned by the same role.
func (g *generator) aaaJDBC() {
	g.printf(`CREATE SCHEMA aaa_jdbc;
CREATE TABLE aaa_jdbc.schema_version (
    id SERIAL NOT NULL,
    version VARCHAR(10) NOT NULL,
    script VARCHAR(255) NOT NULL,
    checksum VARCHAR(128),
    installed_by VARCHAR(63) NOT NULL,
    started_at TIMESTAMP WITHOUT TIME ZONE DEFAULT now(),
    ended_at TIMESTAMP WITHOUT TIME ZONE,
    state VARCHAR(15) NOT NULL,
    current BOOLEAN NOT NULL,
    comment TEXT,
    CONSTRAINT schema_version_primary_key PRIMARY KEY (id)
);
CREATE TABLE aaa_jdbc.users (
    id SERIAL NOT NULL,
    uuid VARCHAR(100) NOT NULL,
    name VARCHAR(255) NOT NULL,
    password VARCHAR(4096),
    password_valid_to TIMESTAMP WITH TIME ZONE NOT NULL,
    login_allowed VARCHAR(84) NOT NULL,
    nopasswd BOOLEAN NOT NULL DEFAULT FALSE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    unlock_time TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT to_timestamp(0),
    last_successful_login TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT to_timestamp(0),
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_uuid_key UNIQUE (uuid),
    CONSTRAINT users_name_key UNIQUE (name)
);
CREATE TABLE aaa_jdbc.groups (
    id SERIAL NOT NULL,
    uuid VARCHAR(100) NOT NULL,
    name VARCHAR(255) NOT NULL,
    CONSTRAINT groups_pkey PRIMARY KEY (id),
    CONSTRAINT groups_name_key UNIQUE (name)
);
CREATE TABLE aaa_jdbc.user_groups (
    in_group_id INTEGER NOT NULL REFERENCES aaa_jdbc.groups (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES aaa_jdbc.users (id) ON DELETE CASCADE,
    CONSTRAINT user_groups_pkey PRIMARY KEY (in_group_id, user_id)
);
CREATE TABLE aaa_jdbc.settings (
    uuid VARCHAR(100) NOT NULL,
    name VARCHAR(100) NOT NULL,
    value VARCHAR(4096) NOT NULL,
    description TEXT,
    CONSTRAINT settings_pkey PRIMARY KEY (uuid),
    CONSTRAINT settings_name_key UNIQUE (name)
);
CREATE TABLE aaa_jdbc.failed_logins (
    user_id INTEGER NOT NULL REFERENCES aaa_jdbc.users (id) ON DELETE CASCADE,
    minute_start TIMESTAMP WITH TIME ZONE NOT NULL,
    minute_end TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT failed_logins_pkey PRIMARY KEY (user_id, minute_start)
);
INSERT INTO aaa_jdbc.schema_version (version, script, installed_by, state, current)
    VALUES ('0000', 'upgrade/00_00_0000_create.sql', 'engine', 'INSTALLED', FALSE),
           ('0001', 'upgrade/01_00_0010_add_settings.sql', 'engine', 'INSTALLED', TRUE);
INSERT INTO aaa_jdbc.users (uuid, name, password, password_valid_to, login_allowed)
    SELECT md5('aaa-user:' || g), CASE g WHEN 1 THEN 'admin' ELSE 'user' || g END, 'scrambled', now() + interval '1 year', repeat('f', 84)
    FROM generate_series(1, 3) AS g;
INSERT INTO aaa_jdbc.groups (uuid, name) VALUES (md5('aaa-group:1'), 'admins'), (md5('aaa-group:2'), 'users');
INSERT INTO aaa_jdbc.user_groups (in_group_id, user_id) VALUES (1, 1), (2, 2);
INSERT INTO aaa_jdbc.settings (uuid, name, value)
    SELECT md5('aaa-setting:' || g), 'SETTING_' || g, g::text FROM generate_series(1, 15) AS g;
CREATE VIEW aaa_jdbc.user_group_names AS
    SELECT u.name AS user_name, g.name AS group_name
    FROM aaa_jdbc.users u JOIN aaa_jdbc.user_groups ug ON ug.user_id = u.id JOIN aaa_jdbc.groups g ON g.id = ug.in_group_id;
CREATE SEQUENCE aaa_jdbc.audit_seq;
`)
	g.s.Schemas++
	g.s.Tables += 6
	g.s.Sequences += 4 // schema_version, users, groups serials; audit_seq
	g.s.Indexes += 10  // 6 primary keys, 4 unique constraints
	g.s.Views++
	g.s.Rows += 2 + 3 + 2 + 2 + 15
	for _, tbl := range []string{"schema_version", "users", "groups", "user_groups", "settings", "failed_logins"} {
		g.s.TableNames = append(g.s.TableNames, "aaa_jdbc."+tbl)
	}
	for _, f := range []struct{ name, params, returns, body string }{
		{"get_user", "v_name VARCHAR", "SETOF aaa_jdbc.users STABLE", "BEGIN\n    RETURN QUERY SELECT * FROM aaa_jdbc.users WHERE name = v_name;\nEND;"},
		{"get_group", "v_name VARCHAR", "SETOF aaa_jdbc.groups STABLE", "BEGIN\n    RETURN QUERY SELECT * FROM aaa_jdbc.groups WHERE name = v_name;\nEND;"},
		{"get_setting", "v_name VARCHAR", "VARCHAR STABLE", "BEGIN\n    RETURN (SELECT value FROM aaa_jdbc.settings WHERE name = v_name);\nEND;"},
		{"record_failed_login", "v_user_id INTEGER", "VOID", "BEGIN\n    UPDATE aaa_jdbc.users SET consecutive_failures = consecutive_failures + 1 WHERE id = v_user_id;\nEND;"},
		{"reset_failed_logins", "v_user_id INTEGER", "VOID", "BEGIN\n    DELETE FROM aaa_jdbc.failed_logins WHERE user_id = v_user_id;\nEND;"},
	} {
		g.b.WriteString(fn("aaa_jdbc."+f.name, f.params, f.returns, f.body))
		g.s.Functions++
	}
}

// camel turns vm_static into VmStatic, as the engine names procedures.
func camel(s string) string {
	parts := strings.Split(s, "_")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}
