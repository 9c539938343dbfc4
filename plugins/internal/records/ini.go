package records

import (
	"io"
	"strings"
	"unicode"
)

// The uninstall manifests are written and read by Python 3's configparser
// (ConfigParser with optionxform=str; 3.3 used its Python 2 backport). This
// reader follows its rules for what engine-setup writes, and is stricter
// where configparser would quietly accept a damaged file:
//
//   - a line whose stripped text starts with # or ; is a comment, wherever
//     it is, even between the lines of a multi-line value;
//   - [name] opens a section (the whole stripped line, not just a prefix);
//     a section may not appear twice;
//   - key = value or key : value, split at the first = or :, both sides
//     stripped, keys case-sensitive; a key may not appear twice in a
//     section;
//   - a line indented deeper than its option line continues the value; a
//     blank line inside a value is kept, trailing blank lines are not.

type iniOption struct {
	key   string
	value string
	line  int
}

type iniSection struct {
	name    string
	line    int
	options []iniOption
}

type iniReader struct {
	// implicitSection, when set, is the section of lines before any
	// header, for Java-properties files that oVirt reads with
	// configparser after prepending a header.
	implicitSection string
}

func (rd iniReader) read(file string, r io.Reader) ([]iniSection, error) {
	lines, err := readLines(file, r, universalNewlines)
	if err != nil {
		return nil, err
	}
	var (
		sections    []iniSection
		cur         *iniSection
		opt         *iniOption // the option a continuation line extends
		parts       []string   // of opt's value
		indentLevel int
		seenSection = map[string]int{}
		seenKey     = map[string]int{}
	)
	flush := func() {
		if opt != nil {
			opt.value = strings.TrimRightFunc(strings.Join(parts, "\n"), unicode.IsSpace)
			opt, parts = nil, nil
		}
	}
	if rd.implicitSection != "" {
		sections = append(sections, iniSection{name: rd.implicitSection})
		cur = &sections[0]
	}
	for _, ln := range lines {
		stripped := strings.TrimSpace(ln.text)
		if strings.HasPrefix(stripped, "#") || strings.HasPrefix(stripped, ";") {
			continue
		}
		if stripped == "" {
			if opt != nil {
				parts = append(parts, "")
			}
			continue
		}
		indent := strings.IndexFunc(ln.text, func(r rune) bool { return !unicode.IsSpace(r) })
		if opt != nil && indent > indentLevel {
			parts = append(parts, stripped)
			continue
		}
		flush()
		indentLevel = indent
		if strings.HasPrefix(stripped, "[") {
			if len(stripped) < 3 || !strings.HasSuffix(stripped, "]") {
				return nil, syntaxErr(file, ln.n, "malformed section header %s: expected [name] alone on the line", quoteShort(stripped))
			}
			name := stripped[1 : len(stripped)-1]
			if first, dup := seenSection[name]; dup {
				return nil, syntaxErr(file, ln.n, "section %s appears twice (first on line %d); the file is damaged: merge or remove one of them", "["+safeText(name)+"]", first)
			}
			seenSection[name] = ln.n
			clear(seenKey)
			// cur points into sections; re-take it after append.
			sections = append(sections, iniSection{name: name, line: ln.n})
			cur = &sections[len(sections)-1]
			continue
		}
		if cur == nil {
			return nil, syntaxErr(file, ln.n, "key before the first [section] header; the file is damaged or not a manifest")
		}
		i := strings.IndexAny(stripped, "=:")
		if i < 0 {
			return nil, syntaxErr(file, ln.n, "line is neither key = value, a [section] header, a comment, nor an indented continuation; fix or remove it")
		}
		key := strings.TrimRightFunc(stripped[:i], unicode.IsSpace)
		if key == "" {
			return nil, syntaxErr(file, ln.n, "empty key before %q; fix or remove the line", stripped[i:i+1])
		}
		if first, dup := seenKey[key]; dup {
			return nil, syntaxErr(file, ln.n, "%s appears twice in %s (first on line %d); the file is damaged: keep the right one and remove the other", safeText(key), "["+safeText(cur.name)+"]", first)
		}
		seenKey[key] = ln.n
		cur.options = append(cur.options, iniOption{key: key, line: ln.n})
		opt = &cur.options[len(cur.options)-1]
		parts = []string{strings.TrimSpace(stripped[i+1:])}
	}
	flush()
	return sections, nil
}
