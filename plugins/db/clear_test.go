package db

import (
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest"
	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest/schema"
)

func TestBackupThenClearOfTheFullEngineSchemaLeavesAReusableEmptyDatabase(t *testing.T) {
	for _, tc := range []struct {
		name   string
		target func(c *pgtest.Cluster) Target
	}{
		{"remote: NOCREATEDB role with a password over TCP", func(c *pgtest.Cluster) Target {
			return targetOf(c.DBUserOverTCP(engineRole, enginePW, engineDB))
		}},
		{"local: the same role over the Unix socket", func(c *pgtest.Cluster) Target {
			return targetOf(c.DBUserOverSocket(engineRole, enginePW, engineDB))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fullCluster(t)
			tg := tc.target(c)
			ctx := ctxFor(t)
			before := c.ObjectsOwnedBy(t, engineDB, engineRole)
			rows := c.RowCounts(t, engineDB)
			routines := routineCount(t, c, engineDB)
			if len(before) < 3000 || len(rows) < 300 {
				t.Fatalf("fixture too small: %d objects, %d tables", len(before), len(rows))
			}

			tool, err := CheckDumpTool(ctx, 15)
			if err != nil {
				t.Fatal(err)
			}
			dump, err := Backup(ctx, tg, tool, BackupOptions{Dir: filepath.Join(t.TempDir(), "backups"), Prefix: "engine", Log: testLogger(t)})
			if err != nil {
				t.Fatalf("Backup: %v", err)
			}

			res, err := Clear(ctx, tg, testLogger(t))
			if err != nil {
				t.Fatalf("Clear: %v", err)
			}
			if got := c.ObjectsOwnedBy(t, engineDB, engineRole); len(got) != 0 {
				t.Fatalf("after Clear %d objects of %s remain, first: %q", len(got), engineRole, got[:min(10, len(got))])
			}
			if res.Method != MethodDropOwned || len(res.Statements) != 1 || !res.Changed {
				t.Errorf("Clear used %q with %d statements (changed %v), want one DROP OWNED", res.Method, len(res.Statements), res.Changed)
			}
			if want := pgtest.CountKinds(before); !maps.Equal(res.Before, want) || Total(res.After) != 0 {
				t.Errorf("Clear reported before %v after %v, want before %v and nothing after", res.Before, res.After, want)
			}
			if !c.RoleExists(t, engineRole) || !slices.Equal(c.DatabasesOwnedBy(t, engineRole), []string{engineDB}) {
				t.Fatalf("the role or its database is gone: role exists %v, databases %q",
					c.RoleExists(t, engineRole), c.DatabasesOwnedBy(t, engineRole))
			}
			canReuse(t, tg)

			gotRows, gotRoutines := restoreCounts(t, c, dump)
			if !maps.Equal(gotRows, rows) {
				t.Errorf("restored dump has %d tables with other row counts than the %d original ones", len(gotRows), len(rows))
			}
			if gotRoutines != routines {
				t.Errorf("restored dump has %s functions and procedures, the original %s", gotRoutines, routines)
			}
		})
	}
}

