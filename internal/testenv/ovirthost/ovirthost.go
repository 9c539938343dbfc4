package ovirthost

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Era is the generation of engine-setup whose records a host carries.
type Era string

const (
	// EraOtopi is oVirt 3.3 and later: post-install file, 10-setup-*.conf,
	// uninstall manifests.
	EraOtopi Era = "otopi"
	// EraLegacy is oVirt 3.0 to 3.2: a .pgpass block and a fixed PKI list.
	EraLegacy Era = "legacy"
)

// Writers of 10-setup-database.conf, named by the first release that used
// them (see databaseConf). Only StyleMaster loses information: it leaves
// " and $ unescaped.
const (
	// Style330: only the password quoted, with ", \ and $ escaped; the
	// URL built from ${...} references.
	Style330 = "3.3.0"
	// Style34: every value quoted, otherwise as Style330.
	Style34 = "3.4"
	// Style36: every value quoted, the password as Style330, the URL
	// spelled out.
	Style36 = "3.6"
	// StyleMaster (4.0 to master): every value quoted, only : and \
	// escaped in the password, the URL spelled out.
	StyleMaster = "master"
)

// defaultStyle is the writer of release v.
func defaultStyle(v version) string {
	switch {
	case v.atLeast(4, 0):
		return StyleMaster
	case v.atLeast(3, 6):
		return Style36
	case v.atLeast(3, 4):
		return Style34
	}
	return Style330
}

// DB says where a component's database lives, typically from NewDatabases.
type DB struct {
	Host     string
	Port     int
	User     string
	Password string
	Database string
	Secured  bool
}

// Options describe the host to build. The zero value is an otopi-era
// 4.5.6 host on which nothing was set up yet (packages installed only).
type Options struct {
	Era Era
	// Engine is the engine database. Nil: engine-setup never completed on
	// this host, which then carries only the installed packages and the
	// administrator's own files (the "nothing to clean" host). DWH and
	// Reports need an engine.
	Engine *DB
	// DWH is the history database; nil means no DWH.
	DWH *DB
	// Reports is the Reports (Jasper) database, recorded in
	// master.properties; nil means no Reports. Reports existed in 3.3 to
	// 3.6 but is built for any version asked for.
	Reports *DB
	// EngineVersion is the installed (and last set up) version, e.g.
	// "4.5.6" (otopi, the default) or "3.2.0" (legacy, the default).
	EngineVersion string
	// PasswordStyle is the writer of the current 10-setup-database.conf
	// files (StyleMaster, Style330, Style34, Style36); the default is the
	// writer of EngineVersion. With StyleMaster a " in a password makes
	// oVirt's own reader see another password (records.DBCreds.AltPassword
	// recovers it) and a bare $ makes the file unreadable, so Build
	// refuses the latter.
	PasswordStyle string
	// FQDN of the engine; default engine.example.com.
	FQDN string
	// Services to record as enabled (systemd wants links; the caller
	// installs units in a systemd harness itself). Nil means those setup
	// enables for the components; an empty non-nil slice means none.
	Services []string
}

// Edit is a shared file that setup edited line by line, as the manifests
// record it.
type Edit struct {
	// Original is the content before setup: what a complete revert must
	// restore byte for byte.
	Original []byte
	// Edited is the content as the host has it now.
	Edited []byte
	// Missing are lines that a manifest records as added but that the file
	// no longer holds (an upgrade replaced them): a revert cannot find them
	// and, like oVirt, should say that some changes could not be reverted.
	Missing []string
}

