package libvirt

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/files"
)

// metaXML is the XML of one snapshot or checkpoint.
type metaXML struct {
	Name    string
	XML     string
	Current bool // snapshots only: libvirt's current snapshot

	parent  string
	created int64
}

// capture is everything a backup holds about one domain.
type capture struct {
	UUID, Name  string
	Persistent  bool
	URI         string // as given (--libvirt-uri), "" for the default
	DomainXML   string
	Snapshots   []metaXML // parents first
	Checkpoints []metaXML // parents first
}

// newMetaXML reads the name, parent and creation time from a snapshot or
// checkpoint XML; they order the list.
func newMetaXML(name, doc string, current bool) metaXML {
	var x struct {
		Name   string `xml:"name"`
		Parent struct {
			Name string `xml:"name"`
		} `xml:"parent"`
		CreationTime int64 `xml:"creationTime"`
	}
	_ = xml.Unmarshal([]byte(doc), &x) // a name from libvirt stands; order falls back to roots
	if name == "" {
		name = x.Name
	}
	return metaXML{Name: name, XML: doc, Current: current, parent: x.Parent.Name, created: x.CreationTime}
}

// topological orders items parents first (siblings by creation time, then
// name), which is the order in which libvirt can redefine them: a child
// redefined before its parent fails with "parent … not found". It relies
// on each XML's <parent> rather than on LIST_TOPOLOGICAL (libvirt 5.2),
// so that it works on every version.
func topological(items []metaXML) []metaXML {
	byName := map[string]bool{}
	for _, it := range items {
		byName[it.Name] = true
	}
	children := map[string][]metaXML{}
	for _, it := range items {
		p := it.parent
		if !byName[p] || p == it.Name {
			p = ""
		}
		children[p] = append(children[p], it)
	}
	for _, c := range children {
		sort.SliceStable(c, func(i, j int) bool {
			if c[i].created != c[j].created {
				return c[i].created < c[j].created
			}
			return c[i].Name < c[j].Name
		})
	}
	out := make([]metaXML, 0, len(items))
	done := map[string]bool{}
	var visit func(parent string)
	visit = func(parent string) {
		for _, c := range children[parent] {
			if done[c.Name] {
				continue
			}
			done[c.Name] = true
			out = append(out, c)
			visit(c.Name)
		}
	}
	visit("")
	// A cycle (which libvirt never produces) is kept, after the rest.
	for _, it := range items {
		if !done[it.Name] {
			done[it.Name] = true
			out = append(out, it)
		}
	}
	return out
}

// backupName is the archive's file name; n > 1 tells apart a second
// backup of the same domain in the same run.
func backupName(name, uuid, runID string, n int) string {
	s := BackupPrefix + safeName(name, 64) + "-" + uuid + "-" + safeName(runID, 64)
	if n > 1 {
		s += fmt.Sprintf("-%d", n)
	}
	return s + BackupSuffix
}

const tempSuffix = ".partial"

// staleTemp matches the temporary archives of other runs, which a killed
// run left: those of this run may be in the making, since the core runs
// backups concurrently.
func staleTemp(runID string) func(string) bool {
	ours := "-" + safeName(runID, 64) + BackupSuffix + tempSuffix
	return func(name string) bool {
		return strings.HasPrefix(name, "."+BackupPrefix) && strings.HasSuffix(name, BackupSuffix+tempSuffix) &&
			!strings.HasSuffix(name, ours)
	}
}