func TestClearKeepsPublicWithItsOwnerAndPrivileges(t *testing.T) {
	for _, tc := range []struct {
		name string
		// setup runs as the superuser in the engine database.
		setup      string
		batched    bool
		wantMethod ClearMethod
		wantOwner  string
	}{
		{
			name:       "public owned by pg_database_owner, as PostgreSQL 15 creates it",
			wantMethod: MethodDropOwned, wantOwner: "pg_database_owner",
		},
		{
			name: "public owned by the role, as in oVirt-era databases",
			setup: `ALTER SCHEMA public OWNER TO engine;
				CREATE ROLE reader; GRANT USAGE ON SCHEMA public TO reader; GRANT CREATE ON SCHEMA public TO PUBLIC;
				COMMENT ON SCHEMA public IS 'kept by engine-cleanup'`,
			wantMethod: MethodDropOwned, wantOwner: engineRole,
		},
		{
			name: "public owned by the role, cleared in batches as on PostgreSQL 13",
			setup: `ALTER SCHEMA public OWNER TO engine;
				CREATE ROLE reader; GRANT USAGE ON SCHEMA public TO reader`,
			batched: true, wantMethod: MethodBatched, wantOwner: engineRole,
		},
		{
			name:  "public owned by the role with privileges naming pg_database_owner",
			setup: `ALTER SCHEMA public OWNER TO engine; GRANT USAGE ON SCHEMA public TO pg_database_owner`,
			// Handing public to pg_database_owner and back would merge
			// that entry into the owner's.
			wantMethod: MethodBatched, wantOwner: engineRole,
		},
		{
			name: "public owned by the superuser, CREATE granted to the role only",
			setup: `ALTER SCHEMA public OWNER TO postgres; REVOKE ALL ON SCHEMA public FROM PUBLIC;
				GRANT USAGE, CREATE ON SCHEMA public TO engine`,
			// DROP OWNED would revoke that grant, and the next setup
			// could not create its tables.
			wantMethod: MethodBatched, wantOwner: "postgres",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := smallCluster(t)
			if tc.setup != "" {
				c.Exec(t, engineDB, tc.setup)
			}
			// An object of the role in public, so that public is not
			// trivially empty.
			c.ExecAs(t, engineDB, engineRole, "CREATE TABLE public.in_public (id int)")
			const publicSQL = `SELECT pg_get_userbyid(nspowner)::text || ' ' || coalesce(nspacl::text, '') || ' ' ||
				coalesce(obj_description(oid, 'pg_namespace'), '') FROM pg_namespace WHERE nspname = 'public'`
			before := c.QueryStrings(t, engineDB, publicSQL)

			res, err := clearDatabase(ctxFor(t), remoteTarget(c, engineDB), testLogger(t), clearOptions{forceBatched: tc.batched})
			if err != nil {
				t.Fatalf("Clear: %v", err)
			}
			if res.Method != tc.wantMethod {
				t.Errorf("Clear used %q (%s), want %q", res.Method, res.MethodReason, tc.wantMethod)
			}
			after := c.QueryStrings(t, engineDB, publicSQL)
			if !slices.Equal(after, before) {
				t.Fatalf("public schema (owner, privileges, comment) changed:\n got %q\nwant %q", after, before)
			}
			if !strings.HasPrefix(after[0], tc.wantOwner+" ") {
				t.Errorf("public is owned as %q, want owner %s", after[0], tc.wantOwner)
			}
			var want []string
			if tc.wantOwner == engineRole {
				want = []string{"schema public"}
			}
			if got := c.ObjectsOwnedBy(t, engineDB, engineRole); !slices.Equal(got, want) {
				t.Fatalf("after Clear the role owns %q, want %q", got, want)
			}
			canReuse(t, remoteTarget(c, engineDB))
		})
	}
}

func TestClearLeavesObjectsOfOtherRolesAlone(t *testing.T) {
	c := smallCluster(t)
	c.Exec(t, engineDB, `CREATE TABLE public.dba_notes (note text); INSERT INTO dba_notes VALUES ('keep me');
		CREATE SCHEMA dba; CREATE FUNCTION dba.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
		CREATE EXTENSION IF NOT EXISTS "uuid-ossp"`)
	const othersSQL = `SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relowner <> 'engine'::regrole AND n.nspname IN ('public', 'dba')
		UNION ALL SELECT p.proname::text FROM pg_proc p WHERE p.proowner <> 'engine'::regrole
		  AND p.pronamespace IN ('public'::regnamespace, 'dba'::regnamespace)
		ORDER BY 1`
	before := c.QueryStrings(t, engineDB, othersSQL)
	if len(before) < 3 {
		t.Fatalf("fixture: objects of others %q", before)
	}

	if _, err := Clear(ctxFor(t), remoteTarget(c, engineDB), testLogger(t)); err != nil {
		t.Fatalf("Clear: %v", err)
	}
	if got := c.ObjectsOwnedBy(t, engineDB, engineRole); len(got) != 0 {
		t.Fatalf("after Clear the role owns %q", got)
	}
	if after := c.QueryStrings(t, engineDB, othersSQL); !slices.Equal(after, before) {
		t.Fatalf("objects of other roles changed:\n got %q\nwant %q", after, before)
	}
	if got := c.QueryStrings(t, engineDB, "SELECT note FROM public.dba_notes"); !slices.Equal(got, []string{"keep me"}) {
		t.Fatalf("the superuser's table lost its rows: %q", got)
	}
}

