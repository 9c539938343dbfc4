package db

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"
)

// dropKind says how to drop one kind of object (Object.Kind) by name.
type dropKind struct {
	kind    string
	keyword string // after DROP
	// single: the statement takes one name only, so a batch is several
	// statements sent together (still one round trip).
	single bool
}

// dropOrder drops dependents before what they depend on, so that fewer
// objects are reached through CASCADE (IF EXISTS covers those that are).
// Schemas come last: dropping one drops what it holds. The public schema
// is never dropped.
func dropOrder() []dropKind {
	return []dropKind{
		{kind: "event trigger", keyword: "EVENT TRIGGER", single: true},
		{kind: "publication", keyword: "PUBLICATION"},
		{kind: "materialized view", keyword: "MATERIALIZED VIEW"},
		{kind: "view", keyword: "VIEW"},
		{kind: "foreign table", keyword: "FOREIGN TABLE"},
		{kind: "table", keyword: "TABLE"},
		{kind: "sequence", keyword: "SEQUENCE"},
		{kind: "statistics object", keyword: "STATISTICS"},
		{kind: "procedure", keyword: "PROCEDURE"},
		{kind: "aggregate", keyword: "AGGREGATE"},
		{kind: "function", keyword: "FUNCTION"},
		{kind: "operator class", keyword: "OPERATOR CLASS", single: true},
		{kind: "operator family", keyword: "OPERATOR FAMILY", single: true},
		{kind: "operator", keyword: "OPERATOR"},
		{kind: "text search configuration", keyword: "TEXT SEARCH CONFIGURATION", single: true},
		{kind: "text search dictionary", keyword: "TEXT SEARCH DICTIONARY", single: true},
		{kind: "conversion", keyword: "CONVERSION", single: true},
		{kind: "collation", keyword: "COLLATION", single: true},
		{kind: "domain", keyword: "DOMAIN"},
		{kind: "type", keyword: "TYPE"},
		{kind: "server", keyword: "SERVER"},
		{kind: "foreign-data wrapper", keyword: "FOREIGN DATA WRAPPER"},
		{kind: "extension", keyword: "EXTENSION"},
		{kind: "language", keyword: "LANGUAGE", single: true},
		{kind: "schema", keyword: "SCHEMA"},
	}
}

// droppableSQL lists the role's objects with what it takes to name them in
// a DROP: raw schema and object names (quoted in Go) for relations, types,
// routines and schemas, identity arguments for routines, and
// pg_identify_object's identity (already quoted) for the rarer kinds.
const droppableSQL = `
WITH me AS (SELECT oid AS id FROM pg_roles WHERE rolname = current_user),
     owned AS (
       SELECT d.classid, d.objid, d.objsubid
       FROM pg_shdepend d, me
       WHERE d.refclassid = 'pg_authid'::regclass AND d.refobjid = me.id AND d.deptype = 'o'
         AND d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()))
SELECT CASE WHEN t.typtype = 'd' THEN 'domain' ELSE i.type END,
       coalesce(cn.nspname, tn.nspname, pn.nspname, '')::text,
       coalesce(c.relname, t.typname, p.proname, ns.nspname, '')::text,
       CASE WHEN p.oid IS NOT NULL THEN pg_get_function_identity_arguments(p.oid) ELSE '' END,
       i.identity, o.objid
FROM owned o
  CROSS JOIN LATERAL pg_identify_object(o.classid, o.objid, o.objsubid) i
  LEFT JOIN pg_class c ON o.classid = 'pg_class'::regclass AND c.oid = o.objid
  LEFT JOIN pg_namespace cn ON cn.oid = c.relnamespace
  LEFT JOIN pg_type t ON o.classid = 'pg_type'::regclass AND t.oid = o.objid
  LEFT JOIN pg_namespace tn ON tn.oid = t.typnamespace
  LEFT JOIN pg_proc p ON o.classid = 'pg_proc'::regclass AND p.oid = o.objid
  LEFT JOIN pg_namespace pn ON pn.oid = p.pronamespace
  LEFT JOIN pg_namespace ns ON o.classid = 'pg_namespace'::regclass AND ns.oid = o.objid
ORDER BY 1, 2, 3, 4`

type droppable struct {
	kind, schema, name, args, identity string
	oid                                uint32
}

// dropName is the object's name as DROP takes it, every identifier quoted.
func (d droppable) dropName() string {
	switch {
	case d.kind == "schema":
		return ident(d.name)
	case d.name == "":
		return d.identity
	case d.kind == "function" || d.kind == "procedure" || d.kind == "aggregate":
		return pgx.Identifier{d.schema, d.name}.Sanitize() + "(" + d.args + ")"
	case d.schema != "":
		return pgx.Identifier{d.schema, d.name}.Sanitize()
	}
	return d.identity
}

