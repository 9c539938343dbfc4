package files

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

// maxDepth bounds Walk; the PKI tree is three levels deep, and a hostile
// tree must not exhaust file descriptors.
const maxDepth = 64

// Node is one entry met by Walk, as lstat saw it: symlinks are not
// followed. Its Open works only during the WalkFunc call that receives it.
type Node struct {
	// Path is the entry's recorded path: the path given to Walk, then the
	// names below it (e.g. /etc/pki/ovirt-engine/certs/engine.cer).
	Path    string
	Mode    fs.FileMode
	Size    int64
	ModTime time.Time
	Uid     int
	Gid     int
	Rdev    uint64 // devices only
	Link    string // symlinks only: the target, as stored
	dir     int
	name    string
	id      identity
}

// Open opens a regular file for reading, refusing (ErrChanged) anything
// that is no longer the file the walk saw.
func (n *Node) Open() (*os.File, error) {
	if !n.Mode.IsRegular() {
		return nil, fmt.Errorf("opening %s: it is not a regular file: %w", n.Path, ErrNotRegular)
	}
	fd, err := unix.Openat(n.dir, n.name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", n.Path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || identityOf(&st) != n.id || kindOf(st.Mode) != Regular {
		unix.Close(fd)
		return nil, fmt.Errorf("%s changed while engine-cleanup was reading the tree: %w; run again when nothing else changes it", n.Path, ErrChanged)
	}
	return os.NewFile(uintptr(fd), n.Path), nil
}

// WalkFunc is called for every entry, a directory before what it holds.
// Returning fs.SkipDir for a directory skips its content; any other error
// stops the walk and is returned.
type WalkFunc func(n *Node) error

// Walk visits the tree at a recorded path under root in lexical order,
// without following any symlink in it (links are reported as links). The
// directories leading to the path are resolved as for Remove: a symlink
// there is followed only while it stays inside the root. A missing path
// gives an error for which errors.Is(err, fs.ErrNotExist) holds; entries
// that vanish during the walk are skipped.
func Walk(ctx context.Context, root, recorded string, fn WalkFunc) error {
	rel, err := records.RootRelative(recorded)
	if err != nil {
		return err
	}
	if rel == "." {
		return fmt.Errorf("walking %s: engine-cleanup does not walk the whole root; give a directory in it", root)
	}
	l, err := resolve(root, recorded, walkSpec{})
	if err != nil {
		return err
	}
	defer l.close()
	if l.missing {
		return fmt.Errorf("%s: %w", l.shown(), fs.ErrNotExist)
	}
	err = walkEntry(ctx, l.dir, l.name, "/"+rel, fn, 0)
	if errors.Is(err, errVanished) {
		return fmt.Errorf("%s: %w", l.shown(), fs.ErrNotExist)
	}
	return err
}

var errVanished = errors.New("vanished")

