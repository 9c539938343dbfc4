package ovirthost

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// setupRun is one engine-setup run: the files it wrote, in the uninstall
// groups it registered, and the manifest it leaves at the end.
type setupRun struct {
	st      *state
	version version
	ts      string // YYYYmmddHHMMSS of the run
	// algo is md5 before oVirt 4.3 (commit d396388, December 2018).
	algo hashAlgo
	// contentOnly: 3.3.0 recorded an added line as line.N.content and
	// could not record removed lines.
	contentOnly bool

	// release is the rpm release of the packages the run locked.
	release string

	modified    []string // otopi's MODIFIED_FILES: group core
	unremovable []string
	groups      []*fileGroup // in registration order
	backups     []string     // <file>.<ts> copies left by this run
	// hashes are the digests the manifest records, by path.
	hashes map[string]hash
	// unrecorded is the group of files the run writes without registering
	// them for uninstall (ssl.conf: only its lines are recorded).
	unrecorded *fileGroup
}

type fileGroup struct {
	name, description string
	optional          bool
	files             []string
	lines             map[string][]lineChange
}

type lineChange struct {
	added, removed string
	hasAdded       bool
	hasRemoved     bool
}

func added(s string) lineChange { return lineChange{added: s, hasAdded: true} }
func replaced(newL, oldL string) lineChange {
	return lineChange{added: newL, removed: oldL, hasAdded: true, hasRemoved: true}
}

func newRun(st *state, v version, ts string) *setupRun {
	r := &setupRun{st: st, version: v, ts: ts, algo: algoMD5, release: "1", hashes: map[string]hash{}, unrecorded: &fileGroup{}}
	if v.atLeast(4, 3) {
		r.algo = algoSHA256
	}
	r.contentOnly = v == version{3, 3, 0}
	return r
}

// group is RegisterGroups.createGroup: the first registration wins.
func (r *setupRun) group(name, description string, optional bool) *fileGroup {
	for _, g := range r.groups {
		if g.name == name {
			return g
		}
	}
	g := &fileGroup{name: name, description: description, optional: optional, lines: map[string][]lineChange{}}
	r.groups = append(r.groups, g)
	return g
}

// write is otopi's FileTransaction (otopi/filetransaction.py): same
// content, nothing happens and nothing is recorded; otherwise an existing
// file is first copied to <file>.<ts> and keeps its mode unless enforce is
// set. The file is recorded in g, or in core when g is nil. It reports
// whether the file changed.
func (r *setupRun) write(p string, content []byte, mode fs.FileMode, enforce bool, g *fileGroup) bool {
	if old, ok := r.st.files[p]; ok && old.link == "" {
		if bytes.Equal(old.data, content) {
			return false
		}
		backup := p + "." + r.ts
		r.st.put(backup, old.data, old.mode)
		r.backups = append(r.backups, backup)
		if !enforce {
			mode = old.mode
		}
	}
	r.st.put(p, content, mode)
	r.record(p, g)
	return true
}

// writeText is write for text content, which FileTransaction ends with a
// newline.
func (r *setupRun) writeText(p, content string, mode fs.FileMode, enforce bool, g *fileGroup) bool {
	if !strings.HasSuffix(content, "\n") {
		content += "\n"
	}
	return r.write(p, []byte(content), mode, enforce, g)
}

// writeLines is FileTransaction with a list of lines.
func (r *setupRun) writeLines(p string, lines []string, mode fs.FileMode, enforce bool, g *fileGroup) bool {
	content := strings.Join(lines, "\n")
	if len(lines) > 0 {
		content += "\n"
	}
	return r.write(p, []byte(content), mode, enforce, g)
}

func (r *setupRun) record(p string, g *fileGroup) {
	if g == r.unrecorded {
		return
	}
	if g == nil {
		r.modified = append(r.modified, p)
		return
	}
	g.files = append(g.files, p)
}

// lines is RegisterGroups.addChanges.
func (g *fileGroup) addLines(file string, changes ...lineChange) {
	g.lines[file] = append(g.lines[file], changes...)
}

