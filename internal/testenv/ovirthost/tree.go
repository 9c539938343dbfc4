package ovirthost

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// TreeChecksum describes every entry under root, root itself excluded, by
// its path as on the host ("/etc/exports"): type, permission bits (with
// setuid, setgid and sticky), owner, and the SHA-256 of a file or the
// target of a symlink, e.g.
//
//	file -rw-r----- 0:0 sha256:5f2c...
//	symlink /tmp/x/etc/pki/ovirt-engine/ca.pem
//	dir drwxr-xr-x 0:0
//
// Two checksums are equal exactly when nothing under root changed (times
// aside). Nothing is excluded: callers filter the log files a run adds.
// Symlinks are not followed.
func TreeChecksum(t testing.TB, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		key := "/" + filepath.ToSlash(rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		owner := ""
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			owner = fmt.Sprintf(" %d:%d", st.Uid, st.Gid)
		}
		switch m := fi.Mode(); {
		case m&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[key] = "symlink " + target
		case m.IsDir():
			out[key] = "dir " + m.String() + owner
		case m.IsRegular():
			sum, err := fileSHA256(p)
			if err != nil {
				return err
			}
			out[key] = "file " + m.String() + owner + " sha256:" + sum
		default:
			out[key] = "other " + m.String() + owner
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ovirthost: TreeChecksum %s: %v", root, err)
	}
	return out
}

// DiffTrees lists the paths whose description differs between two
// TreeChecksum results, sorted, each with what changed.
func DiffTrees(before, after map[string]string) []string {
	var out []string
	for p, b := range before {
		a, ok := after[p]
		switch {
		case !ok:
			out = append(out, "removed "+p+" ("+b+")")
		case a != b:
			out = append(out, "changed "+p+": "+b+" -> "+a)
		}
	}
	for p, a := range after {
		if _, ok := before[p]; !ok {
			out = append(out, "added "+p+" ("+a+")")
		}
	}
	slices.Sort(out)
	return out
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ModifyRecordedFile makes the administrator change a recorded file after
// setup: a comment line is appended (through a symlink, to its target), so
// its digest no longer matches the manifests and cleanup must ask before
// removing it.
func (h *Host) ModifyRecordedFile(t testing.TB, recorded string) {
	t.Helper()
	if !slices.Contains(h.RecordedFiles, recorded) && !slices.Contains(h.RecordedSymlinks, recorded) &&
		!slices.Contains(h.Unremovable, recorded) {
		t.Fatalf("ovirthost: ModifyRecordedFile: %s is not recorded in the manifests", recorded)
	}
	f, err := os.OpenFile(h.Path(recorded), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatalf("ovirthost: ModifyRecordedFile: %v", err)
	}
	_, err = f.WriteString("\n# Changed by the administrator after setup.\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("ovirthost: ModifyRecordedFile: %v", err)
	}
	if !slices.Contains(h.ChangedFiles, recorded) {
		h.ChangedFiles = append(h.ChangedFiles, recorded)
		slices.Sort(h.ChangedFiles)
	}
}
