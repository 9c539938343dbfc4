package records

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// RootRelative turns an absolute path read from a record into a clean path
// relative to the root ("." for "/"), suitable for os.Root methods. It
// rejects empty and relative paths, NUL bytes, and ".." components that
// would climb above the root. A ".." that stays inside is resolved
// lexically; the path that results is the one engine-cleanup acts on, so
// a symlink before the ".." cannot redirect it.
func RootRelative(recorded string) (string, error) {
	switch {
	case recorded == "":
		return "", errors.New("empty path in a record")
	case strings.IndexByte(recorded, 0) >= 0:
		return "", fmt.Errorf("recorded path %s contains a NUL byte: %w", quoteShort(recorded), ErrNUL)
	case !strings.HasPrefix(recorded, "/"):
		return "", fmt.Errorf("recorded path %s is not absolute; engine-setup records absolute paths only, so the record is damaged", quoteShort(recorded))
	}
	depth := 0
	for _, c := range strings.Split(recorded, "/") {
		switch c {
		case "", ".":
		case "..":
			if depth--; depth < 0 {
				return "", fmt.Errorf("recorded path %s climbs above / with \"..\": %w", quoteShort(recorded), ErrOutsideRoot)
			}
		default:
			depth++
		}
	}
	rel := strings.TrimPrefix(filepath.Clean(recorded), "/")
	if rel == "" {
		rel = "."
	}
	return rel, nil
}

// Resolve maps an absolute path read from a record under root (--root,
// "/" for the host itself), lexically: see RootRelative. It does not look
// at the file system; use WithinRoot before acting on the result.
func Resolve(root, recorded string) (string, error) {
	rel, err := rootAndRel(root, recorded)
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Clean(root), rel), nil
}

func rootAndRel(root, recorded string) (string, error) {
	if root == "" {
		return "", errors.New("empty root directory; use / for the host itself")
	}
	if strings.IndexByte(root, 0) >= 0 {
		return "", fmt.Errorf("root directory contains a NUL byte: %w", ErrNUL)
	}
	return RootRelative(recorded)
}

// WithinRoot resolves a recorded path under root like Resolve, then walks
// it on disk one component at a time with Lstat. Symlinks in directory
// components are followed only while they stay inside root: an absolute
// target must lie under root, and a relative one may not climb above it;
// anything else is an error wrapping ErrOutsideRoot. The last component is
// not followed, so a symlink there is returned as itself (remove the link,
// never its target). Components that do not exist end the walk; the rest
// is appended lexically.
//
// The result has no symlink in its directories at the time of the check.
// Act on it at once; for operations that must be immune to a concurrent
// rename, prefer os.OpenRoot(root) with RootRelative.
//
// Why a manual walk and not filepath.EvalSymlinks: EvalSymlinks reports
// only where a chain ends, so a chain that leaves root and comes back in
// (through a directory somebody else controls) looks harmless; it also
// follows the last component, which must stay a link. Absolute targets are
// read as host paths, not re-rooted as chroot would: tests and fixtures
// under a temporary root use host paths, and a mounted image whose links
// point at its own /etc is refused clearly rather than guessed at.
func WithinRoot(root, recorded string) (string, error) {
	return walkWithinRoot(root, recorded, false)
}

func walkWithinRoot(root, recorded string, followLast bool) (string, error) {
	rel, err := rootAndRel(root, recorded)
	if err != nil {
		return "", err
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("root directory %s: %w", root, err)
	}
	// The root itself may sit behind symlinks: that is the administrator's
	// choice, made once here.
	realRoot, err := filepath.EvalSymlinks(absRoot)
	if err != nil {
		return "", fmt.Errorf("root directory %s: %w", root, err)
	}
	pending := splitPath(rel)
	cur := realRoot
	links := 0
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		if c == ".." { // only from symlink targets: rel is clean
			if cur == realRoot {
				return "", fmt.Errorf("%q: a symlink on the way climbs above the root %s: %w", recorded, root, ErrOutsideRoot)
			}
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, c)
		fi, err := os.Lstat(next)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return appendLexically(realRoot, next, pending, recorded, root)
		}
		if err != nil {
			return "", fmt.Errorf("checking %q: %w", recorded, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 || (len(pending) == 0 && !followLast) {
			cur = next
			continue
		}
		if links++; links > maxSymlinks {
			return "", fmt.Errorf("%q: more than %d symlinks on the way (a loop?); fix the links under %s", recorded, maxSymlinks, root)
		}
		target, err := os.Readlink(next)
		if err != nil {
			return "", fmt.Errorf("checking %q: %w", recorded, err)
		}
		if filepath.IsAbs(target) {
			t := filepath.Clean(target)
			base := ""
			for _, r := range []string{realRoot, absRoot} {
				if t == r || strings.HasPrefix(t, r+string(filepath.Separator)) || r == "/" {
					base = r
					break
				}
			}
			if base == "" {
				return "", fmt.Errorf("%q: symlink %s points to %q, outside the root %s; engine-cleanup does not follow it: %w", recorded, next, target, root, ErrOutsideRoot)
			}
			relT, _ := filepath.Rel(base, t)
			pending = append(splitPath(relT), pending...)
			cur = realRoot
			continue
		}
		pending = append(splitPath(target), pending...)
	}
	return cur, nil
}

// appendLexically finishes a walk below a missing component.
func appendLexically(realRoot, cur string, pending []string, recorded, root string) (string, error) {
	for _, c := range pending {
		if c == ".." {
			if cur == realRoot {
				return "", fmt.Errorf("%q: a symlink on the way climbs above the root %s: %w", recorded, root, ErrOutsideRoot)
			}
			cur = filepath.Dir(cur)
			continue
		}
		cur = filepath.Join(cur, c)
	}
	return cur, nil
}

func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return out
}

// ReadRecord reads a record under root: the path is confined with
// WithinRoot (following a final symlink only if it stays inside), the file
// must be regular and at most MaxRecordSize bytes. A missing file gives an
// error for which errors.Is(err, fs.ErrNotExist) holds.
func ReadRecord(root, recorded string) ([]byte, error) {
	p, err := walkWithinRoot(root, recorded, true)
	if err != nil {
		return nil, err
	}
	// O_NOFOLLOW: the last component was checked; do not let it become a
	// link now. O_NONBLOCK: a FIFO planted there must not hang the run.
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("reading record %s: %w", p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading record %s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("record %s is not a regular file (%s); engine-setup writes regular files, so move it away and run again", p, fi.Mode().Type())
	}
	if fi.Size() > MaxRecordSize {
		return nil, &SyntaxError{File: p, Err: ErrTooLarge, Msg: fmt.Sprintf(
			"%d bytes, larger than %d, far more than engine-setup ever writes; check whether the file is really an oVirt record", fi.Size(), MaxRecordSize)}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxRecordSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading record %s: %w", p, err)
	}
	if len(data) > MaxRecordSize {
		return nil, &SyntaxError{File: p, Err: ErrTooLarge, Msg: "grew beyond the size limit while being read; run again when nothing writes to it"}
	}
	return data, nil
}
