package db

import (
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"
)

// Object is a database object owned by a role.
type Object struct {
	// Kind is what pg_identify_object calls it ("table", "view",
	// "materialized view", "sequence", "function", "procedure",
	// "aggregate", "type", "schema", "default acl", ...), except that
	// domains are "domain", and "index" for indexes, which follow their
	// table.
	Kind string
	// Identity is the schema-qualified name, quoted as needed, with
	// argument types for routines: "public.getvmbyvmguid(uuid)".
	Identity string
	// Schema is the object's schema, "" for objects outside schemas.
	Schema string
	// TypeKind tells types apart: "enum", "composite", "range",
	// "multirange", "base"; "" for other kinds.
	TypeKind string
}

// String renders the object as "type public.vm_status (enum)", the form of
// pgtest.ObjectsOwnedBy.
func (o Object) String() string {
	if o.TypeKind != "" {
		return o.Kind + " " + o.Identity + " (" + o.TypeKind + ")"
	}
	return o.Kind + " " + o.Identity
}

// ownedSQL lists what pg_shdepend records as owned by the session's role in
// the current database, which is exactly what DROP OWNED acts on and what
// makes DROP ROLE fail, plus indexes, which carry no owner dependency of
// their own. It has columns kind, identity, schema, typekind, classid,
// objid, and takes no parameters.
//
// pg_shdepend has no entries for the bootstrap superuser; Clear refuses to
// work as that role.
const ownedSQL = `
WITH me AS (SELECT oid AS id FROM pg_roles WHERE rolname = current_user),
     owned AS (
       SELECT d.classid, d.objid, d.objsubid
       FROM pg_shdepend d, me
       WHERE d.refclassid = 'pg_authid'::regclass AND d.refobjid = me.id AND d.deptype = 'o'
         AND d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()))
SELECT CASE WHEN t.typtype = 'd' THEN 'domain' ELSE i.type END AS kind,
       i.identity,
       coalesce(i.schema, '') AS schema,
       CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'c' THEN 'composite' WHEN 'r' THEN 'range'
         WHEN 'm' THEN 'multirange' WHEN 'b' THEN 'base' ELSE '' END AS typekind,
       o.classid, o.objid
FROM owned o
  CROSS JOIN LATERAL pg_identify_object(o.classid, o.objid, o.objsubid) i
  LEFT JOIN pg_type t ON o.classid = 'pg_type'::regclass AND t.oid = o.objid
UNION ALL
SELECT 'index', quote_ident(n.nspname) || '.' || quote_ident(c.relname), n.nspname, '',
       'pg_class'::regclass, c.oid
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, me
WHERE c.relkind IN ('i', 'I') AND c.relowner = me.id
  AND n.nspname NOT IN ('pg_catalog', 'pg_toast', 'information_schema')`

// OwnedObjects lists, sorted, every object that the connection's role
// (current_user) owns in the connection's database: the list Clear
// verifies against, and the one to describe a plan with. The database
// itself is not in it.
func OwnedObjects(ctx context.Context, conn *pgx.Conn) ([]Object, error) {
	objs, err := ownedObjects(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("listing objects owned by the current role: %w", err)
	}
	return objs, nil
}

func ownedObjects(ctx context.Context, q querier) ([]Object, error) {
	rows, err := q.Query(ctx, "SELECT kind, identity, schema, typekind FROM ("+ownedSQL+") o ORDER BY 1, 2")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Object, error) {
		var o Object
		err := r.Scan(&o.Kind, &o.Identity, &o.Schema, &o.TypeKind)
		return o, err
	})
}

// countOwned counts the role's objects by kind in one query, without
// shipping the list: that matters over a slow link.
func countOwned(ctx context.Context, q querier) (map[string]int, error) {
	rows, err := q.Query(ctx, "SELECT kind, count(*)::int FROM ("+ownedSQL+") o GROUP BY 1")
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	var kind string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&kind, &n}, func() error {
		counts[kind] = n
		return nil
	})
	return counts, err
}

// Total adds up counts by kind.
func Total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// querier is what both *pgx.Conn and pgx.Tx offer.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Dependent is an object of another role that depends on an object of the
// role being cleared, so that dropping the latter with CASCADE would drop
// or change the former.
type Dependent struct {
	Object    string // "view public.report"
	Owner     string
	DependsOn string // "table public.vds_static"
}

func (d Dependent) String() string {
	return fmt.Sprintf("%s (owner %s) depends on %s", d.Object, d.Owner, d.DependsOn)
}

