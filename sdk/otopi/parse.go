package otopi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SyntaxError reports what is wrong at a line of a file.
type SyntaxError struct {
	File string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string {
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
}

// ErrTooLarge is wrapped by the errors for files, and by Write for output,
// larger than MaxFileSize.
var ErrTooLarge = errors.New("larger than 1 MiB")

// ReadFile reads and parses the file at path.
func ReadFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The limit also protects against paths like /dev/zero.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err // os errors already name the file
	}
	return parse(path, data)
}

// Parse parses an environment file read from r; path names it in errors and
// warnings. It reads at most MaxFileSize+1 bytes from r.
func Parse(path string, r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return parse(path, data)
}

// parser mirrors the state of ConfigParser._read, because which line
// continues which value depends on it.
type parser struct {
	file        *File
	lineNo      int
	inSection   bool
	section     Section // "" in a section otopi does not read
	sectionName string
	// indentLevel is the indentation, in characters, of the last key line or
	// header; a deeper line continues the current value.
	indentLevel int
	cur         *current
	sections    map[string]int    // header line of each section seen
	keyLines    map[[2]string]int // line of each section name and key seen
	entries     map[entryKey]int  // index in file.Entries
}

// current is the key whose value may still continue on following lines.
type current struct {
	entry  int // index in file.Entries; -1 in an ignored section
	blanks int // blank lines since the last piece of the value
}

type entryKey struct {
	section Section
	key     string
}

func parse(path string, data []byte) (*File, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: file is %w", path, ErrTooLarge)
	}
	p := &parser{
		file:     &File{Path: path},
		sections: map[string]int{},
		keyLines: map[[2]string]int{},
		entries:  map[entryKey]int{},
	}
	if bytes.HasPrefix(data, []byte("\uFEFF")) {
		// Python keeps the mark as a character, so otopi finds no section
		// header on the first line.
		p.lineNo = 1
		return nil, p.errorf("byte order mark at start of file")
	}
	for len(data) > 0 {
		p.lineNo++
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if err := p.line(line); err != nil {
			return nil, err
		}
	}
	for i := range p.file.Entries {
		v := &p.file.Entries[i].Value
		// A value that is only "multi-str:" is an empty list to Python's
		// splitlines, not a list holding one empty line.
		if v.Type == TypeMultiStr && len(v.Lines) == 1 && v.Lines[0] == "" {
			v.Lines = nil
		}
	}
	return p.file, nil
}

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{File: p.file.Path, Line: p.lineNo, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) warnf(format string, args ...any) {
	p.file.Warnings = append(p.file.Warnings,
		(&SyntaxError{File: p.file.Path, Line: p.lineNo, Msg: fmt.Sprintf(format, args...)}).Error())
}

func (p *parser) line(raw []byte) error {
	if len(raw) > MaxLineSize {
		return p.errorf("line is longer than %d bytes", MaxLineSize)
	}
	if msg := checkText(raw); msg != "" {
		return p.errorf("%s", msg)
	}
	line := string(raw)
	text := strings.TrimFunc(line, isSpace)
	if text == "" {
		if p.cur != nil {
			p.cur.blanks++
		}
		return nil
	}
	if text[0] == '#' || text[0] == ';' {
		// Comments neither end a value nor count as blank lines in it.
		return nil
	}
	indent := 0
	for _, r := range line {
		if !isSpace(r) {
			break
		}
		indent++
	}
	if p.cur != nil && indent > p.indentLevel {
		return p.continuation(text)
	}
	p.indentLevel = indent
	if text[0] == '[' {
		return p.header(text)
	}
	if !p.inSection {
		return p.errorf("line is outside any section; answer files start with [environment:default]")
	}
	return p.assignment(text)
}

func (p *parser) continuation(text string) error {
	if p.cur.entry < 0 {
		return nil
	}
	e := &p.file.Entries[p.cur.entry]
	if e.Value.Type != TypeMultiStr {
		return p.errorf("indented line continues the value of %s, but only multi-str values may span lines", e.Key)
	}
	text, err := p.unescape(e.Key, text)
	if err != nil {
		return err
	}
	for ; p.cur.blanks > 0; p.cur.blanks-- {
		e.Value.Lines = append(e.Value.Lines, "")
	}
	e.Value.Lines = append(e.Value.Lines, text)
	return nil
}

func (p *parser) header(text string) error {
	name, ok := strings.CutPrefix(text, "[")
	if ok {
		name, ok = strings.CutSuffix(name, "]")
	}
	if !ok || name == "" || strings.ContainsAny(name, "[]") {
		return p.errorf("malformed section header %s: want [name] alone on the line", quote(text))
	}
	if strings.TrimFunc(name, isSpace) != name {
		return p.errorf("malformed section header %s: spaces inside the brackets are part of the name", quote(text))
	}
	if name == "DEFAULT" {
		return p.errorf("section [DEFAULT] is not supported: ConfigParser would copy its keys into every section")
	}
	if first, seen := p.sections[name]; seen {
		p.warnf("section [%s] repeats the one at line %d; otopi would reject the file", name, first)
	} else {
		p.sections[name] = p.lineNo
	}
	p.inSection = true
	p.sectionName = name
	p.cur = nil
	p.section = ""
	switch name {
	case "environment:default":
		p.section = SectionDefault
	case "environment:init":
		p.section = SectionInit
	case "environment:override":
		p.section = SectionOverride
	case "environment:enforce":
		p.section = SectionEnforce
	default:
		if strings.HasPrefix(strings.ToLower(name), "environment") {
			p.warnf("section [%s] is not read by otopi and is ignored", name)
		}
	}
	return nil
}

