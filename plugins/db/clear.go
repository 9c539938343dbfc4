package db

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"
)

const (
	// lockTimeout bounds how long a drop waits for a lock that another
	// session holds (one started after we terminated the others): better
	// a clear error than a run that hangs.
	lockTimeout = "60s"
	// terminateTimeout is how long a terminated session may take to go.
	terminateTimeout = 10 * time.Second
	closeTimeout     = 5 * time.Second
	// maxLoggedStatement abbreviates statements in ClearResult and logs:
	// a batched DROP FUNCTION can name thousands of functions.
	maxLoggedStatement = 300
)

// ClearResult says what Clear did.
type ClearResult struct {
	Target          string // user@host:port/db
	Role            string
	UsedAltPassword bool
	Method          ClearMethod
	MethodReason    string
	// Before and After count the role's objects by kind (see
	// Object.Kind); After is empty on success. A public schema owned by
	// the role is kept and counted in neither.
	Before map[string]int
	After  map[string]int
	// Statements are those that changed the database, in order,
	// abbreviated past 300 characters.
	Statements         []string
	SessionsTerminated []Session
	// Changed is false when there was nothing to do.
	Changed  bool
	Duration time.Duration
}

// Clear empties the target database of everything the role owns, and keeps
// the database, the role and the public schema (with its owner and
// privileges), because the next engine-setup reuses an existing empty
// database and its role; it never drops a database or a role. It works
// with the rights of the database's own role, which need not be able to
// create databases (the remote case).
//
// In order, and before changing anything:
//   - when the role owns nothing, it returns at once with Changed false;
//   - other sessions on the database that the role may not terminate
//     make it fail with *SessionsError;
//   - objects of other roles that depend on the role's objects (a view
//     on its table, a table in its schema) make it fail with
//     *DependentsError, since CASCADE would drop or change them.
//
// Then it terminates the other sessions and drops, with the fewest
// statements the rights allow: one DROP OWNED BY CURRENT_USER CASCADE in
// one transaction (a public schema owned by the role is handed to
// pg_database_owner for that transaction and back, so that it survives
// unchanged), or, where DROP OWNED would also revoke privileges the role
// holds on other objects, cannot keep public, or runs out of lock space,
// per-kind DROP ... CASCADE statements that each name many objects.
//
// Finally it verifies from the catalogs that the role owns nothing in the
// database any more (else *LeftoversError) and that public is as it was.
// log receives progress at Info and statements at Debug; it may be nil.
func Clear(ctx context.Context, t Target, log hclog.Logger) (ClearResult, error) {
	return clearDatabase(ctx, t, log, clearOptions{})
}

// clearOptions are knobs for tests.
type clearOptions struct {
	forceBatched bool
	// batchSize is the initial number of objects per batched statement;
	// 0 means all objects of a kind in one statement.
	batchSize int
}

