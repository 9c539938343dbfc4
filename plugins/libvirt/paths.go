package libvirt

import "time"

// Every location, name and limit the libvirt plugin depends on is in this
// file, so that a new layout is one change. Paths are absolute, as on the
// host; they are resolved under Environment.Root (--root).

// The record: oVirt does not record the domains it creates, so
// engine-cleanup defines this file (format in README.md and record.go).
const (
	// RecordFile lists the installation's domains, one per line: UUID,
	// then optionally the name.
	RecordFile = "/etc/ovirt-engine/engine-cleanup.d/libvirt-domains.conf"
	// MaxRecordDomains bounds the number of domains in RecordFile; the
	// file's size is bounded by records.MaxRecordSize.
	MaxRecordDomains = 10000
)

// The metadata tag: a domain whose XML carries this element inside
// <metadata> belongs to the installation, whether or not RecordFile names
// it. Tag one with
//
//	virsh metadata DOMAIN --config --key ec --set '<installation/>' \
//	    http://ovirt.org/ns/engine-cleanup/1.0
const (
	MetadataNamespace = "http://ovirt.org/ns/engine-cleanup/1.0"
	MetadataKey       = "ec" // the conventional prefix
	MetadataElement   = "installation"
)

// Backups: one gzip-compressed tar archive per domain, in the engine's
// backups directory, named
// libvirt-<name>-<uuid>-<run id>.tar.gz (see backupName).
const (
	BackupDir      = "/var/lib/ovirt-engine/backups"
	BackupPrefix   = "libvirt-"
	BackupSuffix   = ".tar.gz"
	BackupFileMode = 0o600
	// RestoreNote is the name of the note inside each archive that gives
	// the commands recreating the domain and its metadata.
	RestoreNote = "RESTORE.txt"
)

// Stopping a running domain.
const (
	// ShutdownTimeout is how long the stop action waits for every running
	// domain to shut down after asking them all at once, before it
	// destroys those still running.
	ShutdownTimeout = 2 * time.Minute
	// shutdownPoll is how often it looks.
	shutdownPoll = 100 * time.Millisecond
)
