package files

import (
	"fmt"
	"strings"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

// Paths that oVirt's records do not name but that engine-cleanup must know
// never to touch. They belong in records/paths.go with the other
// locations; they are here until that package carries them.
const (
	// DefaultISOExport is the local NFS ISO domain that engine-setup
	// offered to create (OVESETUP_CONFIG/isoDomainStorageDir's default).
	// Pass any other location with ProtectAlso.
	DefaultISOExport = "/var/lib/exports/iso"
	// NFSExports and NFSExportsDir hold the export of the ISO domain;
	// setup recorded its edits there (groups exportfs and nfs_config).
	NFSExports    = "/etc/exports"
	NFSExportsDir = "/etc/exports.d"
	// SysctlConf holds kernel.shmmax for PostgreSQL. Setup records it in
	// group core, and oVirt's remover deliberately keeps it
	// (ovirt-engine-remove/ovirt-engine/system/sysctl.py): removing it
	// killed PostgreSQL at the next reboot (BZ 1026926). The legacy name
	// is records.LegacySysctlConf.
	SysctlConf = "/etc/sysctl.d/ovirt-engine.conf"
)

type protectRule struct {
	path   string
	tree   bool // everything below path too
	reason string
}

func protectRules(extraISO []string) []protectRule {
	const (
		iso     = "is the local NFS ISO domain export or lies in it; engine-cleanup never removes the export or its content (feature page, note 4)"
		exports = "is NFS export configuration; engine-cleanup keeps the ISO domain exported, so it never changes it"
		sysctl  = "holds kernel settings PostgreSQL needs; removing them stopped PostgreSQL at the next reboot (BZ 1026926), so engine-cleanup keeps them"
		backups = "is in a backup directory; engine-cleanup never deletes backups"
	)
	rules := []protectRule{
		{DefaultISOExport, true, iso},
		{NFSExports, false, exports},
		{NFSExportsDir, true, exports},
		{SysctlConf, false, sysctl},
		{records.LegacySysctlConf, false, sysctl},
		{records.EngineBackupDir, true, backups},
		{records.DWHBackupDir, true, backups},
		{records.ReportsBackupDir, true, backups},
		{records.LegacyDBBackupDir, true, backups},
		{records.LegacyPKIBackupDir, true, backups},
	}
	for _, p := range extraISO {
		rules = append(rules, protectRule{p, true, iso})
	}
	return rules
}

// Protected reports whether engine-cleanup must never touch recorded, and
// why. It looks at the path lexically; Remove and RevertLines also check
// the path a walk resolved to, so a symlink cannot alias a protected path
// into an unprotected one. A path that is not absolute and clean enough to
// be confined counts as protected.
func Protected(recorded string, opts ...Option) (reason string, protected bool) {
	cfg := configure(opts)
	rel, err := records.RootRelative(recorded)
	if err != nil {
		return fmt.Sprintf("is not a path engine-setup could have recorded (%v)", err), true
	}
	return cfg.protected(absFromRel(rel))
}

func (c *config) protected(clean string) (string, bool) {
	for _, r := range protectRules(c.extraISO) {
		if clean == r.path || (r.tree && strings.HasPrefix(clean, r.path+"/")) {
			return r.reason, true
		}
	}
	return "", false
}

func protectedError(shown, reason string) error {
	return fmt.Errorf("%s %s; leaving it in place (nothing to do): %w", shown, reason, ErrProtected)
}

// Option adjusts Remove, RevertLines, Inspect and Protected.
type Option func(*config)

type config struct {
	extraISO   []string
	optErr     error
	noSymlinks bool
	expect     *Info
}

func configure(opts []Option) *config {
	c := &config{}
	for _, o := range opts {
		o(c)
	}
	return c
}

// ProtectAlso protects more ISO domain exports (a location chosen at setup
// other than DefaultISOExport), with everything below them. The paths are
// absolute, as recorded; one that is not makes the operation fail.
func ProtectAlso(paths ...string) Option {
	return func(c *config) {
		for _, p := range paths {
			rel, err := records.RootRelative(p)
			if err != nil {
				c.optErr = fmt.Errorf("path to protect: %w", err)
				continue
			}
			if rel == "." {
				c.optErr = fmt.Errorf("path to protect: \"/\" would protect everything; give the ISO domain's directory")
				continue
			}
			c.extraISO = append(c.extraISO, "/"+rel)
		}
	}
}

// RefuseSymlinkDirs refuses any symlink among the directories on the way,
// even one that stays inside the root (ErrSymlinkOnPath). The PKI uses it:
// its backup stores links as links, so a file reached through a link would
// be removed without being in the backup.
func RefuseSymlinkDirs() Option {
	return func(c *config) { c.noSymlinks = true }
}

// Expect makes Remove act only on the file that Inspect found: if the path
// now leads to another file (a directory on the way swapped for a symlink,
// the file replaced), Remove refuses with ErrChanged. A file that is gone
// meanwhile is AlreadyGone.
func Expect(planned Info) Option {
	return func(c *config) { c.expect = &planned }
}
