package libvirt

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

// recordedDomain is one line of RecordFile.
type recordedDomain struct {
	UUID string // canonical: lowercase, 8-4-4-4-12
	Name string // "" when the line gives none
	Line int
}

// domainRecord is RecordFile as read from the host.
type domainRecord struct {
	// Path is where the file is, under the root, to show.
	Path    string
	Domains []recordedDomain
}

// readRecord reads RecordFile under root. It returns nil and no error when
// the file does not exist, and a *records.SyntaxError naming the file and
// line when it exists but cannot be trusted.
func readRecord(root string) (*domainRecord, error) {
	shown, err := records.Resolve(root, RecordFile)
	if err != nil {
		return nil, err
	}
	data, err := records.ReadRecord(root, RecordFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	doms, err := parseRecord(shown, data)
	if err != nil {
		return nil, err
	}
	return &domainRecord{Path: shown, Domains: doms}, nil
}

// parseRecord parses the content of RecordFile, shown as file in errors.
//
// The format is line-based UTF-8 text. Blank lines and lines whose first
// non-blank character is # are ignored. Every other line is a UUID in its
// canonical 36-character form (case does not matter), optionally followed
// by blanks and the domain's name, which runs to the end of the line
// (trailing blanks are dropped). A UUID or a name may appear only once.
// Anything else is refused, with the line: the record decides which
// domains are destroyed, so a damaged one is not guessed at.
func parseRecord(file string, data []byte) ([]recordedDomain, error) {
	if len(data) > records.MaxRecordSize {
		return nil, &records.SyntaxError{File: file, Err: records.ErrTooLarge, Msg: fmt.Sprintf(
			"larger than %d bytes; a list of domains is far smaller, so the file is damaged or not this record", records.MaxRecordSize)}
	}
	var out []recordedDomain
	byUUID := map[string]int{}
	byName := map[string]int{}
	for n, raw := range bytes.Split(data, []byte("\n")) {
		line := n + 1
		raw = bytes.TrimSuffix(raw, []byte("\r"))
		if err := checkRecordLine(file, line, raw); err != nil {
			return nil, err
		}
		text := strings.TrimSpace(string(raw))
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		id, name := text, ""
		if i := strings.IndexAny(text, " \t"); i >= 0 {
			id, name = text[:i], strings.TrimSpace(text[i+1:])
		}
		uuid, ok := canonicalUUID(id)
		if !ok {
			return nil, &records.SyntaxError{File: file, Line: line, Msg: fmt.Sprintf(
				"%s is not a domain UUID such as 6695eb01-f6a4-8304-79aa-97f2502e193f; each line is a UUID, then optionally the domain's name",
				quote(id))}
		}
		if name != "" {
			if msg := badName(name); msg != "" {
				return nil, &records.SyntaxError{File: file, Line: line, Msg: fmt.Sprintf("domain name %s %s", quote(name), msg)}
			}
		}
		if prev, dup := byUUID[uuid]; dup {
			return nil, &records.SyntaxError{File: file, Line: line, Msg: fmt.Sprintf(
				"UUID %s is already listed on line %d; remove one of the two lines", uuid, prev)}
		}
		if prev, dup := byName[name]; dup && name != "" {
			return nil, &records.SyntaxError{File: file, Line: line, Msg: fmt.Sprintf(
				"domain name %s is already listed on line %d with another UUID; a name belongs to one domain, so correct one of the two lines",
				quote(name), prev)}
		}
		if len(out) == MaxRecordDomains {
			return nil, &records.SyntaxError{File: file, Line: line, Msg: fmt.Sprintf(
				"more than %d domains; the file is damaged or not this record", MaxRecordDomains)}
		}
		byUUID[uuid] = line
		if name != "" {
			byName[name] = line
		}
		out = append(out, recordedDomain{UUID: uuid, Name: name, Line: line})
	}
	return out, nil
}

func checkRecordLine(file string, line int, raw []byte) error {
	switch {
	case len(raw) > records.MaxLineLength:
		return &records.SyntaxError{File: file, Line: line, Err: records.ErrLineTooLong, Msg: fmt.Sprintf(
			"line longer than %d bytes; the file is damaged or not this record", records.MaxLineLength)}
	case bytes.IndexByte(raw, 0) >= 0:
		return &records.SyntaxError{File: file, Line: line, Err: records.ErrNUL,
			Msg: "NUL byte in a text record; the file is damaged or not this record"}
	case !utf8.Valid(raw):
		return &records.SyntaxError{File: file, Line: line, Err: records.ErrInvalidUTF8,
			Msg: "invalid UTF-8; the file is damaged or was written in another encoding"}
	}
	return nil
}

// badName says why libvirt could not have given a domain this name, or ""
// when it could have.
func badName(name string) string {
	switch {
	case strings.ContainsRune(name, '/'):
		return "contains /, which libvirt does not allow in a domain name"
	case strings.IndexFunc(name, func(r rune) bool { return unicode.IsControl(r) }) >= 0:
		return "contains a control character"
	case len(name) > 1024:
		return "is longer than 1024 bytes"
	}
	return ""
}

// canonicalUUID returns s in canonical form when it is a UUID written as
// 8-4-4-4-12 hexadecimal digits.
func canonicalUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return "", false
			}
		}
	}
	return strings.ToLower(s), true
}

// quote shows text read from a record or from libvirt safely: as is when
// it is short and printable, quoted otherwise.
func quote(s string) string {
	const max = 80
	if len(s) <= max && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 && s != "" {
		return s
	}
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return fmt.Sprintf("%q", s)
}

// plural counts things in words: "1 snapshot", "2 snapshots".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