// safeName keeps letters, digits, dot, dash and underscore of s, at most
// max bytes of it, so that it can be part of a file name.
func safeName(s string, max int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= max {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == '.' && b.Len() > 0:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// archiveLayout names the files of a capture inside its archive: a
// directory named after the domain, holding RestoreNote, domain.xml,
// snapshots/NN-name.xml and checkpoints/NN-name.xml.
type archiveLayout struct {
	dir         string
	snapshots   []string
	checkpoints []string
}

func layoutOf(c *capture) archiveLayout {
	l := archiveLayout{dir: safeName(c.Name, 64) + "-" + c.UUID}
	number := func(kind string, items []metaXML) []string {
		width := len(fmt.Sprint(len(items)))
		if width < 2 {
			width = 2
		}
		var out []string
		for i, it := range items {
			out = append(out, fmt.Sprintf("%s/%0*d-%s.xml", kind, width, i+1, safeName(it.Name, 64)))
		}
		return out
	}
	l.snapshots = number("snapshots", c.Snapshots)
	l.checkpoints = number("checkpoints", c.Checkpoints)
	return l
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// restoreCommands are the virsh commands that recreate the domain and its
// metadata, run from the archive's directory.
func restoreCommands(c *capture, l archiveLayout) []string {
	virsh := "virsh"
	if c.URI != "" {
		virsh += " -c " + shellQuote(c.URI)
	}
	var cmds []string
	if c.Persistent {
		cmds = append(cmds, virsh+" define domain.xml")
	} else {
		cmds = append(cmds, virsh+" create domain.xml")
	}
	current := -1
	for i, s := range c.Snapshots {
		cmds = append(cmds, fmt.Sprintf("%s snapshot-create %s %s --redefine", virsh, c.UUID, shellQuote(l.snapshots[i])))
		if s.Current {
			current = i
		}
	}
	// Last, so that nothing redefined after it takes "current" away.
	if current >= 0 {
		cmds = append(cmds, fmt.Sprintf("%s snapshot-create %s %s --redefine --current", virsh, c.UUID, shellQuote(l.snapshots[current])))
	}
	for i := range c.Checkpoints {
		cmds = append(cmds, fmt.Sprintf("%s checkpoint-create %s %s --redefine", virsh, c.UUID, shellQuote(l.checkpoints[i])))
	}
	return cmds
}

// restoreNote is the text of RestoreNote.
func restoreNote(c *capture, l archiveLayout, runID string, now time.Time) string {
	var b strings.Builder
	uri := c.URI
	if uri == "" {
		uri = "libvirt's default URI"
	}
	kind := "persistent"
	if !c.Persistent {
		kind = "transient"
	}
	fmt.Fprintf(&b, "engine-cleanup removed the %s libvirt domain %s (%s)\nat %s on %s (run %s).\n\n",
		kind, quote(c.Name), c.UUID, uri, now.Format(time.RFC3339), runID)
	b.WriteString("This archive holds what libvirt needs to define it again with the same\nname and UUID:\n\n")
	fmt.Fprintf(&b, "  domain.xml      its XML, secrets included (keep this archive private)\n")
	if n := len(c.Snapshots); n > 0 {
		fmt.Fprintf(&b, "  snapshots/      the XML of its %s, parents first", plural(n, "snapshot"))
		for i, s := range c.Snapshots {
			if s.Current {
				fmt.Fprintf(&b, "; the current one is %s", l.snapshots[i])
			}
		}
		b.WriteString("\n")
	}
	if n := len(c.Checkpoints); n > 0 {
		fmt.Fprintf(&b, "  checkpoints/    the XML of its %s, parents first\n", plural(n, "checkpoint"))
	}
	b.WriteString("\nNot in it: the disk images (engine-cleanup does not touch them), the\n" +
		"managed-save image (the saved memory of the guest), and the contents of\n" +
		"its NVRAM and TPM.\n\n")
	fmt.Fprintf(&b, "To recreate the domain and its snapshot and checkpoint metadata, unpack\nthe archive and run these commands in its directory %s:\n\n", l.dir)
	for _, c := range restoreCommands(c, l) {
		b.WriteString("  " + c + "\n")
	}
	b.WriteString("\nSnapshots come before checkpoints: qemu refuses to redefine a snapshot\n" +
		"while the domain has a checkpoint. The current snapshot is redefined twice,\n" +
		"the second time with --current, so that it is current again.\n")
	if !c.Persistent {
		b.WriteString("The domain was transient: \"virsh create\" starts it again, and its\n" +
			"snapshots and checkpoints can be redefined only while it runs.\n")
	}
	return b.String()
}

// writeBackup writes the capture as a gzip-compressed tar archive in dir (a
// recorded path under root, created 0700 if missing), mode 0600. It writes
// to a temporary name, syncs, and renames only when complete, never
// replacing a file; it returns the archive's path under root. It is safe
// to call concurrently for different domains.
func writeBackup(ctx context.Context, root, dir string, c *capture, runID string, now time.Time) (string, error) {
	d, err := files.MkdirAll(root, dir, 0o700)
	if err != nil {
		return "", fmt.Errorf("creating the backup directory: %w", err)
	}
	defer d.Close()
	if _, err := d.RemoveStale(staleTemp(runID)); err != nil {
		return "", err
	}
	name := backupName(c.Name, c.UUID, runID, 1)
	tmp := "." + name + tempSuffix
	f, err := d.Create(tmp, BackupFileMode)
	if errors.Is(err, fs.ErrExist) {
		if err = d.Remove(tmp); err == nil {
			f, err = d.Create(tmp, BackupFileMode)
		}
	}
	if err != nil {
		return "", err
	}
	published := false
	defer func() {
		if !published {
			f.Close()
			d.Remove(tmp)
		}
	}()
	shown := filepath.Join(d.Path(), tmp)
	bw := bufio.NewWriter(f)
	gz := gzip.NewWriter(bw)
	tw := tar.NewWriter(gz)
	l := layoutOf(c)
	entries := []struct{ name, content string }{
		{RestoreNote, restoreNote(c, l, runID, now)},
		{"domain.xml", c.DomainXML},
	}
	for i, s := range c.Snapshots {
		entries = append(entries, struct{ name, content string }{l.snapshots[i], s.XML})
	}
	for i, cp := range c.Checkpoints {
		entries = append(entries, struct{ name, content string }{l.checkpoints[i], cp.XML})
	}
	dirs := map[string]bool{}
	for _, e := range entries {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		full := l.dir + "/" + e.name
		for _, parent := range []string{l.dir, filepath.Dir(full)} {
			if !dirs[parent] {
				dirs[parent] = true
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: parent + "/", Mode: 0o700, ModTime: now, Format: tar.FormatPAX}); err != nil {
					return "", fmt.Errorf("writing %s: %w", shown, err)
				}
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: full, Mode: 0o600, Size: int64(len(e.content)),
			ModTime: now, Format: tar.FormatPAX}); err != nil {
			return "", fmt.Errorf("writing %s: %w", shown, err)
		}
		if _, err := tw.Write([]byte(e.content)); err != nil {
			return "", fmt.Errorf("writing %s: %w", shown, err)
		}
	}
	for _, c := range []interface{ Close() error }{tw, gz} {
		if err := c.Close(); err != nil {
			return "", fmt.Errorf("writing %s: %w", shown, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return "", fmt.Errorf("writing %s: %w", shown, err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("syncing %s: %w", shown, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("writing %s: %w", shown, err)
	}
	for n := 1; ; n++ {
		name = backupName(c.Name, c.UUID, runID, n)
		err = d.RenameNoReplace(tmp, name)
		if err == nil {
			published = true
			return filepath.Join(d.Path(), name), nil
		}
		if !errors.Is(err, fs.ErrExist) || n == 100 {
			return "", err
		}
	}
}
