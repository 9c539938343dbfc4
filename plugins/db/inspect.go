package db

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// MinServerVersionNum is the oldest PostgreSQL server the package supports
// (10.0: pg_stat_activity.backend_type and the catalogs it reads).
const MinServerVersionNum = 100000

// Session is another session connected to the database.
type Session struct {
	PID         int
	User        string
	Application string
	// Client is "address:port", "local socket", or "hidden" when the
	// role may not see it (sessions of other roles, without
	// pg_read_all_stats).
	Client       string
	State        string // "active", "idle", ...; "" when hidden
	BackendStart time.Time
	// CanTerminate says whether the role may terminate the session:
	// superuser, or the session's role is one whose privileges the role
	// has, or member of pg_signal_backend (not for superuser sessions).
	CanTerminate bool
}

func (s Session) String() string {
	return fmt.Sprintf("pid %d (user %s, application %q, client %s)", s.PID, s.User, s.Application, s.Client)
}

// ClearMethod is how Clear empties a database.
type ClearMethod string

const (
	// MethodNone: the role owns nothing there; nothing to do.
	MethodNone ClearMethod = ""
	// MethodDropOwned: one DROP OWNED BY CURRENT_USER CASCADE in one
	// transaction, with the public schema handed to pg_database_owner
	// for its duration when the role owns it.
	MethodDropOwned ClearMethod = "drop-owned"
	// MethodBatched: per-kind DROP ... CASCADE statements, each naming
	// many objects, used where DROP OWNED would do harm or is refused.
	MethodBatched ClearMethod = "batched"
)

// Inspection is what Inspect found. It changes nothing.
type Inspection struct {
	// Target is the target as it connected (see Connect).
	Target          Target
	UsedAltPassword bool

	ServerVersion    string // "15.18"
	ServerVersionNum int    // 150018
	// ServerMajor is 15 for 15.x and 9 for every 9.x.
	ServerMajor int

	Role          string
	Superuser     bool
	CreateDB      bool
	DatabaseOwner string
	OwnsDatabase  bool
	// CanSignalBackends: superuser or member of pg_signal_backend, so
	// that sessions of other (non-superuser) roles can be terminated.
	CanSignalBackends bool
	// PublicOwner is the owner of the public schema, "" if there is none.
	PublicOwner string

	// Objects counts what the role owns in the database, by kind (see
	// Object.Kind), without a public schema the role owns: Clear keeps
	// that one.
	Objects map[string]int
	// Sessions are the other client sessions on the database.
	Sessions []Session
	// Dependents are objects of other roles that depend on the role's
	// objects; Clear refuses while there are any.
	Dependents []Dependent
	// RevocablePrivileges are privileges granted to the role on things
	// it does not own (in this database, or cluster-wide like CONNECT on
	// another database) that DROP OWNED would revoke.
	RevocablePrivileges []string

	// Method is how Clear would clear the database now, and MethodReason
	// why, when it is not the usual DROP OWNED.
	Method       ClearMethod
	MethodReason string
}

// ObjectCount is the number of objects the role owns.
func (i Inspection) ObjectCount() int { return Total(i.Objects) }

// BlockingSessions are the sessions Clear could not terminate: while there
// are any, Clear refuses.
func (i Inspection) BlockingSessions() []Session {
	var out []Session
	for _, s := range i.Sessions {
		if !s.CanTerminate {
			out = append(out, s)
		}
	}
	return out
}

// Problems lists, as sentences for an administrator, what would make Clear
// refuse now; none means Clear can proceed with the role's rights.
func (i Inspection) Problems() []string {
	var p []string
	if i.ObjectCount() == 0 {
		return nil // nothing to clear, nothing to refuse
	}
	if b := i.BlockingSessions(); len(b) > 0 {
		p = append(p, (&SessionsError{Target: i.Target.String(), Role: i.Role, Sessions: b}).Error())
	}
	if len(i.Dependents) > 0 {
		p = append(p, (&DependentsError{Target: i.Target.String(), Role: i.Role, Dependents: i.Dependents}).Error())
	}
	return p
}

