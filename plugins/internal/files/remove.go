package files

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/sys/unix"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

// Outcome says what an operation did, in words fit for a summary line.
type Outcome string

const (
	Removed     Outcome = "removed"
	AlreadyGone Outcome = "already gone"
	// Kept: left in place; the error says why (ErrProtected is a note,
	// not a failure).
	Kept            Outcome = "kept"
	Reverted        Outcome = "reverted"
	PartlyReverted  Outcome = "some changes could not be reverted"
	AlreadyReverted Outcome = "already reverted"
	// FileMissing: the file whose lines setup edited no longer exists;
	// oVirt skips it too, and nothing is created.
	FileMissing Outcome = "file missing, nothing to revert"
)

// Kind is what a path leads to, not following a final symlink.
type Kind int

const (
	Missing Kind = iota
	Regular
	Symlink
	Directory
	Special // device, FIFO, socket
)

func (k Kind) String() string {
	switch k {
	case Missing:
		return "missing"
	case Regular:
		return "regular file"
	case Symlink:
		return "symlink"
	case Directory:
		return "directory"
	case Special:
		return "special file"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Info is what Inspect found at a recorded path.
type Info struct {
	Recorded string // as given
	// Path is where it resolved, under the root: the name to show.
	Path string
	// Resolved is the same place as an absolute recorded path; it differs
	// from Recorded when a symlink inside the root was followed.
	Resolved string
	Kind     Kind
	Mode     fs.FileMode
	Size     int64
	// Protected, when not empty, says why engine-cleanup will not touch
	// the path (see Protected).
	Protected string
	id        identity
}

// Inspect looks at what a recorded path leads to, the way Remove would,
// and changes nothing: for validation and plans. Pass the result to Remove
// with Expect to make sure that the file removed is the file planned.
func Inspect(root, recorded string, opts ...Option) (Info, error) {
	cfg := configure(opts)
	info := Info{Recorded: recorded}
	if cfg.optErr != nil {
		return info, cfg.optErr
	}
	l, err := resolve(root, recorded, walkSpec{noSymlinks: cfg.noSymlinks})
	if err != nil {
		return info, err
	}
	defer l.close()
	info.Path, info.Resolved = l.shown(), l.resolvedRecorded()
	if reason, ok := Protected(recorded, opts...); ok {
		info.Protected = reason
	} else if reason, ok := cfg.protected(info.Resolved); ok {
		info.Protected = reason
	}
	if l.missing {
		return info, nil
	}
	var st unix.Stat_t
	if l.name == "" {
		err = unix.Fstat(l.dir, &st)
	} else {
		err = unix.Fstatat(l.dir, l.name, &st, unix.AT_SYMLINK_NOFOLLOW)
	}
	if errors.Is(err, unix.ENOENT) {
		return info, nil
	}
	if err != nil {
		return info, fmt.Errorf("checking %s: %w", info.Path, err)
	}
	info.Kind, info.Mode, info.Size, info.id = kindOf(st.Mode), fileMode(st.Mode), st.Size, identityOf(&st)
	return info, nil
}

func kindOf(m uint32) Kind {
	switch m & unix.S_IFMT {
	case unix.S_IFREG:
		return Regular
	case unix.S_IFLNK:
		return Symlink
	case unix.S_IFDIR:
		return Directory
	}
	return Special
}

// Remove removes a file or symlink that setup recorded as created. The
// recorded path is resolved under root (see the package comment); a
// symlink is removed as itself, never its target. Missing is AlreadyGone,
// so running it again is harmless. It refuses, with Kept and an error,
// protected paths (ErrProtected), directories (ErrIsDirectory), special
// files (ErrNotRegular), paths that leave the root
// (records.ErrOutsideRoot), and, with Expect, a file other than the one
// planned (ErrChanged).
func Remove(root, recorded string, opts ...Option) (Outcome, error) {
	cfg := configure(opts)
	if cfg.optErr != nil {
		return Kept, cfg.optErr
	}
	if _, err := records.RootRelative(recorded); err != nil {
		return Kept, fmt.Errorf("not removing %s: %w", showPath(recorded), err)
	}
	if reason, ok := Protected(recorded, opts...); ok {
		return Kept, protectedError(showPath(recorded), reason)
	}
	l, err := resolve(root, recorded, walkSpec{noSymlinks: cfg.noSymlinks})
	if err != nil {
		return Kept, fmt.Errorf("not removing %s: %w", showPath(recorded), err)
	}
	defer l.close()
	if l.missing {
		return AlreadyGone, nil
	}
	shown := l.shown()
	if reason, ok := cfg.protected(l.resolvedRecorded()); ok {
		return Kept, protectedError(fmt.Sprintf("%s (recorded as %s)", shown, showPath(recorded)), reason)
	}
	if l.name == "" {
		return Kept, isDirError(shown)
	}
	var st unix.Stat_t
	err = unix.Fstatat(l.dir, l.name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		if cfg.expect != nil && cfg.expect.Kind != Missing && cfg.expect.Resolved != l.resolvedRecorded() {
			return Kept, changedError(shown, cfg.expect)
		}
		return AlreadyGone, nil
	}
	if err != nil {
		return Kept, fmt.Errorf("checking %s before removing it: %w", shown, err)
	}
	switch kindOf(st.Mode) {
	case Directory:
		return Kept, isDirError(shown)
	case Special:
		return Kept, fmt.Errorf("not removing %s: it is a %s where engine-setup created a regular file or a symlink, so it is not what setup made: %w; find out what it is, and remove it by hand if it is no longer needed",
			shown, typeName(st.Mode), ErrNotRegular)
	}
	if e := cfg.expect; e != nil && (e.Kind == Missing || e.id != identityOf(&st) || e.Resolved != l.resolvedRecorded()) {
		return Kept, changedError(shown, e)
	}
	// Without AT_REMOVEDIR: a directory swapped in at this instant fails
	// with EISDIR instead of going.
	err = ignoringEINTR(func() error { return unix.Unlinkat(l.dir, l.name, 0) })
	switch {
	case err == nil:
	case errors.Is(err, unix.ENOENT):
		return AlreadyGone, nil
	case errors.Is(err, unix.EISDIR):
		return Kept, isDirError(shown)
	default:
		return Kept, fmt.Errorf("removing %s: %w; fix the cause and run engine-cleanup again", shown, err)
	}
	// The records that describe this file are removed later in the run; the
	// removal must reach the disk first, or a crash could leave the file
	// with nothing to say that setup made it.
	if err := unix.Fsync(l.dir); err != nil {
		return Removed, fmt.Errorf("removed %s, but syncing its directory failed: %w; run engine-cleanup again to make sure", shown, err)
	}
	return Removed, nil
}

func isDirError(shown string) error {
	return fmt.Errorf("not removing %s: it is a directory, and engine-setup records files only; engine-cleanup never removes directories: %w; remove it by hand if it is no longer needed",
		shown, ErrIsDirectory)
}

func changedError(shown string, planned *Info) error {
	return fmt.Errorf("not removing %s: it is no longer the %s that was planned for removal (%s); something changed it after validation: %w; run engine-cleanup again so that it plans from what is there now",
		shown, planned.Kind, planned.Path, ErrChanged)
}

// showPath shows a recorded path as is when that is harmless, quoted when
// it holds characters a terminal would obey.
func showPath(p string) string {
	if strings.IndexFunc(p, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(p)
	}
	return p
}