func TestClearRefusesBeforeDroppingWhenObjectsOfOtherRolesDependOnTheRoles(t *testing.T) {
	for _, tc := range []struct {
		name, setup, wantDependent string
	}{
		{"a view of another role on the role's table",
			"CREATE VIEW public.dba_view AS SELECT * FROM public.vm_static", "view dba_view"},
		{"a table of another role in the role's schema",
			"CREATE TABLE aaa_jdbc.dba_table (id int)", "table aaa_jdbc.dba_table"},
		{"a foreign key of another role's table to the role's table",
			"CREATE TABLE public.dba_ref (id uuid REFERENCES public.vm_static (id))", "constraint dba_ref_id_fkey on table dba_ref"},
		{"a column of another role's table of the role's enum type",
			"CREATE TABLE public.dba_typed (s vm_status)", "table dba_typed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := smallCluster(t)
			c.Exec(t, engineDB, tc.setup)
			before := c.ObjectsOwnedBy(t, engineDB, engineRole)

			_, err := Clear(ctxFor(t), remoteTarget(c, engineDB), testLogger(t))
			var de *DependentsError
			if !errors.As(err, &de) {
				t.Fatalf("Clear: %v, want a *DependentsError", err)
			}
			found := false
			for _, d := range de.Dependents {
				found = found || strings.HasPrefix(d.Object, tc.wantDependent)
			}
			if !found || !strings.Contains(err.Error(), tc.wantDependent) {
				t.Errorf("error does not name %q: %v", tc.wantDependent, err)
			}
			if after := c.ObjectsOwnedBy(t, engineDB, engineRole); !slices.Equal(after, before) {
				t.Fatalf("Clear refused but changed the role's objects: %d before, %d after", len(before), len(after))
			}
		})
	}
}

func TestClearTerminatesOrRefusesOtherSessions(t *testing.T) {
	for _, tc := range []struct {
		name string
		// role connects the other session over the socket; grant is run
		// by the superuser first.
		role, grant string
		wantRefusal bool
	}{
		{name: "a session of the same role is terminated", role: engineRole},
		{name: "a session of another role is terminated when the role has pg_signal_backend",
			role: "monitor", grant: "GRANT pg_signal_backend TO engine"},
		{name: "a session of another role makes Clear refuse", role: "monitor", wantRefusal: true},
		{name: "a superuser's session makes Clear refuse even with pg_signal_backend",
			role: "postgres", grant: "GRANT pg_signal_backend TO engine", wantRefusal: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := smallCluster(t)
			c.CreateRole(t, "monitor", "", "LOGIN")
			if tc.grant != "" {
				c.Exec(t, "postgres", tc.grant)
			}
			other := c.Conn(t, c.SocketDSN(tc.role, engineDB)+" application_name='monitoring-tool'")
			var pid int32
			if err := other.QueryRow(ctxFor(t), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
				t.Fatal(err)
			}
			before := c.ObjectsOwnedBy(t, engineDB, engineRole)

			res, err := Clear(ctxFor(t), remoteTarget(c, engineDB), testLogger(t))
			stillThere := other.Ping(ctxFor(t)) == nil
			if tc.wantRefusal {
				var se *SessionsError
				if !errors.As(err, &se) || len(se.Sessions) != 1 || se.Sessions[0].PID != int(pid) {
					t.Fatalf("Clear: %v, want a *SessionsError naming pid %d", err, pid)
				}
				for _, want := range []string{"pid " + strconv.Itoa(int(pid)), "user " + tc.role, `"monitoring-tool"`, "client "} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error does not name %q: %v", want, err)
					}
				}
				if after := c.ObjectsOwnedBy(t, engineDB, engineRole); !slices.Equal(after, before) {
					t.Fatalf("Clear refused but changed the role's objects")
				}
				if !stillThere {
					t.Fatal("Clear refused but the other session is gone")
				}
				return
			}
			if err != nil {
				t.Fatalf("Clear: %v", err)
			}
			if stillThere {
				t.Fatal("the other session survived Clear")
			}
			if len(res.SessionsTerminated) != 1 || res.SessionsTerminated[0].PID != int(pid) {
				t.Errorf("Clear reported terminating %v, want pid %d", res.SessionsTerminated, pid)
			}
			if got := c.ObjectsOwnedBy(t, engineDB, engineRole); len(got) != 0 {
				t.Fatalf("after Clear the role owns %q", got)
			}
		})
	}
}

