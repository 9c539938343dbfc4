package records

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

type line struct {
	n    int // 1-based
	text string
}

// newlineMode says how a format's own reader splits lines, so that line
// numbers in our errors match what oVirt would report.
type newlineMode int

const (
	// universalNewlines is Python 3 text mode and Java's readLine: \n,
	// \r\n and a lone \r each end a line.
	universalNewlines newlineMode = iota
	// unixNewlines is libpq reading .pgpass: only \n ends a line, and one
	// trailing \r is dropped.
	unixNewlines
)

// readLines reads a whole record and splits it into checked lines.
func readLines(file string, r io.Reader, mode newlineMode) ([]line, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxRecordSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	if len(data) > MaxRecordSize {
		return nil, &SyntaxError{File: file, Msg: fmt.Sprintf(
			"larger than %d bytes, far more than engine-setup ever writes; check whether the file is really an oVirt record", MaxRecordSize),
			Err: ErrTooLarge}
	}
	var lines []line
	for n := 1; len(data) > 0; n++ {
		var text []byte
		switch mode {
		case universalNewlines:
			i := bytes.IndexAny(data, "\r\n")
			if i < 0 {
				text, data = data, nil
				break
			}
			text = data[:i]
			if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
				data = data[i+2:]
			} else {
				data = data[i+1:]
			}
		case unixNewlines:
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				text, data = data, nil
			} else {
				text, data = data[:i], data[i+1:]
			}
			text = bytes.TrimSuffix(text, []byte{'\r'})
		}
		if err := checkLine(file, n, text); err != nil {
			return nil, err
		}
		lines = append(lines, line{n: n, text: string(text)})
	}
	return lines, nil
}

func checkLine(file string, n int, text []byte) error {
	if len(text) > MaxLineLength {
		return &SyntaxError{File: file, Line: n, Err: ErrLineTooLong, Msg: fmt.Sprintf(
			"line longer than %d bytes, which engine-setup never writes; the file is damaged or not an oVirt record", MaxLineLength)}
	}
	if bytes.IndexByte(text, 0) >= 0 {
		return &SyntaxError{File: file, Line: n, Err: ErrNUL, Msg: "NUL byte in a text record; the file is damaged or not an oVirt record"}
	}
	if !utf8.Valid(text) {
		return &SyntaxError{File: file, Line: n, Err: ErrInvalidUTF8, Msg: "invalid UTF-8; engine-setup writes UTF-8, so the file is damaged or was edited with another encoding"}
	}
	return nil
}

// isJavaSpace is \s of java.util.regex (and of the engine's config reader).
func isJavaSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\x0b' || c == '\f' || c == '\r'
}

func isWordChar(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// safeText shows text read from a record as is when that is harmless, and
// quoted (escaping control characters a terminal would obey) when not.
func safeText(s string) string {
	if len(s) <= 120 && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return s
	}
	return quoteShort(s)
}

func quoteShort(s string) string {
	const max = 80
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return fmt.Sprintf("%q", s)
}