func (p *parser) assignment(text string) error {
	// ConfigParser splits at the first "=" or ":".
	i := strings.IndexAny(text, "=:")
	if i < 0 {
		return p.errorf("missing \"=\": want KEY=type:value")
	}
	key := strings.TrimRightFunc(text[:i], isSpace)
	value := strings.TrimFunc(text[i+1:], isSpace)
	if key == "" {
		return p.errorf("missing key before \"%c\"", text[i])
	}
	// ConfigParser would fail on the repetition, whichever the section.
	if first, seen := p.keyLines[[2]string{p.sectionName, key}]; seen {
		name := key
		if !validKey(key) {
			name = quote(key) // keys of ignored sections are not checked
		}
		p.warnf("%s repeats the key at line %d in [%s]; the last value wins, otopi would reject the file",
			name, first, p.sectionName)
	} else {
		p.keyLines[[2]string{p.sectionName, key}] = p.lineNo
	}
	if p.section == "" {
		p.cur = &current{entry: -1}
		return nil
	}
	if text[i] == ':' {
		return p.errorf("key %s must be followed by \"=\": want KEY=type:value", quote(key))
	}
	if !validKey(key) {
		return p.errorf("invalid key %s: want letters, digits and _ / . -", quote(key))
	}
	value, err := p.unescape(key, value)
	if err != nil {
		return err
	}
	v, msg := parseTyped(value)
	if msg != "" {
		return p.errorf("%s: %s", key, msg)
	}
	v.File, v.Line = p.file.Path, p.lineNo
	ek := entryKey{p.section, key}
	idx, dup := p.entries[ek]
	if dup {
		p.file.Entries[idx].Value = v
	} else {
		idx = len(p.file.Entries)
		p.entries[ek] = idx
		p.file.Entries = append(p.file.Entries, Entry{Section: p.section, Key: key, Value: v})
	}
	p.cur = &current{entry: idx}
	return nil
}

// unescape undoes ConfigParser's BasicInterpolation, which otopi applies to
// the values of the sections it reads.
func (p *parser) unescape(key, s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		switch {
		case strings.HasPrefix(s[i:], "%%"):
			b.WriteByte('%')
			s = s[i+2:]
		case strings.HasPrefix(s[i:], "%("):
			return "", p.errorf("%s: %%(name)s interpolation is not supported; write %%%% for a literal %%", key)
		default:
			return "", p.errorf("%s: a literal %% must be written %%%%, as otopi expands %% in values", key)
		}
	}
}

// parseTyped does what otopi.common.parseTypedValue does, refusing the
// inputs whose meaning there would surprise a reader. It returns a message
// instead of an error so that the caller can add the key and the position.
func parseTyped(s string) (Value, string) {
	typ, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Value{}, "value must be written type:value, e.g. bool:True"
	}
	switch Type(typ) {
	case TypeNone:
		// otopi ignores the text; anything but None is likely a mistake.
		if rest != "" && rest != "None" {
			return Value{}, fmt.Sprintf("none takes no value, found %s (write none:None)", quote(rest))
		}
		return None(), ""
	case TypeBool:
		b, msg := parseBool(rest)
		if msg != "" {
			return Value{}, msg
		}
		return Bool(b), ""
	case TypeInt:
		return parseInt(rest)
	case TypeStr:
		return Str(rest), ""
	case TypeMultiStr:
		// Continuation lines are appended by the parser.
		return Value{Type: TypeMultiStr, Lines: []string{rest}}, ""
	case "object":
		return Value{}, "type object is not supported in answer files"
	}
	return Value{}, fmt.Sprintf("unknown type %s (want none, bool, int, str or multi-str)", quote(typ))
}

func parseBool(s string) (bool, string) {
	switch s {
	case "False", "false", "F", "f":
		return false, ""
	}
	switch strings.ToLower(s) {
	case "true", "t", "yes", "y", "1":
		return true, ""
	}
	switch strings.ToLower(strings.TrimFunc(s, isSpace)) {
	case "false", "f", "no", "n", "0", "off", "":
		// otopi treats every spelling but the four above as true.
		return false, fmt.Sprintf("bool %s is ambiguous: otopi reads it as True; write True or False", quote(s))
	}
	return false, fmt.Sprintf("invalid bool %s (want True or False)", quote(s))
}

func parseInt(s string) (Value, string) {
	// Python's int() ignores surrounding whitespace; it also takes "1_000"
	// and non-ASCII digits, which ParseInt rightly refuses.
	t := strings.TrimFunc(s, isSpace)
	i, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return Value{}, fmt.Sprintf("int %s is out of range", quote(s))
		}
		return Value{}, fmt.Sprintf("invalid int %s", quote(s))
	}
	return Int(i), ""
}

// checkText returns what makes a line unacceptable, or "". Control
// characters and Unicode line separators are refused because Python splits
// lines and strips values on several of them, where this parser would not.
func checkText(b []byte) string {
	if bytes.IndexByte(b, 0) >= 0 {
		return "NUL byte"
	}
	if !utf8.Valid(b) {
		return "invalid UTF-8"
	}
	for _, r := range string(b) {
		if r != '\t' && (unicode.IsControl(r) || r == '\u2028' || r == '\u2029') {
			return fmt.Sprintf("control character %U", r)
		}
	}
	return ""
}

// isSpace is Python's str.isspace, which ConfigParser's strip and \s use.
func isSpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '_' || c == '/' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// quote quotes s for a message, shortened: values can be long, and a
// misplaced password should not land whole in a log.
func quote(s string) string {
	const limit = 32
	if utf8.RuneCountInString(s) <= limit {
		return strconv.Quote(s)
	}
	n := 0
	for i := range s {
		if n == limit {
			return strconv.Quote(s[:i]) + "..."
		}
		n++
	}
	return strconv.Quote(s)
}