func clearDatabase(ctx context.Context, t Target, log hclog.Logger, opts clearOptions) (ClearResult, error) {
	start := time.Now()
	if log == nil {
		log = hclog.NewNullLogger()
	}
	res := ClearResult{Target: t.String()}
	conn, used, err := connect(ctx, t, map[string]string{
		"lock_timeout":        lockTimeout,
		"statement_timeout":   "0", // a role default must not cut DROP OWNED short
		"client_min_messages": "warning",
	})
	if err != nil {
		return res, err
	}
	defer closeQuietly(conn)
	res.UsedAltPassword = AltPasswordUsed(t, used)
	if res.UsedAltPassword {
		log.Warn("the server rejected the recorded password as oVirt reads it, and accepted it as written", "database", t.String())
	}

	f, err := gatherFacts(ctx, conn)
	if err != nil {
		return res, fmt.Errorf("clearing database %s: reading the role's rights: %w", t, err)
	}
	res.Role = f.role
	if err := f.supported(t); err != nil {
		return res, err
	}
	if f.toClear() == 0 {
		res.Before = map[string]int{}
		res.After = map[string]int{}
		res.Duration = time.Since(start)
		log.Info("database holds no objects of the role: nothing to clear", "database", t.String())
		return res, nil
	}

	if res.Before, err = countOwned(ctx, conn); err != nil {
		return res, fmt.Errorf("clearing database %s: counting objects owned by %s: %w", t, f.role, err)
	}
	f.excludeKept(res.Before)

	// Every check that can refuse comes before the first change.
	sessions, err := otherSessions(ctx, conn)
	if err != nil {
		return res, fmt.Errorf("clearing database %s: listing other sessions: %w", t, err)
	}
	var blocking []Session
	for _, s := range sessions {
		if !s.CanTerminate {
			blocking = append(blocking, s)
		}
	}
	if len(blocking) > 0 {
		return res, &SessionsError{Target: t.String(), Role: f.role, Sessions: blocking}
	}
	deps, err := foreignDependents(ctx, conn, f.keptSchema())
	if err != nil {
		return res, fmt.Errorf("clearing database %s: looking for objects of other roles that depend on objects of %s: %w", t, f.role, err)
	}
	if len(deps) > 0 {
		return res, &DependentsError{Target: t.String(), Role: f.role, Dependents: deps}
	}
	res.Method, res.MethodReason = f.method()
	if opts.forceBatched && res.Method == MethodDropOwned {
		res.Method, res.MethodReason = MethodBatched, "requested"
	}
	log.Info("clearing database", "database", t.String(), "objects", DescribeCounts(res.Before),
		"method", string(res.Method), "reason", res.MethodReason, "other_sessions", len(sessions))

	if len(sessions) > 0 {
		res.Changed = true
		if err := terminate(ctx, conn, f, sessions); err != nil {
			return res, fmt.Errorf("clearing database %s: %w", t, err)
		}
		res.SessionsTerminated = sessions
		for _, s := range sessions {
			log.Info("terminated session", "database", t.String(), "session", s.String())
		}
	}

	if res.Method == MethodDropOwned {
		script := dropOwnedScript(f)
		err := execLogged(ctx, conn, log, strings.Join(script, ";\n"))
		switch {
		case err == nil:
			res.Changed = true
			res.Statements = append(res.Statements, script...)
		case sqlState(err) == codeOutOfMemory:
			// DROP OWNED locks every object at once; the server's lock
			// table (max_locks_per_transaction) is too small for this
			// database. Smaller transactions need fewer locks.
			res.Method = MethodBatched
			res.MethodReason = "DROP OWNED ran out of lock table space (max_locks_per_transaction): " + describe(err)
			log.Warn("DROP OWNED refused; dropping in batches", "database", t.String(), "error", describe(err))
		default:
			return res, dropError(t, err)
		}
	}
	if res.Method == MethodBatched {
		res.Changed = true
		if err := dropBatched(ctx, conn, f, opts, log, &res); err != nil {
			return res, dropError(t, err)
		}
	}

	if err := verifyCleared(ctx, conn, t, f, &res); err != nil {
		return res, err
	}
	res.Duration = time.Since(start)
	log.Info("database cleared", "database", t.String(), "dropped", DescribeCounts(res.Before),
		"statements", len(res.Statements), "duration", res.Duration.Round(time.Millisecond))
	return res, nil
}

// dropOwnedScript is the one-transaction clear. When the role owns public,
// DROP OWNED would drop it (CASCADE: with whatever other roles keep in
// it), so it is handed to another role first and taken back after.
func dropOwnedScript(f facts) []string {
	var s []string
	if f.publicOwnedByMe {
		s = append(s, "ALTER SCHEMA public OWNER TO "+ident(f.swapRole))
	}
	s = append(s, "DROP OWNED BY CURRENT_USER CASCADE")
	if f.publicOwnedByMe {
		s = append(s, "ALTER SCHEMA public OWNER TO CURRENT_USER")
	}
	return s
}

