package records

import (
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// An uninstall manifest (UninstallDir/<YYYYmmddHHMMSS>-uninstall.conf) is
// written by every engine-setup run that created or edited files
// (ovirt-engine-common/base/core/uninstall.py):
//
//	[file_group_<name>]
//	description = Core files
//	optional = False
//	file.000.name = /etc/ovirt-engine/engine.conf.d/10-setup-database.conf
//	file.000.sha256 = <hex>              (md5 before December 2018)
//	line.000000.name = /etc/httpd/conf.d/ssl.conf
//	line.000000.content.added = <line>   (3.3: line.NNNNNN.content)
//	line.000000.content.removed = <line>
//	[unremovable]
//	description = Unremovable files
//	file.000.name = ...
//
// Values go through configparser's interpolation when oVirt reads them, so
// %% stands for %; engine-setup cannot write any other %.

// Section names.
const (
	FileGroupPrefix    = "file_group_"
	UnremovableSection = "unremovable"
)

// HashAlgo names the digest of a recorded file.
type HashAlgo string

const (
	SHA256 HashAlgo = "sha256"
	MD5    HashAlgo = "md5"
)

// Hash is a recorded digest, lower-case hex. The zero Hash means none was
// recorded; oVirt then treats the file as unchanged.
type Hash struct {
	Algo HashAlgo
	Hex  string
}

func (h Hash) IsZero() bool { return h.Algo == "" }

func (a HashAlgo) hexLen() int {
	if a == SHA256 {
		return 64
	}
	return 32
}

// LineChange says what setup did to a line of a shared file.
type LineChange int

const (
	// LineAdded: setup added Added; reverting removes it.
	LineAdded LineChange = iota + 1
	// LineRemoved: setup removed Removed; reverting appends it.
	LineRemoved
	// LineReplaced: setup replaced Removed by Added; reverting swaps back.
	LineReplaced
)

func (c LineChange) String() string {
	switch c {
	case LineAdded:
		return "added"
	case LineRemoved:
		return "removed"
	case LineReplaced:
		return "replaced"
	}
	return fmt.Sprintf("LineChange(%d)", int(c))
}

// LineEdit is one recorded edit of a line in a shared file (ssl.conf,
// versionlock.list). Line contents are as configparser returns them:
// leading and trailing blanks of the original line are lost.
type LineEdit struct {
	Path    string
	Change  LineChange
	Added   string // set for LineAdded and LineReplaced
	Removed string // set for LineRemoved and LineReplaced
	At      Location
}

// FileRecord is a file that setup created, with the digest it had then.
type FileRecord struct {
	Path string
	Hash Hash
	At   Location // the name line of the record that gave Hash
}

// ManifestGroup is one section of a manifest.
type ManifestGroup struct {
	Name        string // without FileGroupPrefix; UnremovableSection for [unremovable]
	Description string
	Optional    bool
	At          Location // the section header
	Files       []FileRecord
	LineEdits   []LineEdit
}

// Manifest is one parsed uninstall manifest.
type Manifest struct {
	File   string
	Groups []ManifestGroup // file groups, in file order
	// Unremovable lists files that must never be deleted.
	Unremovable []FileRecord
}

// ParseManifest reads one uninstall manifest. It rejects anything
// engine-setup would not have written: unknown sections or keys, records
// without a name, hashes that are not hex of the right length, and
// contradictions such as the same path under two indexes.
func ParseManifest(path string, r io.Reader) (*Manifest, error) {
	sections, err := iniReader{}.read(path, r)
	if err != nil {
		return nil, err
	}
	m := &Manifest{File: path}
	// A run hashes each file once, so two digests of one path in one
	// manifest mean damage.
	seen := map[string]FileRecord{}
	for _, s := range sections {
		g, err := parseManifestSection(path, s)
		if err != nil {
			return nil, err
		}
		for _, f := range g.Files {
			prev, ok := seen[f.Path]
			if ok && !prev.Hash.IsZero() && !f.Hash.IsZero() && prev.Hash != f.Hash {
				return nil, syntaxErr(path, f.At.Line, "%s is recorded with %s %s here but %s %s on line %d by the same run; the manifest is damaged: remove the wrong record",
					safeText(f.Path), f.Hash.Algo, f.Hash.Hex, prev.Hash.Algo, prev.Hash.Hex, prev.At.Line)
			}
			if !ok || prev.Hash.IsZero() {
				seen[f.Path] = f
			}
		}
		if s.name == UnremovableSection {
			m.Unremovable = g.Files
		} else {
			m.Groups = append(m.Groups, g)
		}
	}
	return m, nil
}

type fileEntry struct {
	name, sha256, md5 string
	nameLine, line    int
}

type lineEntry struct {
	name                   string
	content, added, remove *lineValue // nil when absent: an empty line is content
	nameLine, line         int
}

type lineValue struct {
	text string
	line int
}

func parseManifestSection(file string, s iniSection) (ManifestGroup, error) {
	g := ManifestGroup{At: Location{file, s.line}}
	switch {
	case s.name == UnremovableSection:
		g.Name = UnremovableSection
	case strings.HasPrefix(s.name, FileGroupPrefix) && validGroupName(s.name[len(FileGroupPrefix):]):
		g.Name = s.name[len(FileGroupPrefix):]
	default:
		return g, syntaxErr(file, s.line, "unknown section %s: a manifest has only [%s<name>] sections (name of letters, digits, _ . -) and [%s]; the file is damaged or not a manifest",
			"["+safeText(s.name)+"]", FileGroupPrefix, UnremovableSection)
	}

	var (
		files      = map[string]*fileEntry{}
		fileOrder  []string
		lines      = map[string]*lineEntry{}
		lineOrder  []string
		hasDescKey bool
	)
	for _, o := range s.options {
		value, err := uninterpolate(o.value)
		if err != nil {
			return g, syntaxErr(file, o.line, "value of %s: %v", safeText(o.key), err)
		}
		switch {
		case o.key == "description":
			g.Description, hasDescKey = value, true
		case o.key == "optional":
			b, ok := parseBool(value)
			if !ok || value == "" {
				return g, syntaxErr(file, o.line, "optional = %s is not True or False; correct it", quoteShort(value))
			}
			g.Optional = b
		case strings.HasPrefix(o.key, "file."):
			idx, field, ok := splitIndexed(o.key, "file.")
			if !ok || (field != "name" && field != string(SHA256) && field != string(MD5)) {
				return g, unknownKey(file, o, s.name)
			}
			e := files[idx]
			if e == nil {
				e = &fileEntry{line: o.line}
				files[idx] = e
				fileOrder = append(fileOrder, idx)
			}
			switch field {
			case "name":
				e.name, e.nameLine = value, o.line
			case string(SHA256), string(MD5):
				algo := HashAlgo(field)
				if !isHex(value, algo.hexLen()) {
					return g, syntaxErr(file, o.line, "%s is not a %s digest (%d hex digits): %s; the manifest is damaged: restore it, or remove the digest so the file counts as unchanged",
						o.key, algo, algo.hexLen(), quoteShort(value))
				}
				if algo == SHA256 {
					e.sha256 = value
				} else {
					e.md5 = value
				}
			}
		case strings.HasPrefix(o.key, "line.") && s.name != UnremovableSection:
			idx, field, ok := splitIndexed(o.key, "line.")
			if !ok || (field != "name" && field != "content" && field != "content.added" && field != "content.removed") {
				return g, unknownKey(file, o, s.name)
			}
			e := lines[idx]
			if e == nil {
				e = &lineEntry{line: o.line}
				lines[idx] = e
				lineOrder = append(lineOrder, idx)
			}
			v := &lineValue{value, o.line}
			switch field {
			case "name":
				e.name, e.nameLine = value, o.line
			case "content":
				e.content = v
			case "content.added":
				e.added = v
			case "content.removed":
				e.remove = v
			}
		default:
			return g, unknownKey(file, o, s.name)
		}
	}
	if !hasDescKey && g.Name != UnremovableSection {
		// oVirt's reader fails on such a group too.
		return g, syntaxErr(file, s.line, "[%s] has no description; engine-setup always writes one, so the manifest is damaged: add \"description = <text>\"", s.name)
	}

	byPath := map[string]string{}
	for _, idx := range fileOrder {
		e := files[idx]
		if e.name == "" {
			return g, syntaxErr(file, e.line, "file.%s has no name (file.%s.name) in [%s]; the manifest is damaged: remove the file.%s entries or add the name", idx, idx, s.name, idx)
		}
		if err := checkRecordedPath(e.name); err != nil {
			return g, syntaxErr(file, e.nameLine, "file.%s.name %s: %v", idx, safeText(e.name), err)
		}
		if other, dup := byPath[e.name]; dup {
			return g, syntaxErr(file, e.nameLine, "%s is recorded as both file.%s and file.%s in [%s]; engine-setup never does that, so the manifest is damaged: remove one", safeText(e.name), other, idx, safeText(s.name))
		}
		byPath[e.name] = idx
		rec := FileRecord{Path: e.name, At: Location{file, e.nameLine}}
		// sha256 supersedes md5 (commit d396388); a run never wrote both.
		switch {
		case e.sha256 != "":
			rec.Hash = Hash{SHA256, strings.ToLower(e.sha256)}
		case e.md5 != "":
			rec.Hash = Hash{MD5, strings.ToLower(e.md5)}
		}
		g.Files = append(g.Files, rec)
	}
	for _, idx := range lineOrder {
		e := lines[idx]
		if e.name == "" {
			return g, syntaxErr(file, e.line, "line.%s has no name (line.%s.name) in [%s]; the manifest is damaged: remove the line.%s entries or add the file name", idx, idx, s.name, idx)
		}
		if err := checkRecordedPath(e.name); err != nil {
			return g, syntaxErr(file, e.nameLine, "line.%s.name %s: %v", idx, safeText(e.name), err)
		}
		if e.content != nil {
			if e.added != nil {
				return g, syntaxErr(file, e.line, "line.%s has both .content (3.3 format) and .content.added; the manifest is damaged: keep one", idx)
			}
			e.added = e.content
		}
		for _, c := range []*lineValue{e.added, e.remove} {
			if c != nil && strings.ContainsRune(c.text, '\n') {
				return g, syntaxErr(file, c.line, "line.%s records content that spans several lines, which no single line can; the manifest is damaged: fix the indentation of the lines after it", idx)
			}
		}
		edit := LineEdit{Path: e.name, At: Location{file, e.nameLine}}
		switch {
		case e.added != nil && e.remove != nil:
			edit.Change, edit.Added, edit.Removed = LineReplaced, e.added.text, e.remove.text
		case e.added != nil:
			edit.Change, edit.Added = LineAdded, e.added.text
		case e.remove != nil:
			edit.Change, edit.Removed = LineRemoved, e.remove.text
		default:
			return g, syntaxErr(file, e.nameLine, "line.%s names %s but records no content (line.%s.content.added or .removed); the manifest is damaged: remove line.%s.name", idx, safeText(e.name), idx, idx)
		}
		g.LineEdits = append(g.LineEdits, edit)
	}
	return g, nil
}

func unknownKey(file string, o iniOption, section string) error {
	allowed := "description, optional, file.N.name, file.N.sha256, file.N.md5"
	if section != UnremovableSection {
		allowed += ", line.N.name, line.N.content, line.N.content.added, line.N.content.removed"
	}
	return syntaxErr(file, o.line, "unknown key %s in [%s]: engine-setup writes only %s; the manifest is damaged or not a manifest",
		quoteShort(o.key), section, allowed)
}

// splitIndexed splits "file.000.name" into "000" and "name".
func splitIndexed(key, prefix string) (idx, field string, ok bool) {
	rest := key[len(prefix):]
	dot := strings.IndexByte(rest, '.')
	if dot <= 0 {
		return "", "", false
	}
	idx, field = rest[:dot], rest[dot+1:]
	for i := 0; i < len(idx); i++ {
		if idx[i] < '0' || idx[i] > '9' {
			return "", "", false
		}
	}
	return idx, field, true
}

func validGroupName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWordChar(s[i]) && s[i] != '-' && s[i] != '.' {
			return false
		}
	}
	return true
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// uninterpolate undoes configparser's BasicInterpolation for what
// engine-setup can write: %% is %. Any other % made oVirt's reader fail
// (or silently substitute), so the value cannot be trusted.
func uninterpolate(v string) (string, error) {
	if !strings.Contains(v, "%") {
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b.WriteByte(v[i])
			continue
		}
		if i+1 < len(v) && v[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		return "", fmt.Errorf("%% not followed by %%: oVirt reads manifests with interpolation, so engine-setup never writes a lone %%; write %%%% for a literal %%")
	}
	return b.String(), nil
}

