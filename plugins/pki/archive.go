package pki

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/files"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

// tempSuffix marks an archive being written; "." + name + tempSuffix is
// ours alone, so the leftover of a killed run can be removed.
const tempSuffix = ".tmp"

// Result describes an archive Archive wrote.
type Result struct {
	// Path is the archive under the root, to show; Recorded is the same
	// file as a path on the host, for "tar -xzf <Recorded> -C /".
	Path     string
	Recorded string
	Files    int   // entries that are not directories (files, symlinks)
	Dirs     int   // directories, stored so an extraction recreates them
	Bytes    int64 // size of the .tar.gz
	// Missing are sources that did not exist (10-setup-pki.conf on a
	// legacy host); Skipped are sockets, which tar cannot hold.
	Missing []string
	Skipped []string
	// RemovedLeftovers are temporary archives of an earlier run that was
	// killed, removed before writing.
	RemovedLeftovers []string
}

// BackupName returns oVirt's name for a PKI archive made at t:
// engine-pki-<YYYYmmddHHMMSS><8 random>.tar.gz.
func BackupName(t time.Time) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	rnd := make([]byte, 8)
	for i := range rnd {
		rnd[i] = letters[int(randomByte())%len(letters)]
	}
	return records.PKIBackupPrefix + "-" + t.Format(records.TimestampLayout) + string(rnd) + records.PKIBackupSuffix
}

func randomByte() byte {
	var b [1]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return b[0]
}

func isOurTemp(name string) bool {
	return strings.HasPrefix(name, "."+records.PKIBackupPrefix+"-") && strings.HasSuffix(name, records.PKIBackupSuffix+tempSuffix)
}

// Archive writes sources (recorded paths: the PKI tree, its configuration,
// see Sources) under root to a .tar.gz named name in destDir (a recorded
// path, normally records.EngineBackupDir); an empty name means
// BackupName(now). destDir is created 0700 if missing.
//
// Entries are named relative to "/" (etc/pki/ovirt-engine/ca.pem), so
// "tar -xzf <archive> -C /" restores them; directories are included,
// symlinks are stored as symlinks and never followed, and modes, owners
// (numeric, with names from the root's /etc/passwd and /etc/group) and
// modification times are kept, in PAX format.
//
// The archive is written to a temporary name, fsynced, and renamed to
// name only when complete, mode 0600; an existing file of that name is
// never replaced. On any error or cancellation of ctx the temporary file
// is removed and nothing appears under name. Temporary archives of an
// earlier, killed run are removed first (ours only, by name).
func Archive(ctx context.Context, root string, sources []string, destDir, name string) (Result, error) {
	var res Result
	if name == "" {
		name = BackupName(time.Now())
	}
	if name == "." || name == ".." || strings.HasPrefix(name, ".") || strings.ContainsAny(name, "/\x00") {
		return res, fmt.Errorf("pki: archive name %q: give a plain file name such as %s", name, BackupName(time.Now()))
	}
	destRel, err := records.RootRelative(destDir)
	if err != nil {
		return res, fmt.Errorf("pki: backup directory: %w", err)
	}
	if len(sources) == 0 {
		return res, errors.New("pki: nothing to archive: no sources given")
	}
	for _, s := range sources {
		rel, err := records.RootRelative(s)
		if err != nil {
			return res, fmt.Errorf("pki: source to archive: %w", err)
		}
		if rel == "." || within("/"+destRel, "/"+rel) {
			return res, fmt.Errorf("pki: the backup directory %s lies in %s, which is being archived; choose a backup directory outside it", destDir, s)
		}
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("pki: archiving: %w", err)
	}

	if !slices.ContainsFunc(sources, func(s string) bool {
		info, err := files.Inspect(root, s)
		return err != nil || info.Kind != files.Missing // errors are reported by the walk
	}) {
		return res, fmt.Errorf("pki: nothing to archive: none of %s exists under %s: %w", strings.Join(sources, ", "), root, fs.ErrNotExist)
	}
	// The same through symlinks: an archive inside the tree it archives
	// would try to hold itself. Checked before creating anything, and again
	// on the directory as opened (its last component may be a link).
	if dest, err := files.Inspect(root, destDir); err == nil {
		if err := notInside(root, dest.Resolved, dest.Path, destDir, sources); err != nil {
			return res, err
		}
	}
	d, err := files.MkdirAll(root, destDir, 0o700)
	if err != nil {
		return res, fmt.Errorf("pki: backup directory: %w", err)
	}
	defer d.Close()
	if err := notInside(root, d.Recorded(), d.Path(), destDir, sources); err != nil {
		return res, err
	}
	if res.RemovedLeftovers, err = d.RemoveStale(isOurTemp); err != nil {
		return res, fmt.Errorf("pki: %w", err)
	}
	tmp := "." + name + tempSuffix
	f, err := d.Create(tmp, records.BackupFileMode)
	if errors.Is(err, fs.ErrExist) { // a leftover named after a name given explicitly
		if err = d.Remove(tmp); err == nil {
			f, err = d.Create(tmp, records.BackupFileMode)
		}
	}
	if err != nil {
		return res, fmt.Errorf("pki: %w", err)
	}
	published := false
	defer func() {
		if !published {
			f.Close()
			d.Remove(tmp)
		}
	}()

	cw := &countingWriter{w: f}
	bw := bufio.NewWriterSize(cw, 256<<10)
	gz := gzip.NewWriter(bw)
	tw := tar.NewWriter(gz)
	a := &archiver{ctx: ctx, tw: tw, names: ownerNames(root), res: &res}
	for _, s := range sources {
		visited := false
		err := files.Walk(ctx, root, s, func(n *files.Node) error {
			visited = true
			return a.add(n)
		})
		if !visited && errors.Is(err, fs.ErrNotExist) {
			res.Missing = append(res.Missing, s)
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("pki: archiving %s: %w", s, err)
		}
	}
	if res.Files+res.Dirs == 0 {
		return Result{}, fmt.Errorf("pki: nothing to archive: none of %s exists under %s: %w", strings.Join(sources, ", "), root, fs.ErrNotExist)
	}
	for _, c := range []interface{ Close() error }{tw, gz} {
		if err := c.Close(); err != nil {
			return Result{}, fmt.Errorf("pki: writing %s: %w", filepath.Join(d.Path(), tmp), err)
		}
	}
	if err := bw.Flush(); err != nil {
		return Result{}, fmt.Errorf("pki: writing %s: %w", filepath.Join(d.Path(), tmp), err)
	}
	if err := f.Sync(); err != nil {
		return Result{}, fmt.Errorf("pki: syncing %s: %w", filepath.Join(d.Path(), tmp), err)
	}
	if err := f.Close(); err != nil {
		return Result{}, fmt.Errorf("pki: writing %s: %w", filepath.Join(d.Path(), tmp), err)
	}
	// The last moment to honour a cancellation: after the rename the
	// archive is a backup like any other.
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("pki: archiving: %w", err)
	}
	if err := d.RenameNoReplace(tmp, name); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return Result{}, fmt.Errorf("pki: %s already exists in %s; engine-cleanup never replaces a backup: give another name", name, d.Path())
		}
		return Result{}, fmt.Errorf("pki: %w", err)
	}
	published = true
	res.Bytes = cw.n
	res.Path = filepath.Join(d.Path(), name)
	res.Recorded = path.Join(d.Recorded(), name)
	return res, nil
}