// manifest renders the run's manifest as uninstall.py's _cleanup builds it
// with configparser (optionxform=str) and writes it: sections in the
// order they are added (core, unremovable, the file groups, then the line
// groups not added yet), "key = value" lines and a blank line after each
// section. Files are sorted and de-duplicated, indexed before the check
// that they exist, and hashed as they are now. It returns nil for an empty
// manifest, which uninstall.py does not write.
func (r *setupRun) manifest() []byte {
	type section struct {
		name string
		kv   [][2]string
	}
	var sections []*section
	byName := map[string]*section{}
	add := func(name, description string, optional bool) *section {
		if s, ok := byName[name]; ok {
			return s
		}
		s := &section{name: name, kv: [][2]string{{"description", description}, {"optional", pyBool(optional)}}}
		sections = append(sections, s)
		byName[name] = s
		return s
	}
	addFiles := func(s *section, files []string) {
		sorted := slices.Clone(files)
		slices.Sort(sorted)
		sorted = slices.Compact(sorted)
		for i, name := range sorted {
			data, ok := r.st.get(name)
			if !ok {
				continue
			}
			prefix := fmt.Sprintf("file.%03d", i)
			sum := digest(r.algo, data)
			s.kv = append(s.kv, [2]string{prefix + ".name", name}, [2]string{prefix + "." + string(r.algo), sum})
			r.hashes[name] = hash{Algo: r.algo, Hex: sum}
		}
	}
	addChanges := func(s *section, changes map[string][]lineChange) {
		files := make([]string, 0, len(changes))
		for f := range changes {
			files = append(files, f)
		}
		slices.Sort(files)
		for fi, file := range files {
			list := changes[file]
			if r.contentOnly {
				// 3.3.0: sorted(set(...)) of the added lines.
				var lines []string
				for _, c := range list {
					if c.hasAdded {
						lines = append(lines, c.added)
					}
				}
				slices.Sort(lines)
				lines = slices.Compact(lines)
				for li, l := range lines {
					if !r.st.exists(file) {
						continue
					}
					prefix := fmt.Sprintf("line.%03d%03d", fi, li)
					s.kv = append(s.kv, [2]string{prefix + ".name", file}, [2]string{prefix + ".content", l})
				}
				continue
			}
			for li, c := range list {
				if !r.st.exists(file) {
					continue
				}
				prefix := fmt.Sprintf("line.%03d%03d", fi, li)
				s.kv = append(s.kv, [2]string{prefix + ".name", file})
				if c.hasAdded {
					s.kv = append(s.kv, [2]string{prefix + ".content.added", c.added})
				}
				if c.hasRemoved {
					s.kv = append(s.kv, [2]string{prefix + ".content.removed", c.removed})
				}
			}
		}
	}

	if len(r.modified) > 0 {
		addFiles(add(fileGroupPrefix+"core", "Core files", false), r.modified)
	}
	if len(r.unremovable) > 0 {
		addFiles(add(unremovableSection, "Unremovable files", false), r.unremovable)
	}
	for _, g := range r.groups {
		if len(g.files) > 0 {
			addFiles(add(fileGroupPrefix+g.name, g.description, g.optional), g.files)
		}
	}
	for _, g := range r.groups {
		if len(g.lines) > 0 {
			addChanges(add(fileGroupPrefix+g.name, g.description, g.optional), g.lines)
		}
	}
	if len(sections) == 0 {
		return nil
	}
	var b strings.Builder
	for _, s := range sections {
		fmt.Fprintf(&b, "[%s]\n", s.name)
		for _, kv := range s.kv {
			if strings.ContainsAny(kv[1], "\n%") {
				// configparser would continue the value on a tab-indented
				// line or refuse the %; nothing Build records has either.
				panic(fmt.Sprintf("ovirthost: manifest value %q of %s cannot be written", kv[1], kv[0]))
			}
			fmt.Fprintf(&b, "%s = %s\n", kv[0], kv[1])
		}
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// finish writes the run's manifest into the uninstall directory and
// returns its path ("" if the run recorded nothing).
func (r *setupRun) finish() string {
	m := r.manifest()
	if m == nil {
		return ""
	}
	p := path.Join(pathUninstallDir, r.ts+"-uninstall.conf")
	r.st.put(p, m, 0o644)
	return p
}

// pyBool is Python's str(bool).
func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}
