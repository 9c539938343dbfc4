package files

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

// maxSymlinks bounds symlink resolution, as Linux and records.WithinRoot do.
const maxSymlinks = 40

// walkSpec says how resolve treats a path's last component.
type walkSpec struct {
	// followLast follows a symlink in the last component while it stays
	// inside the root. Remove never sets it: a link is removed as itself.
	followLast bool
	// dir means the path names a directory, which resolve opens (a
	// symlink to a directory inside the root is followed).
	dir bool
	// mkdir creates missing directories: parents 0755, the last perm.
	mkdir bool
	perm  uint32
	// noSymlinks refuses any symlink on the way, even one inside the root.
	noSymlinks bool
}

// loc is where a recorded path leads, held open.
type loc struct {
	root string // as given, for messages
	// dir is the directory that holds name; with walkSpec.dir, or when the
	// path resolves to a directory that has no name of its own (the root,
	// or a link to ".."), name is "" and dir is that directory. Owned.
	dir  int
	name string
	// rel is where the path resolved to, below the root, slash-separated;
	// "." is the root.
	rel string
	// missing: a directory on the way does not exist or is not a
	// directory, so nothing exists at the path. dir is -1.
	missing bool
}

func (l *loc) close() {
	if l.dir >= 0 {
		unix.Close(l.dir)
		l.dir = -1
	}
}

// shown is the path to show an administrator: under the root, resolved.
func (l *loc) shown() string { return filepath.Join(l.root, l.rel) }

// resolvedRecorded is the resolved path as engine-setup would record it.
func (l *loc) resolvedRecorded() string { return absFromRel(l.rel) }

// absFromRel turns a path below the root ("." for the root) back into a
// recorded, absolute path. Not by trimming a leading ".": names such as
// .truststore start with one.
func absFromRel(rel string) string {
	if rel == "." {
		return "/"
	}
	return "/" + rel
}

type frame struct {
	fd   int
	name string
}

type walker struct {
	root, absRoot, realRoot string
	recorded                string
	stack                   []frame // stack[0] is the root
}

func (w *walker) top() int { return w.stack[len(w.stack)-1].fd }

func (w *walker) rel(extra ...string) string {
	parts := make([]string, 0, len(w.stack)+len(extra))
	for _, f := range w.stack[1:] {
		parts = append(parts, f.name)
	}
	for _, e := range extra {
		if e != "" && e != "." {
			parts = append(parts, e)
		}
	}
	if len(parts) == 0 {
		return "."
	}
	return strings.Join(parts, "/")
}

func (w *walker) closeAll() {
	for _, f := range w.stack {
		unix.Close(f.fd)
	}
	w.stack = nil
}

// toRoot drops every directory but the root: an absolute symlink restarts
// the walk there.
func (w *walker) toRoot() {
	for _, f := range w.stack[1:] {
		unix.Close(f.fd)
	}
	w.stack = w.stack[:1]
}

// take hands the top directory to a loc and closes the rest.
func (w *walker) take(name string) *loc {
	l := &loc{root: w.root, dir: w.top(), name: name, rel: w.rel(name)}
	w.stack = w.stack[:len(w.stack)-1]
	w.closeAll()
	return l
}

func (w *walker) missing(rest ...string) *loc {
	l := &loc{root: w.root, dir: -1, rel: w.rel(rest...), missing: true}
	w.closeAll()
	return l
}

func (w *walker) outside(format string, args ...any) error {
	return fmt.Errorf("%q: %s; engine-cleanup does not follow it: %w",
		w.recorded, fmt.Sprintf(format, args...), records.ErrOutsideRoot)
}

// resolve walks recorded under root one component at a time, holding each
// directory open, and returns the directory that holds the last component.
// It applies records.WithinRoot's rules: a symlink on the way is followed
// only while it stays inside root (an absolute target must lie under root,
// a relative one may not climb above it), at most maxSymlinks of them.
func resolve(root, recorded string, spec walkSpec) (*loc, error) {
	rel, err := records.RootRelative(recorded)
	if err != nil {
		return nil, err
	}
	if root == "" {
		return nil, errors.New("empty root directory; use / for the host itself")
	}
	if strings.IndexByte(root, 0) >= 0 {
		return nil, fmt.Errorf("root directory contains a NUL byte: %w", records.ErrNUL)
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("root directory %s: %w", root, err)
	}
	// The root itself may sit behind symlinks: that is the administrator's
	// choice, made once here.
	realRoot, err := filepath.EvalSymlinks(absRoot)
	if err != nil {
		return nil, fmt.Errorf("root directory %s: %w", root, err)
	}
	rootFD, err := unix.Open(realRoot, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening root directory %s: %w", root, err)
	}
	w := &walker{root: root, absRoot: absRoot, realRoot: realRoot, recorded: recorded,
		stack: []frame{{rootFD, ""}}}
	l, err := w.walk(splitPath(rel), spec)
	if err != nil {
		w.closeAll()
		return nil, err
	}
	return l, nil
}

