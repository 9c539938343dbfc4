package otopi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Write writes env as an environment file: header as comment lines, then
// [environment:default] and one KEY=type:value line per key, sorted by key.
// An empty header writes no comment. File permissions are the caller's
// business (answer files may hold passwords: 0600).
//
// Write refuses a value that would not read back identically rather than
// write a file that means something else: a str containing a line break
// (use multi-str), surrounding whitespace where ConfigParser strips it,
// multi-str lines that ConfigParser would take for comments or drop, control
// characters, invalid UTF-8, an unknown type, an invalid key, and output
// beyond the parser's limits. Nothing is written when it fails, so Parse
// accepts whatever Write wrote and Merge of it equals env.
func Write(w io.Writer, header string, env Env) error {
	var b bytes.Buffer
	if header != "" {
		for _, line := range strings.Split(header, "\n") {
			if msg := checkText([]byte(line)); msg != "" {
				return fmt.Errorf("header: %s", msg)
			}
			if line == "" {
				b.WriteString("#\n")
				continue
			}
			if len(line)+2 > MaxLineSize {
				return fmt.Errorf("header: line is longer than %d bytes", MaxLineSize)
			}
			b.WriteString("# " + line + "\n")
		}
	}
	b.WriteString("[environment:default]\n")
	for _, key := range slices.Sorted(maps.Keys(env)) {
		if !validKey(key) {
			return fmt.Errorf("invalid key %s: want letters, digits and _ / . -", quote(key))
		}
		lines, err := encode(env[key])
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		lines[0] = key + "=" + lines[0]
		for _, l := range lines {
			if len(l) > MaxLineSize {
				return fmt.Errorf("%s: line would be longer than %d bytes", key, MaxLineSize)
			}
			b.WriteString(l + "\n")
		}
	}
	if b.Len() > MaxFileSize {
		return fmt.Errorf("output is %w", ErrTooLarge)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// encode returns the lines of v's text after "KEY=".
func encode(v Value) ([]string, error) {
	switch v.Type {
	case TypeNone:
		return []string{"none:None"}, nil
	case TypeBool:
		return []string{v.String()}, nil
	case TypeInt:
		return []string{"int:" + strconv.FormatInt(v.Int, 10)}, nil
	case TypeStr:
		if strings.ContainsAny(v.Str, "\r\n") {
			return nil, errors.New("str value contains a line break; use multi-str")
		}
		if err := checkValue(v.Str, false); err != nil {
			return nil, fmt.Errorf("str value %w", err)
		}
		return []string{"str:" + escape(v.Str)}, nil
	case TypeMultiStr:
		lines := []string{"multi-str:"}
		for i, l := range v.Lines {
			if strings.ContainsAny(l, "\r\n") {
				return nil, fmt.Errorf("multi-str line %d contains a line break", i+1)
			}
			if err := checkValue(l, i > 0); err != nil {
				return nil, fmt.Errorf("multi-str line %d %w", i+1, err)
			}
			if i > 0 && (strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";")) {
				return nil, fmt.Errorf("multi-str line %d starts with %q, which ConfigParser would take for a comment", i+1, l[:1])
			}
			switch {
			case i == 0:
				lines[0] += escape(l)
			case l == "":
				// ConfigParser keeps blank lines inside a value.
				lines = append(lines, "")
			default:
				lines = append(lines, " "+escape(l))
			}
		}
		if n := len(v.Lines); n > 0 && v.Lines[n-1] == "" {
			return nil, fmt.Errorf("multi-str line %d is empty, and ConfigParser drops trailing empty lines", n)
		}
		return lines, nil
	case "":
		return nil, errors.New("value has no type")
	}
	return nil, fmt.Errorf("type %s cannot be written (want none, bool, int, str or multi-str)", quote(string(v.Type)))
}

// checkValue returns an error, to follow "str value" or "multi-str line N",
// if s would not survive a round trip through a file.
func checkValue(s string, continuation bool) error {
	if msg := checkText([]byte(s)); msg != "" {
		return errors.New("contains " + msg)
	}
	if r, _ := utf8.DecodeLastRuneInString(s); s != "" && isSpace(r) {
		return errors.New("ends with whitespace, which ConfigParser strips")
	}
	if r, _ := utf8.DecodeRuneInString(s); continuation && s != "" && isSpace(r) {
		return errors.New("starts with whitespace, which ConfigParser strips on continuation lines")
	}
	return nil
}

func escape(s string) string { return strings.ReplaceAll(s, "%", "%%") }