// Host is a built host and what it contains, for assertions. Paths are
// absolute as recorded (as on the host); use Path for the file under Root.
type Host struct {
	Root string
	// Opts are the options with defaults filled in.
	Opts Options

	// RecordedFiles are the regular files listed in the file groups of
	// the manifests (not only in [unremovable]), including the ISO domain
	// layout and /etc/exports, which cleanup must keep: see Preserved.
	RecordedFiles []string
	// RecordedSymlinks are the symlinks listed in the manifests.
	RecordedSymlinks []string
	// LineEdits are the shared files whose recorded edits cleanup must
	// revert (ssl.conf, versionlock.list), by path.
	LineEdits map[string]Edit
	// KeptLineEdits are recorded edits cleanup must not revert: the
	// /etc/exports line of the ISO export.
	KeptLineEdits map[string]Edit
	// PKIFiles are the tracked PKI files (manifests; legacy: those of
	// records.LegacyPKIFiles).
	PKIFiles []string
	// UntrackedPKI are files under the PKI directory that no record
	// claims (host certificates, requests, the CA database, rpm-owned
	// templates): they must survive.
	UntrackedPKI []string
	// UserFiles are files that are not setup's records and must survive:
	// the administrator's files, otopi's <file>.<timestamp> copies, older
	// backups, setup logs and answer files.
	UserFiles []string
	// Preserved are files setup created or edited that cleanup must keep:
	// the ISO domain, /etc/exports, sysctl settings PostgreSQL needs, and
	// legacy edits that nothing recorded.
	Preserved []string
	// Unremovable are the files of the manifests' [unremovable] sections.
	Unremovable []string
	// ISOExport is the NFS ISO export directory; it and everything in it
	// must survive.
	ISOExport string
	// Manifests are the uninstall manifests, oldest first.
	Manifests []string
	// Records are the files that describe the installation and are
	// removed last: post-install file, 10-setup-*.conf, master.properties,
	// .pgpass.
	Records []string
	// ChangedFiles are recorded files whose content differs from the
	// digest in the manifests (the administrator changed them).
	ChangedFiles []string
	// PackageFiles are the files the installed packages own (engine, DWH,
	// Reports). Cleanup never removes them; SimulatePackageRemoval removes
	// the engine's (EnginePackageFiles).
	PackageFiles []string
	// Services are the services recorded as enabled.
	Services []string
	// Passwords are every secret written anywhere: database passwords,
	// keystore passwords, provider secrets, encrypted legacy passwords.
	Passwords []string
	// KeystorePassword is the password of the PKCS#12 keystores, as
	// recorded in 10-setup-pki.conf (legacy: the built-in default).
	KeystorePassword string
	// PKIBackup is the copy of the PKI directory that the rpm scriptlets
	// make on removal; empty until SimulatePackageRemoval.
	PKIBackup string
	// InstalledVersion is the version of the installed engine packages;
	// empty after SimulatePackageRemoval.
	InstalledVersion string

	pkg *packageSet // what SimulatePackageInstall brings back
	// recordedAdded are the lines the manifests record as added, by file.
	recordedAdded map[string][]string
}

// Path returns the file under Root for a recorded path.
func (h *Host) Path(recorded string) string {
	return filepath.Join(h.Root, filepath.FromSlash(recorded))
}

// MustSurvive returns every path that a cleanup of any kind must leave in
// place: user files, untracked PKI, preserved and unremovable files, the
// ISO export directory, the PKI backup of rpm and the package files. After
// SimulatePackageRemoval some of them are gone: rpm removed them.
func (h *Host) MustSurvive() []string {
	var out []string
	out = append(out, h.UserFiles...)
	out = append(out, h.UntrackedPKI...)
	out = append(out, h.Preserved...)
	out = append(out, h.Unremovable...)
	if h.ISOExport != "" {
		out = append(out, h.ISOExport)
	}
	if h.PKIBackup != "" {
		out = append(out, h.PKIBackup)
	}
	out = append(out, h.PackageFiles...)
	slices.Sort(out)
	return slices.Compact(out)
}

// MustBeRemoved returns what a full cleanup removes: the recorded files and
// symlinks except those it must keep, the tracked PKI files, the records
// and the manifests.
func (h *Host) MustBeRemoved() []string {
	keep := map[string]bool{}
	for _, p := range h.MustSurvive() {
		keep[p] = true
	}
	var out []string
	add := func(ps []string) {
		for _, p := range ps {
			if !keep[p] && !(h.ISOExport != "" && strings.HasPrefix(p, h.ISOExport+"/")) {
				out = append(out, p)
			}
		}
	}
	add(h.RecordedFiles)
	add(h.RecordedSymlinks)
	add(h.PKIFiles)
	add(h.Records)
	add(h.Manifests)
	slices.Sort(out)
	return slices.Compact(out)
}

// Build builds a host under root, which must be empty or missing, and
// returns what it made. It fails the test on any error.
func Build(t testing.TB, root string, opts Options) *Host {
	t.Helper()
	h, err := New(root, opts)
	if err != nil {
		t.Fatalf("ovirthost: %v", err)
	}
	return h
}

// New is Build for programs that are not tests, such as the demo.
func New(root string, opts Options) (*Host, error) {
	o, err := normalize(opts)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", root, err)
	}
	// Another host, or anything else, under root would mix with this one.
	if entries, err := os.ReadDir(abs); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("root %s is not empty; build each host into a directory of its own", abs)
	}
	b := newBuilder(abs, o)
	if o.Era == EraLegacy {
		err = b.buildLegacy()
	} else {
		err = b.buildOtopi()
	}
	if err != nil {
		return nil, err
	}
	if err := b.finish(); err != nil {
		return nil, err
	}
	return b.h, nil
}

