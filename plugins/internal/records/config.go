package records

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Config is the result of reading one or more oVirt shell-like
// configuration files (engine.conf, its .d directory, 10-setup-*.conf) with
// the semantics of oVirt's own readers, ovirt_engine/configfile.py and the
// engine's Java ShellLikeConfd (formerly LocalConfig):
//
//   - a line is blank, a comment (optional blanks, then #), or
//     ^\s*(\w+)=(.*)$ with Java's ASCII \s and \w; anything else is an error;
//   - in the value, \ takes the next character literally, " toggles quoting
//     and is dropped, ${NAME} expands to the value NAME has so far (empty if
//     none), a $ not followed by {...} is an error, and an unquoted space or
//     # ends the value;
//   - a later assignment wins, also across files (ParseLayered).
//
// Config holds secrets in plain text; it prints only its file names and key
// count.
type Config struct {
	files   []string
	entries map[string]configEntry
}

type configEntry struct {
	value string
	raw   string // the text after '=', for recognising writer bugs
	at    Location
}

// Layer is one file of a layered configuration.
type Layer struct {
	Path string
	R    io.Reader
}

// Parse reads one configuration file. path is used only in errors and
// locations.
func Parse(path string, r io.Reader) (*Config, error) {
	return ParseLayered([]Layer{{Path: path, R: r}})
}

// ParseLayered reads files in load order: a later assignment overrides an
// earlier one, and ${NAME} sees the values of the files before it. Use
// ConfigLayerPaths for oVirt's order.
func ParseLayered(layers []Layer) (*Config, error) {
	c := &Config{entries: map[string]configEntry{}}
	for _, l := range layers {
		if err := c.load(l.Path, l.R); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Config) load(file string, r io.Reader) error {
	lines, err := readLines(file, r, universalNewlines)
	if err != nil {
		return err
	}
	c.files = append(c.files, file)
	for _, ln := range lines {
		key, raw, ok, err := splitConfigLine(ln.text)
		if err != nil {
			return &SyntaxError{File: file, Line: ln.n, Msg: err.Error()}
		}
		if !ok {
			continue
		}
		value, err := c.expand(raw)
		if err != nil {
			return &SyntaxError{File: file, Line: ln.n, Msg: fmt.Sprintf("value of %s: %v", key, err)}
		}
		c.entries[key] = configEntry{value: value, raw: raw, at: Location{file, ln.n}}
	}
	return nil
}

// splitConfigLine returns ok=false for blank and comment lines. Errors never
// quote the line: it may hold a password.
func splitConfigLine(s string) (key, raw string, ok bool, err error) {
	i := 0
	for i < len(s) && isJavaSpace(s[i]) {
		i++
	}
	if i == len(s) || s[i] == '#' {
		return "", "", false, nil
	}
	start := i
	for i < len(s) && isWordChar(s[i]) {
		i++
	}
	if i == start || i == len(s) || s[i] != '=' {
		return "", "", false, fmt.Errorf("invalid syntax: expected KEY=value (KEY of letters, digits and _, no space before =), a comment starting with #, or a blank line; fix or remove the line")
	}
	return s[start:i], s[i+1:], true, nil
}

// expand interprets a raw value as oVirt's readers do.
func (c *Config) expand(raw string) (string, error) {
	var b strings.Builder
	inQuotes := false
	for i := 0; i < len(raw); i++ {
		ch := raw[i]
		switch ch {
		case '\\':
			// A trailing backslash escapes nothing and vanishes, as in oVirt.
			if i+1 < len(raw) {
				i++
				b.WriteByte(raw[i])
			}
		case '$':
			if i+1 >= len(raw) || raw[i+1] != '{' {
				return "", fmt.Errorf("$ not followed by {NAME}; write a literal dollar sign as \\$ (oVirt 4.0 and later wrote $ in passwords unescaped, which its own reader rejects too)")
			}
			end := strings.IndexByte(raw[i+2:], '}')
			if end < 0 {
				return "", fmt.Errorf("${ without a closing }; close the reference or write the dollar sign as \\$")
			}
			name := raw[i+2 : i+2+end]
			b.WriteString(c.entries[name].value)
			i += 2 + end
		case '"':
			inQuotes = !inQuotes
		case ' ', '#':
			if !inQuotes {
				return b.String(), nil
			}
			b.WriteByte(ch)
		default:
			b.WriteByte(ch)
		}
	}
	return b.String(), nil
}

// Get returns the value of key and the line that set it last.
func (c *Config) Get(key string) (value string, line int, ok bool) {
	e, ok := c.entries[key]
	return e.value, e.at.Line, ok
}

// Lookup is Get with the file as well, for layered configurations.
func (c *Config) Lookup(key string) (value string, at Location, ok bool) {
	e, ok := c.entries[key]
	return e.value, e.at, ok
}

// Keys returns the keys set, sorted.
func (c *Config) Keys() []string {
	keys := make([]string, 0, len(c.entries))
	for k := range c.entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Files returns the files read, in load order.
func (c *Config) Files() []string { return append([]string(nil), c.files...) }

// String and Format have value receivers so that a copied Config does not
// print its values either.
func (c Config) String() string {
	return fmt.Sprintf("records.Config{files: %q, keys: %d}", c.files, len(c.entries))
}

// Format keeps every verb, %#v included, from printing the values, which
// include passwords.
func (c Config) Format(f fmt.State, verb rune) { fmt.Fprint(f, c.String()) }

// raw returns the unexpanded text of key's last assignment.
func (c *Config) raw(key string) string { return c.entries[key].raw }