// checkRecordedPath rejects paths engine-setup cannot have recorded. Full
// confinement is Resolve's job; this catches damage early, with a line.
func checkRecordedPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("is not an absolute path; engine-setup records absolute paths only")
	}
	if strings.ContainsRune(p, '\n') {
		return fmt.Errorf("spans several lines; a path cannot")
	}
	// A path that climbs above / with ".." cannot be setup's, and must not
	// be acted on: refuse the whole manifest rather than skip the line.
	if _, err := RootRelative(p); err != nil {
		return err
	}
	// engine-setup records clean paths; another spelling of the same file
	// ("//", "/./", "a/../") would let two records with different digests
	// name it.
	if path.Clean(p) != p {
		return fmt.Errorf("is not written the way engine-setup writes paths (%s); the manifest is damaged", path.Clean(p))
	}
	return nil
}

// Inventory is the union of all manifests, oldest first: what every setup
// run recorded, with the latest digest of each file.
type Inventory struct {
	Manifests []string
	// Groups are sorted by name; Description and Optional are the latest.
	Groups []Group
	// Unremovable files must never be deleted, whatever group also lists
	// them.
	Unremovable map[string]FileRecord
}

// Group is a file group of all manifests.
type Group struct {
	Name        string
	Description string
	Optional    bool
	// Files are sorted by path. Each carries the latest digest recorded
	// for the path by any group of any manifest, as oVirt keeps one digest
	// per path; a later record without a digest clears it.
	Files []FileRecord
	// LineEdits are in recording order, oldest manifest first; revert them
	// newest first.
	LineEdits []LineEdit
}