// notInside refuses a backup directory that resolves into a source tree.
func notInside(root, resolved, shown, destDir string, sources []string) error {
	for _, s := range sources {
		if info, err := files.Inspect(root, s); err == nil && info.Kind == files.Directory && within(resolved, info.Resolved) {
			return fmt.Errorf("pki: the backup directory %s (%s) lies in %s, which is being archived; choose a backup directory outside it", destDir, shown, s)
		}
	}
	return nil
}

type archiver struct {
	ctx   context.Context
	tw    *tar.Writer
	names owners
	res   *Result
}

func (a *archiver) add(n *files.Node) error {
	h := &tar.Header{
		Name:    strings.TrimPrefix(n.Path, "/"),
		Mode:    tarMode(n.Mode),
		Uid:     n.Uid,
		Gid:     n.Gid,
		Uname:   a.names.users[n.Uid],
		Gname:   a.names.groups[n.Gid],
		ModTime: n.ModTime,
		Format:  tar.FormatPAX,
	}
	switch t := n.Mode.Type(); {
	case t == 0:
		h.Typeflag, h.Size = tar.TypeReg, n.Size
	case t == fs.ModeDir:
		h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
	case t == fs.ModeSymlink:
		h.Typeflag, h.Linkname = tar.TypeSymlink, n.Link
	case t == fs.ModeNamedPipe:
		h.Typeflag = tar.TypeFifo
	case t&fs.ModeDevice != 0:
		h.Typeflag = tar.TypeBlock
		if t&fs.ModeCharDevice != 0 {
			h.Typeflag = tar.TypeChar
		}
		h.Devmajor, h.Devminor = int64(unix.Major(n.Rdev)), int64(unix.Minor(n.Rdev))
	default:
		a.res.Skipped = append(a.res.Skipped, n.Path)
		return nil
	}
	if err := a.tw.WriteHeader(h); err != nil {
		return fmt.Errorf("adding %s: %w", n.Path, err)
	}
	if h.Typeflag == tar.TypeDir {
		a.res.Dirs++
		return nil
	}
	a.res.Files++
	if h.Typeflag != tar.TypeReg {
		return nil
	}
	f, err := n.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	copied, err := io.Copy(a.tw, io.LimitReader(ctxReader{a.ctx, f}, n.Size))
	if err != nil {
		return fmt.Errorf("reading %s: %w", n.Path, err)
	}
	if copied != n.Size {
		return fmt.Errorf("%s shrank from %d to %d bytes while being archived: %w; run again when nothing writes to it", n.Path, n.Size, copied, files.ErrChanged)
	}
	return nil
}

// tarMode is the mode field of a tar header: permission bits and the
// set-id and sticky bits, as tar(1) writes them.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// owners maps numeric ids to the names in the root's passwd and group
// files, so that tar(1) restores by name when the ids changed. Only names
// from the tree being archived are meaningful, never the host's.
type owners struct {
	users, groups map[int]string
}

func ownerNames(root string) owners {
	return owners{users: idNames(root, "/etc/passwd"), groups: idNames(root, "/etc/group")}
}

// idNames reads name:x:id:... lines; any trouble just means no names.
func idNames(root, recorded string) map[int]string {
	data, err := records.ReadRecord(root, recorded)
	if err != nil {
		return nil
	}
	m := map[int]string{}
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		fields := strings.SplitN(string(line), ":", 4)
		if len(fields) < 3 || fields[0] == "" || strings.HasPrefix(fields[0], "#") || strings.HasPrefix(fields[0], "+") {
			continue
		}
		id, err := strconv.Atoi(fields[2])
		if _, dup := m[id]; err != nil || dup {
			continue // the first name of an id is the one tools show
		}
		m[id] = fields[0]
	}
	return m
}
