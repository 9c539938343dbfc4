// Package schema generates a database schema shaped like an oVirt engine
// database, for tests that must clean up or compare realistic databases.
//
// The engine database holds hundreds of tables (vm_static, vds_dynamic,
// storage_pool...) with primary keys, foreign keys and indexes, views over
// them, thousands of plpgsql stored procedures named like GetVmByVmGuid or
// InsertVdsStatic, and, in the same database, the aaa_jdbc schema of the
// internal authentication extension, all owned by one role ("engine"). The
// generator reproduces these kinds and that size, deterministically, plus
// the kinds the real schema lacks but a cleanup must still handle: enums,
// domains, composite types, a materialized view, procedures and
// standalone sequences.
//
// Full() (300 tables, 2500 functions, about 3,500 rows, about 3,900
// owned objects including indexes) is for realistic tests; Small() (20
// tables, 100 functions) loads in a fraction of the time. Load runs the SQL
// as the owning role (SET ROLE from the superuser), so that the role owns
// every object, and Generate returns the SQL together with the number of
// objects of each kind it creates, in the kinds of pgtest.CountKinds.
//
// Loading Full takes 1.8 to 2.6 s (Small 0.1 to 0.3 s), so tests that need it should start their
// cluster from a template built once per test binary:
//
//	c := pgtest.Start(t, pgtest.WithTCP(),
//		schema.EngineTemplate("engine", "engine-pw", "engine", schema.Full()))
//	u := c.DBUserOverTCP("engine", "engine-pw", "engine") // the remote case
//	before := c.ObjectsOwnedBy(t, "engine", "engine")
//
// The first such Start in a test binary takes 2.2 to 2.8 s, the next ones
// about 0.3 s.
package schema