func walkEntry(ctx context.Context, dir int, name, p string, fn WalkFunc, depth int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var st unix.Stat_t
	err := unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return errVanished
	}
	if err != nil {
		return fmt.Errorf("checking %s: %w", p, err)
	}
	n := &Node{Path: p, Mode: fileMode(st.Mode), Size: st.Size, ModTime: mtime(&st),
		Uid: int(st.Uid), Gid: int(st.Gid), dir: dir, name: name, id: identityOf(&st)}
	switch kindOf(st.Mode) {
	case Symlink:
		if n.Link, err = readlinkat(dir, name); err != nil {
			return fmt.Errorf("reading symlink %s: %w", p, err)
		}
	case Special:
		n.Rdev = uint64(st.Rdev)
	}
	if err := fn(n); errors.Is(err, fs.SkipDir) {
		return nil
	} else if err != nil {
		return err
	}
	if !n.Mode.IsDir() {
		return nil
	}
	if depth >= maxDepth {
		return fmt.Errorf("%s is more than %d directories deep, which no engine-setup tree is; check what it holds", p, maxDepth)
	}
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening %s: %w (if it became a symlink, something is changing the tree: run again when nothing does)", p, err)
	}
	defer unix.Close(fd)
	var now unix.Stat_t
	if err := unix.Fstat(fd, &now); err != nil || identityOf(&now) != n.id {
		return fmt.Errorf("%s changed while engine-cleanup was reading the tree: %w; run again when nothing else changes it", p, ErrChanged)
	}
	names, err := listNames(fd)
	if err != nil {
		return fmt.Errorf("listing %s: %w", p, err)
	}
	for _, c := range names {
		err := walkEntry(ctx, fd, c, path.Join(p, c), fn, depth+1)
		if errors.Is(err, errVanished) {
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Dir is a directory inside a root, held open. Its methods take single
// names and act relative to the open directory without following a
// symlink in that name, so a path changed after OpenDir cannot redirect
// them.
type Dir struct {
	fd   int
	root string
	rel  string
}

// OpenDir opens the directory at a recorded path under root, following
// symlinks (the last one too) only while they stay inside the root. A
// missing directory gives an error for which errors.Is(err,
// fs.ErrNotExist) holds.
func OpenDir(root, recorded string) (*Dir, error) {
	return openDir(root, recorded, walkSpec{dir: true})
}

// MkdirAll opens the directory at a recorded path under root like
// OpenDir, creating what is missing: the directory itself with perm,
// missing parents 0755. The mode of a directory that exists is left alone.
func MkdirAll(root, recorded string, perm fs.FileMode) (*Dir, error) {
	return openDir(root, recorded, walkSpec{dir: true, mkdir: true, perm: uint32(perm.Perm())})
}

func openDir(root, recorded string, spec walkSpec) (*Dir, error) {
	l, err := resolve(root, recorded, spec)
	if err != nil {
		return nil, err
	}
	if l.missing {
		return nil, fmt.Errorf("%s: %w", l.shown(), fs.ErrNotExist)
	}
	return &Dir{fd: l.dir, root: root, rel: l.rel}, nil
}

// Path is the directory's path under the root, to show.
func (d *Dir) Path() string { return filepath.Join(d.root, d.rel) }

// Recorded is the directory as an absolute recorded path (resolved).
func (d *Dir) Recorded() string { return absFromRel(d.rel) }

// Close releases the directory.
func (d *Dir) Close() error {
	if d.fd < 0 {
		return nil
	}
	err := unix.Close(d.fd)
	d.fd = -1
	return err
}

func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("%q is not a file name; give a single name without / or NUL", name)
	}
	return nil
}

// Create creates a new file for writing with exactly perm (the umask does
// not apply), failing if name exists.
func (d *Dir) Create(name string, perm fs.FileMode) (*os.File, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	fd, err := unix.Openat(d.fd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(perm.Perm()))
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", filepath.Join(d.Path(), name), err)
	}
	if err := unix.Fchmod(fd, uint32(perm.Perm())); err != nil {
		unix.Close(fd)
		unix.Unlinkat(d.fd, name, 0)
		return nil, fmt.Errorf("setting the mode of %s: %w", filepath.Join(d.Path(), name), err)
	}
	return os.NewFile(uintptr(fd), filepath.Join(d.Path(), name)), nil
}

// RenameNoReplace renames old to new inside the directory and syncs the
// directory. It fails with an error for which errors.Is(err, fs.ErrExist)
// holds rather than replace new.
func (d *Dir) RenameNoReplace(old, new string) error {
	if err := checkName(old); err != nil {
		return err
	}
	if err := checkName(new); err != nil {
		return err
	}
	if err := renameNoReplace(d.fd, old, new); err != nil {
		return fmt.Errorf("renaming %s to %s in %s: %w", old, new, d.Path(), err)
	}
	if err := unix.Fsync(d.fd); err != nil {
		return fmt.Errorf("syncing %s: %w", d.Path(), err)
	}
	return nil
}

// Remove unlinks a file or symlink in the directory (never a directory).
// A missing name is not an error.
func (d *Dir) Remove(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	err := unix.Unlinkat(d.fd, name, 0)
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("removing %s: %w", filepath.Join(d.Path(), name), err)
	}
	return nil
}

// RemoveStale removes the regular files in the directory whose names
// match and that belong to the effective user: temporary files of a run
// that was killed. It returns their names.
func (d *Dir) RemoveStale(match func(name string) bool) ([]string, error) {
	removed, err := removeStale(d.fd, match)
	if err != nil {
		return removed, fmt.Errorf("%s: %w", d.Path(), err)
	}
	return removed, nil
}