// dropBatched clears with one DROP ... CASCADE per kind naming all of its
// objects, each in its own transaction. A statement that runs out of lock
// space is retried in halves, and the smaller size is kept for the rest.
// It neither drops the public schema nor revokes privileges the role holds
// on objects it does not own, which is why it exists next to DROP OWNED.
func dropBatched(ctx context.Context, conn *pgx.Conn, f facts, opts clearOptions, log hclog.Logger, res *ClearResult) error {
	rows, err := conn.Query(ctx, droppableSQL)
	if err != nil {
		return fmt.Errorf("listing objects to drop: %w", err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (droppable, error) {
		var d droppable
		err := r.Scan(&d.kind, &d.schema, &d.name, &d.args, &d.identity, &d.oid)
		return d, err
	})
	if err != nil {
		return fmt.Errorf("listing objects to drop: %w", err)
	}
	byKind := map[string][]droppable{}
	for _, d := range all {
		if d.kind == "schema" && d.name == "public" {
			continue
		}
		byKind[d.kind] = append(byKind[d.kind], d)
	}

	size := opts.batchSize
	run := func(objs []droppable, build func([]droppable) string) error {
		for i := 0; i < len(objs); {
			n := len(objs) - i
			if size > 0 && n > size {
				n = size
			}
			sql := build(objs[i : i+n])
			err := execLogged(ctx, conn, log, sql)
			if sqlState(err) == codeOutOfMemory && n > 1 {
				size = n / 2
				log.Debug("out of lock space; smaller batches", "objects_per_statement", size)
				continue
			}
			if err != nil {
				return err
			}
			res.Statements = append(res.Statements, abbreviate(sql))
			i += n
		}
		return nil
	}

	for _, k := range dropOrder() {
		objs := byKind[k.kind]
		if len(objs) == 0 {
			continue
		}
		delete(byKind, k.kind)
		build := func(batch []droppable) string {
			names := make([]string, len(batch))
			for i, d := range batch {
				names[i] = d.dropName()
			}
			if k.single {
				stmts := make([]string, len(names))
				for i, n := range names {
					stmts[i] = "DROP " + k.keyword + " IF EXISTS " + n + " CASCADE"
				}
				return strings.Join(stmts, ";\n")
			}
			return "DROP " + k.keyword + " IF EXISTS " + strings.Join(names, ", ") + " CASCADE"
		}
		if err := run(objs, build); err != nil {
			return err
		}
	}
	if objs := byKind["large object"]; len(objs) > 0 {
		delete(byKind, "large object")
		err := run(objs, func(batch []droppable) string {
			oids := make([]string, len(batch))
			for i, d := range batch {
				oids[i] = strconv.FormatUint(uint64(d.oid), 10)
			}
			return "SELECT count(lo_unlink(o)) FROM unnest('{" + strings.Join(oids, ",") + "}'::oid[]) AS o"
		})
		if err != nil {
			return err
		}
	}
	// Default privileges are not dropped but reset; those in dropped
	// schemas went with them, so list them only now.
	if sql, err := resetDefaultACLs(ctx, conn, f.role); err != nil {
		return err
	} else if sql != "" {
		if err := execLogged(ctx, conn, log, sql); err != nil {
			return err
		}
		res.Statements = append(res.Statements, strings.Split(sql, ";\n")...)
	}
	// Kinds not handled here (if any) show up in the verification.
	return nil
}

// resetDefaultACLs returns the ALTER DEFAULT PRIVILEGES statements that
// bring the role's remaining default privileges back to the built-in
// defaults, which makes PostgreSQL delete their pg_default_acl entries:
// revoke from every grantee, then, for entries that are not tied to a
// schema, grant back what PostgreSQL grants by default (everything to the
// owner; EXECUTE on functions and USAGE on types to PUBLIC).
func resetDefaultACLs(ctx context.Context, conn *pgx.Conn, role string) (string, error) {
	rows, err := conn.Query(ctx, `
		SELECT d.defaclobjtype::text, coalesce(n.nspname::text, ''),
		       ARRAY(SELECT DISTINCT CASE WHEN a.grantee = 0 THEN '' ELSE pg_get_userbyid(a.grantee)::text END
		             FROM aclexplode(d.defaclacl) a ORDER BY 1)
		FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
		WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = current_user)
		ORDER BY 1, 2`)
	if err != nil {
		return "", fmt.Errorf("listing default privileges: %w", err)
	}
	type entry struct {
		objtype, schema string
		grantees        []string
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (entry, error) {
		var e entry
		err := r.Scan(&e.objtype, &e.schema, &e.grantees)
		return e, err
	})
	if err != nil {
		return "", fmt.Errorf("listing default privileges: %w", err)
	}
	on := map[string]string{"r": "TABLES", "S": "SEQUENCES", "f": "FUNCTIONS", "T": "TYPES", "n": "SCHEMAS", "L": "LARGE OBJECTS"}
	var stmts []string
	for _, e := range entries {
		what, ok := on[e.objtype]
		if !ok {
			continue // a newer server's kind: left for the verification to report
		}
		prefix := "ALTER DEFAULT PRIVILEGES FOR ROLE " + ident(role)
		if e.schema != "" {
			prefix += " IN SCHEMA " + ident(e.schema)
		}
		for _, g := range e.grantees {
			grantee := "PUBLIC"
			if g != "" {
				grantee = ident(g)
			}
			stmts = append(stmts, prefix+" REVOKE ALL ON "+what+" FROM "+grantee)
		}
		if e.schema == "" {
			stmts = append(stmts, prefix+" GRANT ALL ON "+what+" TO "+ident(role))
			switch e.objtype {
			case "f":
				stmts = append(stmts, prefix+" GRANT EXECUTE ON FUNCTIONS TO PUBLIC")
			case "T":
				stmts = append(stmts, prefix+" GRANT USAGE ON TYPES TO PUBLIC")
			}
		}
	}
	return strings.Join(stmts, ";\n"), nil
}