// dependentsSQL finds objects that the role does not own but that depend
// directly (pg_depend, deptype 'n') on objects it owns; $1 is the OID of a
// schema to leave out as a dependency target (the public schema, which
// Clear keeps), or 0.
//
// A dependent counts with the owner of what it is part of: a constraint,
// trigger, default, rule or policy with its table (or domain), so that the
// role's own foreign keys and triggers do not count while another role's
// foreign key to the role's table does. Objects without an owner (casts,
// transforms) are attachments of the role's objects and go with them.
// One level is enough: CASCADE can reach another role's object only
// through a direct dependent that has an owner, or through a schema.
// Dependents the role owns itself fall out by the owner test (an
// anti-join against the owned list would be quadratic: the planner
// misjudges the CTE's size).
const dependentsSQL = `
WITH me AS (SELECT oid AS id FROM pg_roles WHERE rolname = current_user),
     owned AS (
       SELECT d.classid, d.objid
       FROM pg_shdepend d, me
       WHERE d.refclassid = 'pg_authid'::regclass AND d.refobjid = me.id AND d.deptype = 'o'
         AND d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())),
     dep AS (
       SELECT DISTINCT d.classid, d.objid, d.refclassid, d.refobjid
       FROM pg_depend d JOIN owned o ON o.classid = d.refclassid AND o.objid = d.refobjid
       WHERE d.deptype = 'n'
         AND NOT (d.refclassid = 'pg_namespace'::regclass AND d.refobjid = $1::oid)),
     own AS (
       SELECT dep.*, CASE dep.classid
         WHEN 'pg_class'::regclass THEN (SELECT relowner FROM pg_class WHERE oid = dep.objid)
         WHEN 'pg_proc'::regclass THEN (SELECT proowner FROM pg_proc WHERE oid = dep.objid)
         WHEN 'pg_type'::regclass THEN (SELECT typowner FROM pg_type WHERE oid = dep.objid)
         WHEN 'pg_namespace'::regclass THEN (SELECT nspowner FROM pg_namespace WHERE oid = dep.objid)
         WHEN 'pg_constraint'::regclass THEN (
           SELECT coalesce(c.relowner, t.typowner) FROM pg_constraint k
             LEFT JOIN pg_class c ON c.oid = k.conrelid LEFT JOIN pg_type t ON t.oid = k.contypid
           WHERE k.oid = dep.objid)
         WHEN 'pg_trigger'::regclass THEN (
           SELECT c.relowner FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid WHERE g.oid = dep.objid)
         WHEN 'pg_attrdef'::regclass THEN (
           SELECT c.relowner FROM pg_attrdef a JOIN pg_class c ON c.oid = a.adrelid WHERE a.oid = dep.objid)
         WHEN 'pg_rewrite'::regclass THEN (
           SELECT c.relowner FROM pg_rewrite w JOIN pg_class c ON c.oid = w.ev_class WHERE w.oid = dep.objid)
         WHEN 'pg_policy'::regclass THEN (
           SELECT c.relowner FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE p.oid = dep.objid)
         WHEN 'pg_collation'::regclass THEN (SELECT collowner FROM pg_collation WHERE oid = dep.objid)
         WHEN 'pg_conversion'::regclass THEN (SELECT conowner FROM pg_conversion WHERE oid = dep.objid)
         WHEN 'pg_operator'::regclass THEN (SELECT oprowner FROM pg_operator WHERE oid = dep.objid)
         WHEN 'pg_opclass'::regclass THEN (SELECT opcowner FROM pg_opclass WHERE oid = dep.objid)
         WHEN 'pg_opfamily'::regclass THEN (SELECT opfowner FROM pg_opfamily WHERE oid = dep.objid)
         WHEN 'pg_ts_config'::regclass THEN (SELECT cfgowner FROM pg_ts_config WHERE oid = dep.objid)
         WHEN 'pg_ts_dict'::regclass THEN (SELECT dictowner FROM pg_ts_dict WHERE oid = dep.objid)
         WHEN 'pg_statistic_ext'::regclass THEN (SELECT stxowner FROM pg_statistic_ext WHERE oid = dep.objid)
         WHEN 'pg_extension'::regclass THEN (SELECT extowner FROM pg_extension WHERE oid = dep.objid)
         WHEN 'pg_foreign_server'::regclass THEN (SELECT srvowner FROM pg_foreign_server WHERE oid = dep.objid)
         WHEN 'pg_foreign_data_wrapper'::regclass THEN (SELECT fdwowner FROM pg_foreign_data_wrapper WHERE oid = dep.objid)
         WHEN 'pg_publication'::regclass THEN (SELECT pubowner FROM pg_publication WHERE oid = dep.objid)
         WHEN 'pg_event_trigger'::regclass THEN (SELECT evtowner FROM pg_event_trigger WHERE oid = dep.objid)
         WHEN 'pg_language'::regclass THEN (SELECT lanowner FROM pg_language WHERE oid = dep.objid)
       END AS owner
       FROM dep)
SELECT DISTINCT
       -- A view's rule stands for the view.
       CASE WHEN own.classid = 'pg_rewrite'::regclass
            THEN pg_describe_object('pg_class'::regclass, (SELECT ev_class FROM pg_rewrite WHERE oid = own.objid), 0)
            ELSE pg_describe_object(own.classid, own.objid, 0) END,
       pg_get_userbyid(own.owner)::text,
       pg_describe_object(own.refclassid, own.refobjid, 0)
FROM own, me
WHERE own.owner IS NOT NULL AND own.owner <> me.id
ORDER BY 1, 3
LIMIT 1000`

func foreignDependents(ctx context.Context, q querier, keepSchema uint32) ([]Dependent, error) {
	rows, err := q.Query(ctx, dependentsSQL, keepSchema)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Dependent, error) {
		var d Dependent
		err := r.Scan(&d.Object, &d.Owner, &d.DependsOn)
		return d, err
	})
}

// sortedKinds returns the keys of counts, sorted, for stable messages.
func sortedKinds(counts map[string]int) []string {
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// DescribeCounts renders counts by kind as "312 tables, 2511 functions...".
func DescribeCounts(counts map[string]int) string {
	if Total(counts) == 0 {
		return "no objects"
	}
	s := ""
	for _, k := range sortedKinds(counts) {
		if counts[k] == 0 {
			continue
		}
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("%d %s", counts[k], k)
	}
	return s
}