func (w *walker) walk(pending []string, spec walkSpec) (*loc, error) {
	links, created := 0, 0
	for {
		if len(pending) == 0 {
			// The path ends on a directory we hold (the root, or a link
			// to "..").
			return w.take(""), nil
		}
		c := pending[0]
		pending = pending[1:]
		if c == ".." { // only from symlink targets: recorded paths are clean
			if len(w.stack) == 1 {
				return nil, w.outside("a symlink on the way climbs above the root %s", w.root)
			}
			unix.Close(w.top())
			w.stack = w.stack[:len(w.stack)-1]
			continue
		}
		last := len(pending) == 0
		top := w.top()
		if last && !spec.followLast && !spec.dir {
			return w.take(c), nil
		}
		if !last || spec.dir {
			fd, err := unix.Openat(top, c, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			switch {
			case err == nil:
				w.stack = append(w.stack, frame{fd, c})
				continue
			case errors.Is(err, unix.ENOENT) && spec.mkdir:
				perm := uint32(0o755)
				if last {
					perm = spec.perm
				}
				if created++; created > 2*maxSymlinks {
					return nil, fmt.Errorf("creating %s: it keeps disappearing; run again when nothing else changes it", w.rel(c))
				}
				err := unix.Mkdirat(top, c, perm)
				if errors.Is(err, unix.EEXIST) { // created meanwhile: look again
					pending = append([]string{c}, pending...)
					continue
				}
				if err != nil {
					return nil, fmt.Errorf("creating directory %s: %w", filepath.Join(w.root, w.rel(c)), err)
				}
				fd, err := unix.Openat(top, c, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
				if err != nil {
					return nil, fmt.Errorf("opening new directory %s: %w", filepath.Join(w.root, w.rel(c)), err)
				}
				w.stack = append(w.stack, frame{fd, c})
				// mkdir applies the umask; the mode asked for is the one
				// that must hold (0700 keeps backups to root).
				if err := unix.Fchmod(fd, perm); err != nil {
					return nil, fmt.Errorf("setting mode of %s: %w", filepath.Join(w.root, w.rel()), err)
				}
				continue
			case errors.Is(err, unix.ENOENT):
				return w.missing(append([]string{c}, pending...)...), nil
			case errors.Is(err, unix.ELOOP), errors.Is(err, unix.EMLINK), errors.Is(err, unix.ENOTDIR):
				// A symlink or not a directory: look below.
			default:
				return nil, fmt.Errorf("opening %s: %w", filepath.Join(w.root, w.rel(c)), err)
			}
		}
		var st unix.Stat_t
		err := unix.Fstatat(top, c, &st, unix.AT_SYMLINK_NOFOLLOW)
		if errors.Is(err, unix.ENOENT) {
			if last && !spec.dir {
				return w.take(c), nil
			}
			return w.missing(append([]string{c}, pending...)...), nil
		}
		if err != nil {
			return nil, fmt.Errorf("checking %s: %w", filepath.Join(w.root, w.rel(c)), err)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			next, err := w.follow(top, c, &links, spec)
			if err != nil {
				return nil, err
			}
			pending = append(next, pending...)
		case unix.S_IFDIR:
			if !last || spec.dir {
				// openat said "not a directory" or "a link" a moment ago.
				return nil, fmt.Errorf("%s changed while engine-cleanup was checking it: %w; run again when nothing else changes it",
					filepath.Join(w.root, w.rel(c)), ErrChanged)
			}
			return w.take(c), nil
		default:
			if last && !spec.dir {
				return w.take(c), nil
			}
			if spec.dir {
				return nil, fmt.Errorf("%s is not a directory (%s); move it away, or correct the path", filepath.Join(w.root, w.rel(c)), typeName(st.Mode))
			}
			// A file used as a directory: nothing can exist below it.
			return w.missing(append([]string{c}, pending...)...), nil
		}
	}
}

// follow reads the symlink c in dir and returns the components to walk
// instead of it, after moving the walk to where the target starts.
func (w *walker) follow(dir int, c string, links *int, spec walkSpec) ([]string, error) {
	at := filepath.Join(w.root, w.rel(c))
	if spec.noSymlinks {
		return nil, fmt.Errorf("%q leads through the symlink %s; engine-cleanup does not remove files through symlinks here, because the backup holds the link, not what it points to: %w; check the backup, then remove what the link points to by hand if it belongs to engine-setup",
			w.recorded, at, ErrSymlinkOnPath)
	}
	if *links++; *links > maxSymlinks {
		return nil, fmt.Errorf("%q: more than %d symlinks on the way (a loop?); fix the links under %s", w.recorded, maxSymlinks, w.root)
	}
	target, err := readlinkat(dir, c)
	if err != nil {
		return nil, fmt.Errorf("reading symlink %s: %w", at, err)
	}
	if !filepath.IsAbs(target) {
		return splitPath(target), nil
	}
	t := filepath.Clean(target)
	for _, r := range []string{w.realRoot, w.absRoot} {
		if r == "/" || t == r || strings.HasPrefix(t, r+"/") {
			relT, _ := filepath.Rel(r, t)
			w.toRoot()
			return splitPath(relT), nil
		}
	}
	return nil, w.outside("symlink %s points to %q, outside the root %s", at, target, w.root)
}

func readlinkat(dir int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dir, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
		if size > unix.PathMax {
			return "", unix.ENAMETOOLONG
		}
	}
}

func splitPath(p string) []string {
	var out []string
	for c := range strings.SplitSeq(p, "/") {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return out
}