func normalize(o Options) (Options, error) {
	if o.Era == "" {
		o.Era = EraOtopi
	}
	if o.Era != EraOtopi && o.Era != EraLegacy {
		return o, fmt.Errorf("unknown era %q: want %q or %q", o.Era, EraOtopi, EraLegacy)
	}
	if o.EngineVersion == "" {
		o.EngineVersion = "4.5.6"
		if o.Era == EraLegacy {
			o.EngineVersion = "3.2.0"
		}
	}
	v, err := parseVersion(o.EngineVersion)
	if err != nil {
		return o, err
	}
	switch {
	case o.Era == EraOtopi && !v.atLeast(3, 3):
		return o, fmt.Errorf("version %s predates otopi engine-setup (3.3): use Era %q", o.EngineVersion, EraLegacy)
	case o.Era == EraLegacy && (v.atLeast(3, 3) || !v.atLeast(3, 0)):
		return o, fmt.Errorf("version %s is not of the legacy era (3.0 to 3.2)", o.EngineVersion)
	}
	if o.PasswordStyle == "" {
		o.PasswordStyle = defaultStyle(v)
	}
	if !slices.Contains([]string{StyleMaster, Style330, Style34, Style36}, o.PasswordStyle) {
		return o, fmt.Errorf("unknown password style %q: want %q, %q, %q or %q", o.PasswordStyle, StyleMaster, Style330, Style34, Style36)
	}
	if o.FQDN == "" {
		o.FQDN = "engine.example.com"
	}
	if strings.ContainsAny(o.FQDN, "/ \t\n\"'\\") || !strings.Contains(o.FQDN, ".") {
		return o, fmt.Errorf("FQDN %q is not a host name with a domain", o.FQDN)
	}
	if o.Engine == nil && (o.DWH != nil || o.Reports != nil) {
		return o, fmt.Errorf("DWH and Reports need an engine: a separate DWH host is not modelled")
	}
	if o.Reports != nil && o.DWH == nil {
		return o, fmt.Errorf("Reports needs DWH: its 10-setup-database.conf holds the DWH credentials")
	}
	if o.Era == EraLegacy && (o.DWH != nil || o.Reports != nil) {
		return o, fmt.Errorf("legacy-era DWH and Reports are not modelled: the records package reads no legacy DWH or Reports record")
	}
	for _, c := range []struct {
		name string
		db   *DB
	}{{"engine", o.Engine}, {"DWH", o.DWH}, {"Reports", o.Reports}} {
		if c.db == nil {
			continue
		}
		if err := checkDB(c.name, *c.db, o); err != nil {
			return o, err
		}
		copied := *c.db // never alias the caller's struct
		switch c.name {
		case "engine":
			o.Engine = &copied
		case "DWH":
			o.DWH = &copied
		case "Reports":
			o.Reports = &copied
		}
	}
	o.Services = slices.Clone(o.Services)
	return o, nil
}

func checkDB(name string, db DB, o Options) error {
	switch {
	case db.Host == "" || db.User == "" || db.Database == "":
		return fmt.Errorf("%s database: Host, User and Database are required", name)
	case db.Port < 1 || db.Port > 65535:
		return fmt.Errorf("%s database: port %d out of range", name, db.Port)
	case db.Password == "":
		return fmt.Errorf("%s database: empty password; engine-setup records none then, and the database counts as not set up", name)
	case strings.ContainsAny(db.Password, "\n\r\x00"):
		return fmt.Errorf("%s database: a password with a line break or NUL cannot be recorded", name)
	case strings.TrimSpace(db.Password) != db.Password:
		return fmt.Errorf("%s database: a password with surrounding blanks cannot be recorded (configparser strips them)", name)
	case o.Era == EraOtopi && o.PasswordStyle == StyleMaster && hasBareDollar(db.Password):
		return fmt.Errorf("%s database: the %s writer leaves $ unescaped, and a $ not followed by { makes the file unreadable to oVirt itself; use ${...} or style %s",
			name, StyleMaster, Style330)
	case o.Era == EraLegacy && (strings.Contains(db.Host, ":") || strings.Contains(db.User, ":")):
		return fmt.Errorf("%s database: legacy setup wrote .pgpass fields unescaped, so host and user cannot hold a colon", name)
	}
	return nil
}

func hasBareDollar(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '$' && (i+1 >= len(s) || s[i+1] != '{' || !strings.Contains(s[i+1:], "}")) {
			return true
		}
	}
	return false
}

// version is a dotted oVirt version.
type version [3]int

func parseVersion(s string) (version, error) {
	var v version
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return v, fmt.Errorf("version %q: want X.Y or X.Y.Z", s)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, fmt.Errorf("version %q: %q is not a number", s, p)
		}
		v[i] = n
	}
	return v, nil
}

func mustVersion(s string) version {
	v, err := parseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

func (v version) atLeast(major, minor int) bool {
	return v[0] > major || v[0] == major && v[1] >= minor
}

func (v version) String() string { return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]) }
