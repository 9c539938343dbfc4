package sdktest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Snapshot describes every entry of the tree under dir, keyed by its path
// relative to dir with forward slashes ("." is dir itself): its type and
// mode, and for a regular file its size and the sha256 of its content, for
// a symlink its target. Symlinks are never followed. Two snapshots are
// equal exactly when nothing in the tree was created, removed, rewritten
// with other content, re-moded or re-linked; compare them with Diff.
//
// A dir that does not exist gives an empty snapshot, so a plugin that
// removes the whole tree shows up as removals. Any other error fails t.
func Snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		desc, err := describe(p, info)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = desc
		return nil
	})
	if err != nil {
		t.Fatalf("taking a snapshot of %s: %v", dir, err)
	}
	return out
}

// describe renders one entry of a snapshot.
func describe(p string, info fs.FileInfo) (string, error) {
	mode := info.Mode()
	switch {
	case mode.IsDir():
		return "dir " + mode.String(), nil
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		return "symlink " + mode.String() + " -> " + target, nil
	case mode.IsRegular():
		f, err := os.Open(p)
		if err != nil {
			return "", err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return "", fmt.Errorf("reading %s: %w", p, err)
		}
		return fmt.Sprintf("file %s %d bytes sha256:%x", mode, info.Size(), h.Sum(nil)), nil
	}
	return "special " + mode.String(), nil
}

// Diff lists what changed from before to after, one line per path in path
// order: "added p (…)", "removed p (…)" or "changed p: … -> …". It is empty
// when the snapshots are equal.
func Diff(before, after map[string]string) []string {
	paths := make([]string, 0, len(before)+len(after))
	for p := range before {
		paths = append(paths, p)
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	var out []string
	for _, p := range paths {
		b, inBefore := before[p]
		a, inAfter := after[p]
		switch {
		case !inBefore:
			out = append(out, fmt.Sprintf("added %s (%s)", p, a))
		case !inAfter:
			out = append(out, fmt.Sprintf("removed %s (%s)", p, b))
		case a != b:
			out = append(out, fmt.Sprintf("changed %s: %s -> %s", p, b, a))
		}
	}
	return out
}
