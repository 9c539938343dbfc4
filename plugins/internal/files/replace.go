package files

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

// revertTempPrefix names RevertLines' temporary files. The name is ours
// alone, so a leftover of a killed run can be removed without asking.
const (
	revertTempPrefix = ".engine-cleanup-revert-"
	revertTempSuffix = ".tmp"
)

func isRevertTemp(name string) bool {
	mid, ok := strings.CutPrefix(name, revertTempPrefix)
	if !ok {
		return false
	}
	mid, ok = strings.CutSuffix(mid, revertTempSuffix)
	_, err := hex.DecodeString(mid)
	return ok && len(mid) == 16 && err == nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// replaceContent replaces name, held by dir, with data: written to a
// temporary file with the owner and mode of st (the file as read), fsynced,
// renamed over name, and the directory fsynced. First old, the content
// read, is kept as name.<YYYYmmddHHMMSS> (.<n> added on a clash), with the
// file's owner, mode and times, as otopi's FileTransaction keeps it. It
// returns the name of that copy.
func replaceContent(dir int, name string, old, data []byte, st *unix.Stat_t, now time.Time) (string, error) {
	backup, err := keepCopy(dir, name, old, st, now)
	if err != nil {
		return "", err
	}
	tmp, err := writeTemp(dir, data, st, false)
	if err != nil {
		return backup, err
	}
	// An editor that saved the file since it was read would lose its
	// change to the rename: refuse instead.
	var cur unix.Stat_t
	err = unix.Fstatat(dir, name, &cur, unix.AT_SYMLINK_NOFOLLOW)
	if err == nil && (identityOf(&cur) != identityOf(st) || cur.Size != st.Size || cur.Mtim != st.Mtim) {
		err = fmt.Errorf("%s was changed by something else while engine-cleanup reverted it: %w; its content then is kept in %s; run engine-cleanup again", name, ErrChanged, backup)
	}
	if err == nil {
		err = ignoringEINTR(func() error { return unix.Renameat(dir, tmp, dir, name) })
	}
	if err != nil {
		unix.Unlinkat(dir, tmp, 0)
		return backup, err
	}
	if err := unix.Fsync(dir); err != nil {
		return backup, fmt.Errorf("syncing the directory of %s: %w; run engine-cleanup again to make sure", name, err)
	}
	return backup, nil
}

// keepCopy writes old as name.<stamp>, never replacing an existing file.
func keepCopy(dir int, name string, old []byte, st *unix.Stat_t, now time.Time) (string, error) {
	tmp, err := writeTemp(dir, old, st, true)
	if err != nil {
		return "", fmt.Errorf("keeping a copy of %s: %w", name, err)
	}
	base := name + "." + now.Format(records.TimestampLayout)
	for n := 0; n < 100; n++ {
		backup := base
		if n > 0 {
			backup += "." + strconv.Itoa(n)
		}
		err := renameNoReplace(dir, tmp, backup)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			unix.Unlinkat(dir, tmp, 0)
			return "", fmt.Errorf("keeping a copy of %s as %s: %w", name, backup, err)
		}
		return backup, nil
	}
	unix.Unlinkat(dir, tmp, 0)
	return "", fmt.Errorf("keeping a copy of %s: %s and 99 numbered variants exist already; move some away", name, base)
}

// writeTemp writes data to a new temporary file in dir, with st's owner
// and mode (and times, when keepTimes), fsynced.
func writeTemp(dir int, data []byte, st *unix.Stat_t, keepTimes bool) (name string, err error) {
	name = revertTempPrefix + randomHex(8) + revertTempSuffix
	fd, err := unix.Openat(dir, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return "", fmt.Errorf("creating a temporary file: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			unix.Unlinkat(dir, name, 0)
			name = ""
		}
	}()
	if int(st.Uid) != os.Geteuid() || int(st.Gid) != os.Getegid() {
		if err := unix.Fchown(fd, int(st.Uid), int(st.Gid)); err != nil {
			return name, fmt.Errorf("giving the temporary file owner %d:%d: %w", st.Uid, st.Gid, err)
		}
	}
	// After chown, which clears set-id bits.
	if err := unix.Fchmod(fd, st.Mode&0o7777); err != nil {
		return name, fmt.Errorf("setting the temporary file's mode: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return name, fmt.Errorf("writing the temporary file: %w", err)
	}
	if keepTimes {
		ts := []unix.Timespec{st.Atim, st.Mtim}
		if err := unix.UtimesNanoAt(dir, name, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return name, fmt.Errorf("setting the temporary file's times: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		return name, fmt.Errorf("syncing the temporary file: %w", err)
	}
	return name, nil
}

// renameNoReplace renames old to new in dir, failing with EEXIST rather
// than replacing new: backups are never overwritten.
func renameNoReplace(dir int, old, new string) error {
	err := ignoringEINTR(func() error { return unix.Renameat2(dir, old, dir, new, unix.RENAME_NOREPLACE) })
	if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOSYS) {
		return err
	}
	// File systems without RENAME_NOREPLACE: link fails on an existing
	// name just the same.
	if err := unix.Linkat(dir, old, dir, new, 0); err != nil {
		return err
	}
	return unix.Unlinkat(dir, old, 0)
}

// listNames lists dir through a descriptor of its own, so dir's offset is
// left alone.
func listNames(dir int) ([]string, error) {
	fd, err := unix.Openat(dir, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), ".")
	defer f.Close()
	names, err := f.Readdirnames(-1)
	sort.Strings(names)
	return names, err
}

// removeStale removes the regular files in dir whose names match and that
// belong to the effective user: the temporary files of a run that was
// killed. It returns their names.
func removeStale(dir int, match func(string) bool) ([]string, error) {
	names, err := listNames(dir)
	if err != nil {
		return nil, fmt.Errorf("listing for leftover temporary files: %w", err)
	}
	var removed []string
	for _, n := range names {
		if !match(n) {
			continue
		}
		var st unix.Stat_t
		if unix.Fstatat(dir, n, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || kindOf(st.Mode) != Regular || int(st.Uid) != os.Geteuid() {
			continue
		}
		if err := unix.Unlinkat(dir, n, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return removed, fmt.Errorf("removing leftover temporary file %s: %w", n, err)
		}
		removed = append(removed, n)
	}
	return removed, nil
}
