// Package files changes files on an engine host on engine-cleanup's behalf:
// it removes what engine-setup recorded as created (Remove), compares files
// with the digests setup recorded (Checksum, Changed), reverts setup's line
// edits in shared files with an atomic write (RevertLines), and gives the
// PKI building block a confined view of a tree (Walk, OpenDir, MkdirAll).
//
// Every path is a recorded path, absolute as engine-setup wrote it, and is
// resolved under a root (--root, "/" for the host itself) the way
// records.WithinRoot does: a symlink in a directory component is followed
// only while it stays inside the root, and the last component is never
// followed by Remove. Unlike records.WithinRoot, which returns a path
// string, the walk here holds each directory open and acts relative to it
// (openat, unlinkat, renameat with O_NOFOLLOW), so what was checked is
// what gets changed: a directory swapped for a symlink that leads out of
// the root is refused when Remove runs, whatever a validation found
// earlier, and Inspect plus the Expect option also catches a swap that
// stays inside. The remaining window is a directory that is renamed out of
// the root while the walk holds it open; engine-cleanup runs as root on
// trees that only root can write, so that would take a hostile root.
//
// Some paths are never touched, whatever a manifest says (Protected): the
// local NFS ISO domain export and everything in it, the NFS export
// configuration, the sysctl settings PostgreSQL needs, and the backup
// directories. Remove and RevertLines refuse them with ErrProtected and a
// reason.
//
// Nothing here removes a directory. Remove unlinks with unlinkat(2)
// without AT_REMOVEDIR, so even a file swapped for an empty directory at
// the last moment is left alone.
//
// Why x/sys/unix rather than os.Root: os.Root refuses every absolute
// symlink, even one inside the root, so it would refuse paths that
// records.WithinRoot (and so validation) accepts. Its Remove also falls
// back to rmdir, and it offers no linkat or renameat2.
package files