// Group returns the group called name.
func (inv *Inventory) Group(name string) (Group, bool) {
	i := sort.Search(len(inv.Groups), func(i int) bool { return inv.Groups[i].Name >= name })
	if i < len(inv.Groups) && inv.Groups[i].Name == name {
		return inv.Groups[i], true
	}
	return Group{}, false
}

// IsUnremovable reports whether path must never be deleted.
func (inv *Inventory) IsUnremovable(path string) bool {
	_, ok := inv.Unremovable[path]
	return ok
}

// LineEdits returns the edits of every group, oldest first.
func (inv *Inventory) LineEdits() []LineEdit {
	order := map[string]int{}
	for i, m := range inv.Manifests {
		order[m] = i
	}
	var all []LineEdit
	for _, g := range inv.Groups {
		all = append(all, g.LineEdits...)
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i].At, all[j].At
		if order[a.File] != order[b.File] {
			return order[a.File] < order[b.File]
		}
		return a.Line < b.Line
	})
	return all
}

// MergeManifests merges manifests in the order of their file names, which
// start with the timestamp of the run that wrote them: later digests win.
// Line edits accumulate: oVirt's remover kept only the newest run's edits
// of each file, which loses an older run's edit that a newer run did not
// repeat.
func MergeManifests(list []*Manifest) (*Inventory, error) {
	list = append([]*Manifest(nil), list...)
	sort.SliceStable(list, func(i, j int) bool {
		bi, bj := filepath.Base(list[i].File), filepath.Base(list[j].File)
		if bi != bj {
			return bi < bj
		}
		return list[i].File < list[j].File
	})
	for i := 1; i < len(list); i++ {
		if list[i-1].File == list[i].File {
			return nil, fmt.Errorf("merging manifests: %s is given twice; pass each manifest once", list[i].File)
		}
	}
	inv := &Inventory{Unremovable: map[string]FileRecord{}}
	latest := map[string]FileRecord{}
	type acc struct {
		g     Group
		paths map[string]bool
	}
	groups := map[string]*acc{}
	for _, m := range list {
		inv.Manifests = append(inv.Manifests, m.File)
		for _, mg := range m.Groups {
			a := groups[mg.Name]
			if a == nil {
				a = &acc{g: Group{Name: mg.Name}, paths: map[string]bool{}}
				groups[mg.Name] = a
			}
			a.g.Description, a.g.Optional = mg.Description, mg.Optional
			for _, f := range mg.Files {
				a.paths[f.Path] = true
				latest[f.Path] = f
			}
			a.g.LineEdits = append(a.g.LineEdits, mg.LineEdits...)
		}
		for _, f := range m.Unremovable {
			inv.Unremovable[f.Path] = f
			latest[f.Path] = f
		}
	}
	for _, a := range groups {
		for p := range a.paths {
			a.g.Files = append(a.g.Files, latest[p])
		}
		sort.Slice(a.g.Files, func(i, j int) bool { return a.g.Files[i].Path < a.g.Files[j].Path })
		inv.Groups = append(inv.Groups, a.g)
	}
	for p := range inv.Unremovable {
		inv.Unremovable[p] = latest[p]
	}
	sort.Slice(inv.Groups, func(i, j int) bool { return inv.Groups[i].Name < inv.Groups[j].Name })
	return inv, nil
}