// Inspect connects to the target read-only (default_transaction_read_only)
// and reports the server, the role's rights, what it owns, the other
// sessions and what would make Clear refuse. It changes nothing, so it is
// fit for the init and validate phases.
func Inspect(ctx context.Context, t Target) (Inspection, error) {
	conn, used, err := connect(ctx, t, map[string]string{"default_transaction_read_only": "on"})
	if err != nil {
		return Inspection{}, err
	}
	defer closeQuietly(conn)
	ins := Inspection{Target: used, UsedAltPassword: AltPasswordUsed(t, used)}
	f, err := gatherFacts(ctx, conn)
	if err != nil {
		return ins, fmt.Errorf("inspecting database %s: %w", t, err)
	}
	ins.ServerVersion, ins.ServerVersionNum, ins.ServerMajor = f.version, f.versionNum, majorOf(f.versionNum)
	ins.Role, ins.Superuser, ins.CreateDB = f.role, f.superuser, f.createDB
	ins.DatabaseOwner, ins.OwnsDatabase, ins.CanSignalBackends = f.dbOwner, f.ownsDB, f.canSignal
	ins.PublicOwner, ins.RevocablePrivileges = f.publicOwner, f.revocable
	if err := f.supported(t); err != nil {
		return ins, err
	}
	if ins.Objects, err = countOwned(ctx, conn); err != nil {
		return ins, fmt.Errorf("inspecting database %s: counting objects owned by %s: %w", t, f.role, err)
	}
	f.excludeKept(ins.Objects)
	if ins.Sessions, err = otherSessions(ctx, conn); err != nil {
		return ins, fmt.Errorf("inspecting database %s: listing sessions: %w", t, err)
	}
	if ins.Dependents, err = foreignDependents(ctx, conn, f.keptSchema()); err != nil {
		return ins, fmt.Errorf("inspecting database %s: looking for objects of other roles that depend on objects of %s: %w", t, f.role, err)
	}
	if ins.ObjectCount() > 0 {
		ins.Method, ins.MethodReason = f.method()
	}
	return ins, nil
}

// facts are what Clear and Inspect need to know before deciding anything,
// read in one query.
type facts struct {
	version    string
	versionNum int
	roleOID    uint32
	role       string
	superuser  bool
	createDB   bool
	dbOwner    string
	ownsDB     bool
	canSignal  bool
	// dbOwnerRoleExists: pg_database_owner (PostgreSQL 14+).
	dbOwnerRoleExists bool
	publicOID         uint32 // 0 when there is no public schema
	publicOwner       string
	publicOwnedByMe   bool
	publicACL         string // nspacl as text, "" for the default
	// publicACLNamesSwap: the ACL of public mentions the role Clear would
	// hand public to, so that handing it there and back would merge
	// entries.
	publicACLNamesSwap bool
	swapRole           string // pg_database_owner, or the bootstrap superuser for a superuser on < 14
	revocable          []string
	// ownedCount is the number of objects the role owns, counted
	// cheaply (no names): len(OwnedObjects), public included.
	ownedCount int
}

const factsSQL = `
WITH me AS (SELECT * FROM pg_roles WHERE rolname = current_user),
     db AS (SELECT * FROM pg_database WHERE datname = current_database()),
     pub AS (SELECT * FROM pg_namespace WHERE nspname = 'public'),
     swap AS (
       SELECT CASE
         WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pg_database_owner')
              AND ((SELECT datdba FROM db) = (SELECT oid FROM me) OR (SELECT rolsuper FROM me))
           THEN (SELECT oid FROM pg_roles WHERE rolname = 'pg_database_owner')
         WHEN (SELECT rolsuper FROM me) THEN 10::oid
       END AS id)
SELECT current_setting('server_version'), current_setting('server_version_num')::int,
       me.oid, me.rolname::text, me.rolsuper, me.rolcreatedb,
       pg_get_userbyid(db.datdba)::text, db.datdba = me.oid,
       me.rolsuper OR pg_has_role(me.oid, 'pg_signal_backend', 'USAGE'),
       EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pg_database_owner'),
       coalesce((SELECT oid FROM pub), 0),
       coalesce((SELECT pg_get_userbyid(nspowner)::text FROM pub), ''),
       coalesce((SELECT nspowner = me.oid FROM pub), false),
       coalesce((SELECT nspacl::text FROM pub), ''),
       coalesce((SELECT EXISTS (SELECT 1 FROM aclexplode(nspacl) a, swap
                                WHERE a.grantee = swap.id OR a.grantor = swap.id) FROM pub), false),
       coalesce((SELECT pg_get_userbyid(id)::text FROM swap WHERE id IS NOT NULL), ''),
       ARRAY(SELECT pg_describe_object(s.classid, s.objid, s.objsubid)
             FROM pg_shdepend s
             WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = me.oid
               AND s.deptype IN ('a', 'r', 'i') AND s.dbid IN (0, db.oid)
             ORDER BY 1),
       (SELECT count(*)::int FROM pg_shdepend s
        WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = me.oid AND s.deptype = 'o' AND s.dbid = db.oid)
       + (SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('i', 'I') AND c.relowner = me.oid
            AND n.nspname NOT IN ('pg_catalog', 'pg_toast', 'information_schema'))
FROM me, db`

func gatherFacts(ctx context.Context, q querier) (facts, error) {
	var f facts
	err := q.QueryRow(ctx, factsSQL).Scan(&f.version, &f.versionNum, &f.roleOID, &f.role, &f.superuser, &f.createDB,
		&f.dbOwner, &f.ownsDB, &f.canSignal, &f.dbOwnerRoleExists, &f.publicOID, &f.publicOwner, &f.publicOwnedByMe,
		&f.publicACL, &f.publicACLNamesSwap, &f.swapRole, &f.revocable, &f.ownedCount)
	return f, err
}

