package files

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/sys/unix"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

// MaxRevertSize bounds the shared files RevertLines rewrites. ssl.conf and
// versionlock.list are a few kilobytes; anything near this is not the
// file setup edited.
const MaxRevertSize = 16 << 20

// RevertResult says what RevertLines did to one file.
type RevertResult struct {
	Outcome  Outcome
	Recorded string
	Path     string // where it resolved, under the root
	// Backup is the copy of the content before the revert, kept as
	// <file>.<YYYYmmddHHMMSS> as otopi does; set when the file was
	// rewritten. It is a backup: engine-cleanup never deletes it.
	Backup   string
	Reverted []records.LineEdit
	// NotFound are the edits whose added line is no longer in the file
	// ("some changes could not be reverted"): report them, with their
	// manifest location (At).
	NotFound []records.LineEdit
}

// FileEdits are the recorded line edits of one file.
type FileEdits struct {
	Path  string
	Edits []records.LineEdit // in recording order
}

// GroupLineEdits groups edits (as Inventory.LineEdits returns them, oldest
// first) by file, keeping their order; files are sorted by path.
func GroupLineEdits(edits []records.LineEdit) []FileEdits {
	by := map[string][]records.LineEdit{}
	for _, e := range edits {
		by[e.Path] = append(by[e.Path], e)
	}
	out := make([]FileEdits, 0, len(by))
	for p, es := range by {
		out = append(out, FileEdits{p, es})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// RevertLines reverts setup's line edits in a shared file (ssl.conf,
// versionlock.list), as oVirt's remover does: an added line is removed (the
// last occurrence, once per recorded addition), a removed line is appended
// back unless it is already there, and a replaced line is swapped back in
// place. Edits are given in recording order and undone newest first.
//
// Lines are compared without their leading and trailing blanks, which the
// manifest did not keep; a swapped-back line takes the blanks of the line
// it replaces, which setup copied from the original (its "{spaces}#
// {original}"), so the result is byte-identical to the file before setup
// in the normal case, indented lines included.
//
// The file is rewritten atomically: a temporary file in the same directory
// with the same owner and mode, fsynced, renamed over the original, and
// the directory fsynced. The content it replaces is kept as
// <file>.<YYYYmmddHHMMSS> (otopi's FileTransaction does the same), since
// the file may carry the administrator's own changes.
//
// Running it again changes nothing. A file whose added lines are absent
// and whose removed lines are present (counting each line's net effect
// over all edits) is AlreadyReverted. So is a file that is exactly what
// reverting the newest <file>.<timestamp> copy gives (the copy an earlier
// run kept), which also covers lines that occur more than once. Edits
// that cannot be found are reported in NotFound (PartlyReverted) on every
// run, as long as they cannot be. A missing file is FileMissing; nothing
// is created.
func RevertLines(root, recorded string, edits []records.LineEdit, opts ...Option) (RevertResult, error) {
	res := RevertResult{Outcome: Kept, Recorded: recorded}
	cfg := configure(opts)
	if cfg.optErr != nil {
		return res, cfg.optErr
	}
	if _, err := records.RootRelative(recorded); err != nil {
		return res, fmt.Errorf("not reverting lines in %s: %w", showPath(recorded), err)
	}
	if err := checkEdits(recorded, edits); err != nil {
		return res, err
	}
	if reason, ok := Protected(recorded, opts...); ok {
		return res, protectedError(showPath(recorded), reason)
	}
	l, err := resolve(root, recorded, walkSpec{followLast: true, noSymlinks: cfg.noSymlinks})
	if err != nil {
		return res, fmt.Errorf("not reverting lines in %s: %w", showPath(recorded), err)
	}
	defer l.close()
	res.Path = l.shown()
	if l.missing {
		res.Outcome = FileMissing
		return res, nil
	}
	if reason, ok := cfg.protected(l.resolvedRecorded()); ok {
		return res, protectedError(fmt.Sprintf("%s (recorded as %s)", res.Path, showPath(recorded)), reason)
	}
	if l.name == "" {
		return res, fmt.Errorf("not reverting lines in %s: it is a directory: %w", res.Path, ErrIsDirectory)
	}
	data, st, err := readAt(l.dir, l.name, res.Path)
	if errors.Is(err, unix.ENOENT) {
		res.Outcome = FileMissing
		return res, nil
	}
	if err != nil {
		return res, err
	}
	p := revertContent(data, edits)
	if !p.already && p.changed && revertedBefore(l.dir, l.name, data, edits) {
		p = revertPlan{out: data, already: true}
	}
	res.Reverted, res.NotFound = p.reverted, p.notFound
	switch {
	case p.already || (!p.changed && len(p.notFound) == 0):
		res.Outcome, res.Reverted, res.NotFound = AlreadyReverted, nil, nil
		return res, nil
	case len(p.notFound) > 0:
		res.Outcome = PartlyReverted
	default:
		res.Outcome = Reverted
	}
	if !p.changed {
		return res, nil
	}
	// A killed earlier run may have left its temporary file.
	if _, err := removeStale(l.dir, isRevertTemp); err != nil {
		return RevertResult{Outcome: Kept, Recorded: recorded, Path: res.Path}, fmt.Errorf("reverting lines in %s: %w", res.Path, err)
	}
	backup, err := replaceContent(l.dir, l.name, data, p.out, st, time.Now())
	if err != nil {
		return RevertResult{Outcome: Kept, Recorded: recorded, Path: res.Path}, fmt.Errorf("reverting lines in %s: %w", res.Path, err)
	}
	res.Backup = filepath.Join(filepath.Dir(res.Path), backup)
	return res, nil
}

func checkEdits(recorded string, edits []records.LineEdit) error {
	for _, e := range edits {
		if e.Path != recorded {
			return fmt.Errorf("reverting lines in %s: an edit of %s (%s) was passed with them; pass each file's edits separately (GroupLineEdits)", recorded, e.Path, e.At)
		}
		switch e.Change {
		case records.LineAdded, records.LineRemoved, records.LineReplaced:
		default:
			return fmt.Errorf("reverting lines in %s: edit at %s has no valid change (%v)", recorded, e.At, e.Change)
		}
		for _, s := range []string{e.Added, e.Removed} {
			if strings.ContainsAny(s, "\n\r\x00") {
				return fmt.Errorf("reverting lines in %s: edit at %s holds a line break or NUL, which no recorded line can; the manifest is damaged", recorded, e.At)
			}
		}
	}
	return nil
}

// readAt reads a regular file held by dir, at most MaxRevertSize bytes.
func readAt(dir int, name, shown string) ([]byte, *unix.Stat_t, error) {
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil, err
	}
	if errors.Is(err, unix.ELOOP) {
		return nil, nil, fmt.Errorf("%s became a symlink while engine-cleanup was reading it: %w; run again when nothing else changes it", shown, ErrChanged)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("opening %s: %w", shown, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, nil, fmt.Errorf("checking %s: %w", shown, err)
	}
	if kindOf(st.Mode) != Regular {
		return nil, nil, fmt.Errorf("%s is a %s, not the text file setup edited: %w", shown, typeName(st.Mode), ErrNotRegular)
	}
	if st.Size > MaxRevertSize {
		return nil, nil, fmt.Errorf("%s is %d bytes, more than the %d engine-cleanup rewrites; it cannot be the file setup edited: revert its lines by hand", shown, st.Size, MaxRevertSize)
	}
	data, err := io.ReadAll(io.LimitReader(fdReader(fd), MaxRevertSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", shown, err)
	}
	if len(data) > MaxRevertSize {
		return nil, nil, fmt.Errorf("%s grew beyond %d bytes while being read; run again when nothing writes to it", shown, MaxRevertSize)
	}
	return data, &st, nil
}

type fdReader int

func (r fdReader) Read(p []byte) (int, error) {
	var n int
	err := ignoringEINTR(func() (err error) { n, err = unix.Read(int(r), p); return err })
	if err != nil {
		return 0, err
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// revertedBefore reports whether data is what reverting the newest
// <name>.<timestamp> copy gives: the state a previous run left.
func revertedBefore(dir int, name string, data []byte, edits []records.LineEdit) bool {
	names, err := listNames(dir)
	if err != nil {
		return false
	}
	newest, newestStamp, newestN := "", "", -1
	for _, n := range names {
		stamp, c, ok := backupOf(n, name)
		if ok && (stamp > newestStamp || stamp == newestStamp && c > newestN) {
			newest, newestStamp, newestN = n, stamp, c
		}
	}
	if newest == "" {
		return false
	}
	old, _, err := readAt(dir, newest, newest)
	if err != nil {
		return false
	}
	p := revertContent(old, edits)
	return p.changed && bytes.Equal(p.out, data)
}

// backupOf parses <name>.<YYYYmmddHHMMSS> (counter 0) and
// <name>.<YYYYmmddHHMMSS>.<counter>, the names of otopi's copies and ours.
func backupOf(candidate, name string) (stamp string, counter int, ok bool) {
	rest, ok := strings.CutPrefix(candidate, name+".")
	if !ok || len(rest) < len(records.TimestampLayout) {
		return "", 0, false
	}
	stamp, suffix := rest[:len(records.TimestampLayout)], rest[len(records.TimestampLayout):]
	if _, err := time.Parse(records.TimestampLayout, stamp); err != nil {
		return "", 0, false
	}
	if suffix == "" {
		return stamp, 0, true
	}
	n, err := strconv.Atoi(strings.TrimPrefix(suffix, "."))
	if !strings.HasPrefix(suffix, ".") || err != nil || n < 1 {
		return "", 0, false
	}
	return stamp, n, true
}

// textLine is one line and its terminator ("\n", or "" at the end).
type textLine struct{ text, term string }

func splitLines(data []byte) []textLine {
	var out []textLine
	s := string(data)
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, textLine{s, ""})
			break
		}
		out = append(out, textLine{s[:i], "\n"})
		s = s[i+1:]
	}
	return out
}

// lineKey is how a line compares with a recorded one: configparser
// stripped the recorded value.
func lineKey(s string) string { return strings.TrimSpace(s) }

// lineIndex holds a file's lines for reverting: each recorded text maps
// to the positions of the live lines that compare equal to it, so that
// finding the last occurrence, removing or swapping a line, and counting
// cost no scan of the file. Without it a manifest with many edits against
// a large file would take minutes instead of failing or finishing.
type lineIndex struct {
	lines []textLine
	live  []bool
	byKey map[string][]int // live positions, ascending
	// prev finds the last live line at or before a position (union-find
	// with path compression over dead lines).
	prev []int
}

func newLineIndex(lines []textLine) *lineIndex {
	x := &lineIndex{lines: lines, live: make([]bool, len(lines)), byKey: map[string][]int{}, prev: make([]int, len(lines))}
	for i, l := range lines {
		x.live[i], x.prev[i] = true, i-1
		k := lineKey(l.text)
		x.byKey[k] = append(x.byKey[k], i)
	}
	return x
}

func (x *lineIndex) last(recorded string) int {
	ps := x.byKey[lineKey(recorded)]
	if len(ps) == 0 {
		return -1
	}
	return ps[len(ps)-1]
}

func (x *lineIndex) count(recorded string) int { return len(x.byKey[lineKey(recorded)]) }

func (x *lineIndex) unindex(i int) {
	k := lineKey(x.lines[i].text)
	ps := x.byKey[k]
	if j, ok := slices.BinarySearch(ps, i); ok {
		x.byKey[k] = slices.Delete(ps, j, j+1)
	}
}

func (x *lineIndex) index(i int) {
	k := lineKey(x.lines[i].text)
	ps := x.byKey[k]
	j, _ := slices.BinarySearch(ps, i)
	x.byKey[k] = slices.Insert(ps, j, i)
}

func (x *lineIndex) remove(i int) {
	x.unindex(i)
	x.live[i] = false
}

func (x *lineIndex) setText(i int, text string) {
	x.unindex(i)
	x.lines[i].text = text
	x.index(i)
}

// lastLive returns the last live line, or -1.
func (x *lineIndex) lastLive() int {
	i := len(x.lines) - 1
	root := i
	for root >= 0 && !x.live[root] {
		root = x.prev[root]
	}
	for i >= 0 && !x.live[i] { // compress the path walked
		next := x.prev[i]
		x.prev[i] = root
		i = next
	}
	return root
}

// appendLine appends text as a last line, in the file's line-end style.
func (x *lineIndex) appendLine(text string) {
	cr := ""
	if n := x.lastLive(); n >= 0 {
		if x.lines[n].term == "" {
			x.lines[n].term = "\n"
		}
		if strings.HasSuffix(x.lines[n].text, "\r") {
			cr = "\r"
		}
	}
	x.lines = append(x.lines, textLine{text + cr, "\n"})
	x.live = append(x.live, true)
	x.prev = append(x.prev, len(x.lines)-2)
	x.index(len(x.lines) - 1)
}

func (x *lineIndex) bytes() []byte {
	var b bytes.Buffer
	for i, l := range x.lines {
		if x.live[i] {
			b.WriteString(l.text)
			b.WriteString(l.term)
		}
	}
	return b.Bytes()
}

type revertPlan struct {
	out      []byte
	changed  bool
	already  bool // every edit is already undone
	reverted []records.LineEdit
	notFound []records.LineEdit
}

// revertContent undoes edits (recording order) in data, newest first.
func revertContent(data []byte, edits []records.LineEdit) revertPlan {
	x := newLineIndex(splitLines(data))
	if len(edits) > 0 && allUndone(x, edits) {
		return revertPlan{out: data, already: true}
	}
	var p revertPlan
	for i := len(edits) - 1; i >= 0; i-- {
		e := edits[i]
		switch e.Change {
		case records.LineAdded:
			j := x.last(e.Added)
			if j < 0 {
				p.notFound = append(p.notFound, e)
				continue
			}
			x.remove(j)
		case records.LineReplaced:
			j := x.last(e.Added)
			if j < 0 {
				p.notFound = append(p.notFound, e)
				continue
			}
			x.setText(j, withBlanksOf(x.lines[j].text, e.Removed))
		case records.LineRemoved:
			if x.count(e.Removed) > 0 {
				continue // already back; appending would duplicate it
			}
			x.appendLine(e.Removed)
		default:
			continue
		}
		p.reverted = append(p.reverted, e)
	}
	slices.Reverse(p.reverted)
	slices.Reverse(p.notFound)
	p.out = x.bytes()
	p.changed = !bytes.Equal(p.out, data)
	return p
}

// allUndone reports whether lines are already in their state before
// setup, judged by each line's net effect over all edits: a line setup
// added more often than it removed must be absent, a line it removed more
// often than it added must be present. Judging each edit alone would get
// an upgrade wrong, where a later run replaced a line an earlier run added.
func allUndone(x *lineIndex, edits []records.LineEdit) bool {
	net := map[string]int{}
	for _, e := range edits {
		switch e.Change {
		case records.LineAdded:
			net[lineKey(e.Added)]++
		case records.LineRemoved:
			net[lineKey(e.Removed)]--
		case records.LineReplaced:
			net[lineKey(e.Added)]++
			net[lineKey(e.Removed)]--
		}
	}
	for text, n := range net {
		switch c := x.count(text); {
		case n > 0 && c > 0, n < 0 && c == 0:
			return false
		}
	}
	return true
}

// withBlanksOf returns text with the leading and trailing blanks of cur.
func withBlanksOf(cur, text string) string {
	trimmedLeft := strings.TrimLeftFunc(cur, unicode.IsSpace)
	lead := cur[:len(cur)-len(trimmedLeft)]
	trail := trimmedLeft[len(strings.TrimRightFunc(trimmedLeft, unicode.IsSpace)):]
	return lead + text + trail
}
