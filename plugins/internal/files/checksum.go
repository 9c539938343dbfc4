package files

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

// Checksum returns the lower-case hex digest of a recorded file's content,
// with algo records.SHA256 or records.MD5 (the manifests' two). A final
// symlink is followed while it stays inside the root, as setup hashed what
// the link pointed to. A missing file gives an error for which
// errors.Is(err, fs.ErrNotExist) holds.
func Checksum(root, recorded string, algo records.HashAlgo) (string, error) {
	var h hash.Hash
	switch algo {
	case records.SHA256:
		h = sha256.New()
	case records.MD5:
		h = md5.New() // what manifests before December 2018 recorded
	default:
		return "", fmt.Errorf("checksum of %s: unknown digest %q; manifests use sha256 or md5", recorded, algo)
	}
	f, shown, err := openRegular(root, recorded)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", shown, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Changed reports whether a recorded file's content differs from the
// digest setup recorded (BZ 1073874: such files are the administrator's
// question, not silently kept). A file that is gone is not changed (gone
// is true). A record without a digest counts as unchanged, as in oVirt.
func Changed(root, recorded string, want records.Hash) (changed, gone bool, err error) {
	if want.IsZero() {
		info, err := Inspect(root, recorded)
		return false, err == nil && info.Kind == Missing, err
	}
	got, err := Checksum(root, recorded, want.Algo)
	if errors.Is(err, fs.ErrNotExist) {
		return false, true, nil
	}
	if err != nil {
		return false, false, err
	}
	return got != strings.ToLower(want.Hex), false, nil
}

// openRegular opens a recorded regular file for reading under root.
func openRegular(root, recorded string) (*os.File, string, error) {
	l, err := resolve(root, recorded, walkSpec{followLast: true})
	if err != nil {
		return nil, "", err
	}
	defer l.close()
	shown := l.shown()
	if l.missing {
		return nil, shown, fmt.Errorf("%s: %w", shown, fs.ErrNotExist)
	}
	if l.name == "" {
		return nil, shown, fmt.Errorf("%s is a directory, not a file: %w", shown, ErrIsDirectory)
	}
	// O_NOFOLLOW: resolve already followed what may be followed; a link
	// appearing now is a swap. O_NONBLOCK: a FIFO must not hang the run.
	fd, err := unix.Openat(l.dir, l.name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, shown, fmt.Errorf("%s: %w", shown, fs.ErrNotExist)
	}
	if errors.Is(err, unix.ELOOP) {
		// A dangling final link stays a link: it has no content.
		var st unix.Stat_t
		if unix.Fstatat(l.dir, l.name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && kindOf(st.Mode) == Symlink {
			return nil, shown, fmt.Errorf("%s is a symlink to nothing: %w", shown, fs.ErrNotExist)
		}
	}
	if err != nil {
		return nil, shown, fmt.Errorf("opening %s: %w", shown, err)
	}
	f := os.NewFile(uintptr(fd), shown)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		f.Close()
		return nil, shown, fmt.Errorf("checking %s: %w", shown, err)
	}
	switch kindOf(st.Mode) {
	case Regular:
	case Directory:
		f.Close()
		return nil, shown, fmt.Errorf("%s is a directory, not a file: %w", shown, ErrIsDirectory)
	default:
		f.Close()
		return nil, shown, fmt.Errorf("%s is a %s, not a regular file: %w", shown, typeName(st.Mode), ErrNotRegular)
	}
	return f, shown, nil
}
