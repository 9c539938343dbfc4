// Package records reads the on-disk records that oVirt's engine-setup leaves
// on an engine host, so that engine-cleanup can decide what to clean from
// the host's own account of what was installed.
//
// It covers both eras of engine-setup:
//
//   - the otopi era (oVirt 3.3 and later): shell-like configuration files
//     such as engine.conf.d/10-setup-database.conf (Parse, ParseLayered,
//     DatabaseCredentials), the uninstall manifests in uninstall.d
//     (ParseManifest, MergeManifests) and the Reports buildomatic properties
//     (ReportsDatabaseCredentials);
//   - the legacy era (3.0 to 3.2): the engine section of .pgpass
//     (ParsePgpass).
//
// Every location and naming rule lives in paths.go, so that a new layout is
// one change. The post-install file (20-setup-ovirt-post.conf) is in otopi
// answer-file syntax and is parsed by sdk/otopi; only its path is here.
//
// The parsers are pure: they read bytes and return values or a *SyntaxError
// that names the file and line and says what to do. Records are treated as
// hostile input: files over MaxRecordSize or lines over MaxLineLength are
// refused, as are NUL bytes and invalid UTF-8, and no input makes a parser
// panic. Paths read from records are confined to the --root tree with
// Resolve and WithinRoot, and ReadRecord reads a record through them;
// LoadConfig and LoadManifests list, read and parse in oVirt's order.
//
// Secrets (database passwords) are held as Secret, which prints as a mask in
// every fmt verb, in JSON and in text encodings; call Reveal where the
// plaintext is really needed.
package records
