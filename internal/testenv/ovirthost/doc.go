// Package ovirthost builds realistic oVirt engine hosts under a directory,
// for tests and for the demo: the trees that engine-setup, rpm and an
// administrator leave behind, on which engine-cleanup then runs with
// --root DIR.
//
//	opts := ovirthost.Options{DWH: &ovirthost.DB{}}
//	opts.Engine, opts.DWH, opts.Reports = ovirthost.NewDatabases(t, cluster, opts)
//	h := ovirthost.Build(t, t.TempDir(), opts)
//	before := ovirthost.TreeChecksum(t, h.Root)
//	// run engine-cleanup --root h.Root, then assert on h.MustSurvive(),
//	// h.MustBeRemoved(), h.LineEdits, h.Passwords ...
//
// A host is not a bag of plausible files. Build replays what the real tools
// did, so that the records agree with each other as they do on a real
// host:
//
//   - otopi era (3.3 and later): a first engine-setup run (3.6.7 for hosts
//     of 4.x) and an upgrade run to the version asked for. Each run writes
//     its files with otopi's FileTransaction rules (unchanged content is
//     neither rewritten nor recorded; changed content leaves an untracked
//     <file>.<YYYYmmddHHMMSS> copy) and ends with an uninstall manifest
//     rendered as configparser writes it, with the digests of the files as
//     that run left them: md5 before oVirt 4.3, sha256 after. The shared
//     files (ssl.conf, versionlock.list, /etc/exports) carry the line edits
//     the manifests describe, and the upgrade replaced the first run's
//     versionlock lines, as upgrades do: those recorded lines can no longer
//     be found (Edit.Missing). After the runs, the engine enrolled a host,
//     the administrator uploaded an ISO image and changed
//     z-ovirt-engine-proxy.conf (Host.ChangedFiles).
//   - legacy era (3.0 to 3.2): the .pgpass block, /etc/sysconfig/ovirt-engine
//     edited by setup, the legacy PKI and no manifest at all.
//
// The writers of the records (10-setup-database.conf in its two password
// escaping styles, 10-setup-pki.conf, the DWH and Reports files, the legacy
// .pgpass, the manifests) mirror oVirt's own writers; each says which one.
// The locations mirror plugins/internal/records/paths.go, which Go's
// internal-package rule keeps out of this package's reach; the tests read
// every host with the records package itself (see
// testdata/recordscheck) and compare the locations.
//
// PKI material is real: certificates made with crypto/x509 under a real
// CA, and PKCS#12 keystores made by the openssl command with the password
// that 10-setup-pki.conf records. RSA keys and keystores are expensive, so
// they are made once per process and shared by every host with the same
// FQDN and passwords; this cache is the package's only state. Build after
// the first only writes files (tens of milliseconds).
//
// Absolute symlink targets that setup recorded (apache-ca.pem -> ca.pem)
// are written with the root directory in front, as the records package
// expects of trees under a temporary root: without it they would name a
// file of the machine running the tests. Service enablement links are
// written the way "systemctl --root DIR enable" writes them, relative to
// DIR.
//
// SimulatePackageRemoval and SimulatePackageInstall replay the rpm
// scriptlets of ovirt-engine, which are harsher than one might expect: yum
// remove also copies /etc/pki/ovirt-engine to
// /etc/pki/ovirt-engine-backups/ovirt-engine-<date> and then deletes the
// whole PKI directory, and deletes every versionlock.list line that names
// ovirt-engine. Setup's records (post-install file, 10-setup-*.conf,
// manifests, .pgpass) are not the packages' and survive, which is what
// makes sequence II possible.
//
// Build creates no database: NewDatabases creates roles and databases in a
// pgtest cluster the way engine-setup provisions them, with passwords that
// exercise every writer's escaping, and PopulateDatabase loads an
// engine-like schema into one. New is Build for programs that are not
// tests.
package ovirthost
