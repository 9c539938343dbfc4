// Package pki backs up and removes the engine's PKI: the CA, keystores and
// certificates under /etc/pki/ovirt-engine and their configuration
// (engine.conf.d/10-setup-pki.conf, with the keystore passwords).
//
// Cleanup of the PKI is two steps in two stages, so that nothing is
// destroyed before it is safely backed up:
//
//  1. backup: Archive writes the whole tree and its configuration to
//     engine-pki-<YYYYmmddHHMMSS><8 random>.tar.gz in
//     /var/lib/ovirt-engine/backups, mode 0600, under a temporary name
//     until it is complete, with names relative to "/" so that
//     "tar -xzf <archive> -C /" puts everything back;
//  2. remove: RemoveTracked removes only the files setup recorded as
//     created: the PKI groups of the uninstall manifests (Tracked) or, for
//     the legacy era without manifests, oVirt 3.0-3.2's known list
//     (LegacyTracked).
//
// Everything else in the tree stays and is reported (Untracked): host
// certificates, certificate requests, the CA's index and serial files, and
// the files that manifests mark [unremovable]. Directories stay too:
// manifests record files only, and the rpm owns the directories that
// engine-setup expects to find.
//
// Removal refuses to go through any symlink on the way to a file, even one
// inside the root: the archive stores links as links, so a file reached
// through one would be removed without being in the backup. Check reports
// such paths during validation, before anything changes.
//
// File operations go through plugins/internal/files, so the same rules
// hold as for every other file engine-cleanup touches: paths are confined
// to --root, symlinks are never followed out of it nor their targets
// removed, protected paths are never touched, and every step can be run
// again.
package pki
