// Package db backs up and clears the PostgreSQL databases of an oVirt
// engine host: the engine database, the DWH history database and the
// Reports database. The engine, dwh and reports plugins share it.
//
// The unit of work is a Target, one database as the setup records describe
// it (TargetFromRecords). The package then offers, in the order a cleanup
// uses them:
//
//   - Inspect (init and validate phases, read-only): server version, the
//     role's rights, what it owns, the other sessions on the database and
//     whether they can be terminated, objects of other roles that would
//     block clearing, and the clearing method that Clear would use.
//   - CheckDumpTool: find a pg_dump whose major version is at least the
//     server's.
//   - Backup (backup stage): pg_dump --format=custom into the backups
//     directory under oVirt's name, atomically and with mode 0600; the
//     password reaches pg_dump through a private pgpass file only.
//   - Clear (remove stage): drop everything the role owns in the database
//     and keep the database, the role and the public schema, so that the
//     next engine-setup reuses them, as oVirt's own cleanup did. It works
//     with the application role's rights alone (no CREATEDB, no superuser:
//     the remote-database case), prefers one DROP OWNED BY statement to one
//     statement per object, terminates the other sessions where the rights
//     allow and refuses before changing anything where they do not, and
//     verifies from the catalogs that nothing owned by the role is left.
//
// Connection failures are *ConnectError values that match ErrUnreachable,
// ErrAuthentication, ErrDatabaseMissing, ErrPermission or ErrTLS with
// errors.Is. Every error names the database as user@host:port/db and never
// holds a password; Target prints without its passwords in every fmt verb.
//
// Every function that does I/O takes a context first; cancelling it
// cancels the running query or kills pg_dump.
package db
