// Package pgtest starts a throwaway PostgreSQL 15 cluster for one test.
//
// Start runs initdb once per test binary into a template directory
// (<root>/pgt-<pid>/base) and gives every test a copy of it (cp -a, into
// <root>/pgc-<pid>-<random>), which is several times faster than a fresh
// initdb. <root> is /dev/shm when it is a tmpfs with at least 2 GB free
// (copies are 5 to 10 times faster there than on an ext4 /tmp), else
// $TMPDIR or /tmp; set PGTEST_ROOT to choose (keep it short: the socket
// path must fit in 107 bytes). The server runs as the
// "postgres" OS user (initdb and postgres refuse to run as root), listens on
// a private Unix socket directory and, with WithTCP, on 127.0.0.1 with
// scram-sha-256 password authentication. Socket connections are trusted, so
// the superuser "postgres" can always connect over the socket (SuperDSN).
//
// WithTemplate extends the trick to fixtures: a cluster prepared once per
// test binary (say, an engine database with a full schema, see
// pgtest/schema) is copied for each test that names it, instead of being
// rebuilt. Within one cluster, CloneDatabase copies a database.
//
// The cluster is stopped (SIGINT, fast shutdown) and its directory removed in
// t.Cleanup. If the test binary is killed, the server dies with it
// (Pdeathsig) and the directories it leaves are swept by the next test
// binary that uses pgtest.
//
// A package that uses pgtest should remove the template when its tests end:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// or, with a custom TestMain, call RemoveTemplate after m.Run. Forgetting it
// leaves the templates (28 MB, plus the size of each WithTemplate fixture)
// in /dev/shm, that is in RAM, until a later test binary sweeps them.
//
// Costs, measured on the 2-vCPU reference machine while other test suites
// ran: the first Start of a test binary 0.7 to 1 s (initdb), every Start
// after that about 0.1 s (copy 60 to 90 ms, server ready 40 to 60 ms), Stop
// about 20 ms, Restart about 80 ms.
//
// Programs that are not tests (the sandbox of internal/cmd/sandbox) use
// StartCluster, which returns an error instead of failing a test, and stop
// and remove the cluster with Close; Available says why a cluster cannot
// start. The methods they need have error-returning variants named after
// them (ExecErr, ExecAsErr, QueryStringsErr, CreateRoleErr,
// CreateDatabaseErr, RemoteDBUserErr, LocalDBUserErr, ObjectsOwnedByErr,
// schema.LoadErr), which the test methods wrap: the same code either way.
// Such a program calls RemoveTemplate when it needs no more clusters.
//
// The templates are initialised with --auth-local=trust
// --auth-host=scram-sha-256, -E UTF8, --locale=C.UTF-8 and 1 MB WAL
// segments (a smaller copy; max_wal_size stays 1 GB); the server runs
// with fsync, synchronous_commit and full_page_writes off, so a cluster is
// not crash-safe, which is irrelevant for a test.
package pgtest