func TestClearOfAnEmptyDatabaseChangesNothing(t *testing.T) {
	c := smallCluster(t)
	tg := remoteTarget(c, engineDB)
	first, err := Clear(ctxFor(t), tg, testLogger(t))
	if err != nil || !first.Changed || Total(first.Before) == 0 {
		t.Fatalf("first Clear: changed %v, before %v, error %v", first.Changed, first.Before, err)
	}
	// Another session that the role could terminate must not be, since
	// there is nothing to do.
	other := c.Conn(t, c.SocketDSN(engineRole, engineDB))

	second, err := Clear(ctxFor(t), tg, testLogger(t))
	if err != nil {
		t.Fatalf("second Clear: %v", err)
	}
	if second.Changed || len(second.Statements) != 0 || len(second.SessionsTerminated) != 0 || Total(second.Before) != 0 {
		t.Fatalf("second Clear changed something: %+v", second)
	}
	if err := other.Ping(ctxFor(t)); err != nil {
		t.Fatalf("second Clear ended another session: %v", err)
	}
}

func TestClearFallsBackToBatchesWhenTheLockTableIsTooSmall(t *testing.T) {
	// 10 locks per transaction and 100 connections leave room for about
	// 1,000 locks: DROP OWNED of 3,900 objects needs several times that.
	c := fullCluster(t, pgtest.WithSetting("max_locks_per_transaction", "10"))
	res, err := Clear(ctxFor(t), remoteTarget(c, engineDB), testLogger(t))
	if err != nil {
		t.Fatalf("Clear: %v", err)
	}
	if res.Method != MethodBatched || !strings.Contains(res.MethodReason, "lock") {
		t.Errorf("Clear used %q (%s), want batches after DROP OWNED ran out of locks", res.Method, res.MethodReason)
	}
	if got := c.ObjectsOwnedBy(t, engineDB, engineRole); len(got) != 0 {
		t.Fatalf("after Clear %d objects remain: %q", len(got), got[:min(10, len(got))])
	}
	t.Logf("%d statements", len(res.Statements))
	canReuse(t, remoteTarget(c, engineDB))
}

func TestClearKeepsPrivilegesTheRoleHoldsOnOtherObjects(t *testing.T) {
	c := smallCluster(t)
	c.CreateDatabase(t, "other", "")
	c.Exec(t, "other", `REVOKE CONNECT ON DATABASE other FROM PUBLIC; GRANT CONNECT ON DATABASE other TO engine`)
	c.Exec(t, engineDB, `CREATE TABLE public.dba_lookup (id int); GRANT SELECT ON public.dba_lookup TO engine`)
	// Default privileges of the role, global and per schema, are owned
	// by it and must go too; the batched path resets them.
	c.ExecAs(t, engineDB, engineRole, `
		ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC;
		ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
		ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO PUBLIC;
		ALTER DEFAULT PRIVILEGES IN SCHEMA aaa_jdbc GRANT SELECT ON TABLES TO PUBLIC`)
	const privsSQL = `SELECT has_database_privilege('engine', 'other', 'CONNECT')::text || ' ' ||
		has_table_privilege('engine', 'public.dba_lookup', 'SELECT')::text`

	res, err := Clear(ctxFor(t), remoteTarget(c, engineDB), testLogger(t))
	if err != nil {
		t.Fatalf("Clear: %v", err)
	}
	if res.Method != MethodBatched || !strings.Contains(res.MethodReason, "revoke") {
		t.Errorf("Clear used %q (%s), want batches because DROP OWNED would revoke", res.Method, res.MethodReason)
	}
	if got := c.ObjectsOwnedBy(t, engineDB, engineRole); len(got) != 0 {
		t.Fatalf("after Clear the role owns %q", got)
	}
	if got := c.QueryStrings(t, engineDB, privsSQL); !slices.Equal(got, []string{"true true"}) {
		t.Fatalf("privileges of the role on objects it does not own (CONNECT other, SELECT dba_lookup): %q, want both kept", got)
	}
	canReuse(t, remoteTarget(c, engineDB))
}