// supported refuses what the package cannot clear safely.
func (f facts) supported(t Target) error {
	if f.versionNum < MinServerVersionNum {
		return fmt.Errorf("database %s runs PostgreSQL %s; engine-cleanup needs 10 or later: back up and clear it by hand", t, f.version)
	}
	if f.roleOID == bootstrapSuperuserOID {
		return fmt.Errorf("database %s: role %s is the bootstrap superuser, which owns the system catalogs and cannot be cleared: connect as the application's own role", t, f.role)
	}
	return nil
}

// bootstrapSuperuserOID is the role initdb creates (usually "postgres").
const bootstrapSuperuserOID = 10

// canSwapPublic reports whether Clear can hand the public schema, owned by
// the role, to another role for the duration of DROP OWNED and back
// without changing its ACL.
func (f facts) canSwapPublic() bool {
	return f.swapRole != "" && !f.publicACLNamesSwap
}

// keptSchema is the OID of the schema Clear keeps although the role owns
// it (public), or 0.
func (f facts) keptSchema() uint32 {
	if f.publicOwnedByMe {
		return f.publicOID
	}
	return 0
}

// toClear is the number of objects Clear would drop.
func (f facts) toClear() int {
	if f.publicOwnedByMe {
		return f.ownedCount - 1
	}
	return f.ownedCount
}

// excludeKept removes from counts the public schema when the role owns
// it: Clear keeps it on purpose, so it is not an object to clear.
func (f facts) excludeKept(counts map[string]int) {
	if !f.publicOwnedByMe {
		return
	}
	if counts["schema"]--; counts["schema"] <= 0 {
		delete(counts, "schema")
	}
}

// method decides how Clear works, and why when not with DROP OWNED.
func (f facts) method() (ClearMethod, string) {
	if len(f.revocable) > 0 {
		return MethodBatched, fmt.Sprintf("DROP OWNED would also revoke %d privilege(s) granted to %s on objects it does not own (%s)",
			len(f.revocable), f.role, abbreviateList(f.revocable, 5))
	}
	if f.publicOwnedByMe && !f.canSwapPublic() {
		if f.swapRole == "" {
			return MethodBatched, fmt.Sprintf("schema public is owned by %s, which cannot hand it over for the time of DROP OWNED (that needs PostgreSQL 14's pg_database_owner and owning the database, or a superuser)", f.role)
		}
		return MethodBatched, fmt.Sprintf("schema public is owned by %s and its privileges name %s, so handing it over and back would change them", f.role, f.swapRole)
	}
	return MethodDropOwned, ""
}

func abbreviateList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(" and %d more", len(items)-n)
}

// majorOf turns server_version_num into the major version: 15 for
// 150018, 9 for 90624.
func majorOf(num int) int { return num / 10000 }

// sessionsSQL lists the other client sessions on the current database and
// whether the current role may terminate each, with the rule of
// pg_terminate_backend: superusers may terminate anything; others need the
// privileges of the session's role or pg_signal_backend, and never reach
// superusers' sessions. For sessions of roles whose details the role may
// not see (without pg_read_all_stats) backend_type is NULL too; those of a
// real role count, as they may be clients.

const sessionsSQL = `
WITH me AS (SELECT * FROM pg_roles WHERE rolname = current_user)
SELECT a.pid, coalesce(a.usename::text, ''), coalesce(a.application_name, ''),
       CASE WHEN a.state IS NULL THEN 'hidden'
            WHEN a.client_addr IS NULL THEN 'local socket'
            ELSE host(a.client_addr) || ':' || a.client_port END,
       coalesce(a.state, ''), coalesce(a.backend_start, 'epoch'::timestamptz),
       me.rolsuper OR coalesce(
         NOT (SELECT rolsuper FROM pg_roles WHERE oid = a.usesysid)
         AND (pg_has_role(me.oid, a.usesysid, 'USAGE') OR pg_has_role(me.oid, 'pg_signal_backend', 'USAGE')), false)
FROM pg_stat_activity a, me
WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
  AND (a.backend_type = 'client backend' OR (a.backend_type IS NULL AND a.usesysid IS NOT NULL))
ORDER BY a.pid`

func otherSessions(ctx context.Context, q querier) ([]Session, error) {
	rows, err := q.Query(ctx, sessionsSQL)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Session, error) {
		var s Session
		var pid int32
		err := r.Scan(&pid, &s.User, &s.Application, &s.Client, &s.State, &s.BackendStart, &s.CanTerminate)
		s.PID = int(pid)
		return s, err
	})
}