// execLogged runs sql (one or more statements, no parameters: the simple
// protocol, one round trip, and one implicit transaction for all of them).
func execLogged(ctx context.Context, conn *pgx.Conn, log hclog.Logger, sql string) error {
	start := time.Now()
	_, err := conn.Exec(ctx, sql)
	log.Debug("executed", "sql", abbreviate(sql), "duration", time.Since(start).Round(time.Microsecond), "error", err)
	return err
}

func dropError(t Target, err error) error {
	if sqlState(err) == codeLockNotAvailable {
		return fmt.Errorf("clearing database %s: another session holds a lock on an object to drop; "+
			"stop whatever connected to the database after the other sessions were terminated, and run again: %w", t, withDetail(err))
	}
	return fmt.Errorf("clearing database %s: %w", t, withDetail(err))
}

// terminate ends the other sessions and waits until they are gone, so
// that none holds a lock or a cached plan on what is about to be dropped.
func terminate(ctx context.Context, conn *pgx.Conn, f facts, sessions []Session) error {
	pids := make([]int32, len(sessions))
	for i, s := range sessions {
		pids[i] = int32(s.PID)
	}
	var err error
	if f.versionNum >= 140000 {
		// The server waits for each session to end (PostgreSQL 14+).
		_, err = conn.Exec(ctx, "SELECT pg_terminate_backend(pid, $2) FROM unnest($1::int4[]) AS pid",
			pids, terminateTimeout.Milliseconds())
	} else {
		_, err = conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM unnest($1::int4[]) AS pid", pids)
	}
	if err != nil {
		return fmt.Errorf("terminating other sessions: %w", withDetail(err))
	}
	deadline := time.Now().Add(terminateTimeout)
	for {
		var left int
		if err := conn.QueryRow(ctx, "SELECT count(*)::int FROM pg_stat_activity WHERE pid = ANY($1::int4[])", pids).Scan(&left); err != nil {
			return fmt.Errorf("checking that terminated sessions are gone: %w", err)
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d terminated session(s) still running after %v; nothing was dropped: run again, or stop them by hand", left, terminateTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// verifyCleared checks from the catalogs that the role owns nothing but
// a kept public schema, and that public has its owner and privileges.
func verifyCleared(ctx context.Context, conn *pgx.Conn, t Target, before facts, res *ClearResult) error {
	after, err := gatherFacts(ctx, conn)
	if err != nil {
		return fmt.Errorf("clearing database %s: verifying: %w", t, err)
	}
	res.After = map[string]int{}
	var left []Object
	if after.toClear() > 0 {
		// Name them only when there are any: the list is the costly part.
		objs, err := ownedObjects(ctx, conn)
		if err != nil {
			return fmt.Errorf("clearing database %s: verifying: %w", t, err)
		}
		for _, o := range objs {
			if o.Kind == "schema" && o.Identity == "public" && after.publicOwnedByMe {
				continue
			}
			left = append(left, o)
			res.After[o.Kind]++
		}
	}
	if after.publicOID != before.publicOID || after.publicOwner != before.publicOwner || after.publicACL != before.publicACL {
		return fmt.Errorf("clearing database %s: schema public changed (owner %q privileges %q, was owner %q privileges %q); "+
			"restore them before running engine-setup (ALTER SCHEMA public OWNER TO ...; GRANT ... ON SCHEMA public ...)",
			t, after.publicOwner, after.publicACL, before.publicOwner, before.publicACL)
	}
	if len(left) > 0 {
		return &LeftoversError{Target: t.String(), Role: before.role, Objects: left}
	}
	return nil
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

func abbreviate(s string) string {
	if len(s) <= maxLoggedStatement {
		return s
	}
	return s[:maxLoggedStatement] + fmt.Sprintf("... (%d more bytes)", len(s)-maxLoggedStatement)
}