func TestInspectReportsRightsObjectsAndSessionsWithoutChangingAnything(t *testing.T) {
	c := smallCluster(t)
	c.CreateRole(t, "monitor", "", "LOGIN")
	c.Conn(t, c.SocketDSN("monitor", engineDB)+" application_name='monitoring-tool'")
	c.Exec(t, engineDB, "CREATE VIEW public.dba_view AS SELECT * FROM public.vm_static")
	before := c.ObjectsOwnedBy(t, engineDB, engineRole)

	ins, err := Inspect(ctxFor(t), remoteTarget(c, engineDB))
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if ins.ServerMajor != 15 || !strings.HasPrefix(ins.ServerVersion, "15.") || ins.ServerVersionNum < 150000 {
		t.Errorf("server version %q (%d, major %d), want 15.x", ins.ServerVersion, ins.ServerVersionNum, ins.ServerMajor)
	}
	if ins.Role != engineRole || ins.Superuser || ins.CreateDB || !ins.OwnsDatabase || ins.CanSignalBackends || ins.DatabaseOwner != engineRole {
		t.Errorf("rights: %+v", ins)
	}
	if want := pgtest.CountKinds(before); !maps.Equal(ins.Objects, want) || ins.ObjectCount() != len(before) {
		t.Errorf("objects %v, want %v", ins.Objects, want)
	}
	// The harness's own superuser connection of a moment ago may still be
	// ending (a backend exits after its client): not the session under test.
	var sessions []Session
	for _, s := range ins.Sessions {
		if !(s.User == "postgres" && s.Application == "") {
			sessions = append(sessions, s)
		}
	}
	if len(sessions) != 1 || sessions[0].User != "monitor" || sessions[0].Application != "monitoring-tool" ||
		sessions[0].CanTerminate {
		t.Errorf("sessions %+v, want monitor's, not terminable", ins.Sessions)
	}
	if len(ins.Dependents) == 0 || ins.Dependents[0].Object != "view dba_view" || ins.Dependents[0].Owner != "postgres" {
		t.Errorf("dependents %v, want the superuser's view", ins.Dependents)
	}
	if len(ins.Problems()) != 2 || ins.Method != MethodDropOwned {
		t.Errorf("problems %q, method %q", ins.Problems(), ins.Method)
	}
	if after := c.ObjectsOwnedBy(t, engineDB, engineRole); !slices.Equal(after, before) {
		t.Fatal("Inspect changed the role's objects")
	}
}

func TestOwnedObjectsMatchesTheCatalogsView(t *testing.T) {
	c := pgtest.Start(t)
	c.LocalDBUser(t, engineRole, "", engineDB)
	s := schema.Load(t, c, engineDB, engineRole, schema.Small())
	conn := c.Conn(t, c.SocketDSN(engineRole, engineDB))
	objs, err := OwnedObjects(ctxFor(t), conn)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(objs))
	kinds := map[string]int{}
	for i, o := range objs {
		got[i] = o.String()
		kinds[o.Kind]++
	}
	slices.Sort(got)
	if want := c.ObjectsOwnedBy(t, engineDB, engineRole); !slices.Equal(got, want) {
		t.Fatalf("OwnedObjects differs from pgtest.ObjectsOwnedBy:\n got %d %q\nwant %d %q", len(got), got, len(want), want)
	}
	want := map[string]int{}
	for k, n := range s.Kinds {
		if n > 0 {
			want[k] = n
		}
	}
	if !maps.Equal(kinds, want) {
		t.Errorf("kinds %v, generator says %v", kinds, want)
	}
}
