package files

import (
	"errors"
	"io/fs"
	"time"

	"golang.org/x/sys/unix"
)

// Sentinels, for errors.Is. Errors that wrap them name the file and say
// what to do; records.ErrOutsideRoot and records.ErrNUL are used as they
// are.
var (
	// ErrProtected: the path is one engine-cleanup never touches
	// (see Protected). Report it; it is not a failure of the run.
	ErrProtected = errors.New("protected path")
	// ErrIsDirectory: a path recorded as a file is a directory. Nothing
	// here removes directories.
	ErrIsDirectory = errors.New("is a directory")
	// ErrNotRegular: a special file (device, FIFO, socket) where setup
	// created a regular file or a symlink.
	ErrNotRegular = errors.New("not a regular file")
	// ErrChanged: the file changed between two looks at it (a swap
	// caught by Expect, or a concurrent writer).
	ErrChanged = errors.New("changed meanwhile")
	// ErrSymlinkOnPath: a symlink on the way, where the caller asked
	// for none (RefuseSymlinkDirs).
	ErrSymlinkOnPath = errors.New("symlink on the way")
)

// fileMode converts a stat mode to an fs.FileMode, as os.Lstat does.
func fileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

func typeName(m uint32) string {
	switch m & unix.S_IFMT {
	case unix.S_IFREG:
		return "regular file"
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFLNK:
		return "symlink"
	case unix.S_IFIFO:
		return "FIFO"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFBLK:
		return "block device"
	}
	return "unknown file type"
}

func mtime(st *unix.Stat_t) time.Time {
	return time.Unix(int64(st.Mtim.Sec), int64(st.Mtim.Nsec))
}

// identity tells two files apart on one host. The inode number alone does
// not: a file removed and created again often gets the same one back. The
// change time also moves when anything rewrites, renames or re-owns the
// file, which is what a plan must notice too.
type identity struct {
	dev, ino uint64
	ctime    unix.Timespec
}

func identityOf(st *unix.Stat_t) identity {
	return identity{dev: uint64(st.Dev), ino: uint64(st.Ino), ctime: st.Ctim}
}

// ignoringEINTR retries a call interrupted by a signal; the Go runtime's
// preemption signals make that common on slow file systems.
func ignoringEINTR(fn func() error) error {
	for {
		err := fn()
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
