package records

import (
	"fmt"
	"io"
	"strings"
)

// Legacy engine-setup (3.0 to 3.2) kept its database credentials in a
// marked block of a .pgpass file, other lines of which may belong to
// somebody else:
//
//	# This section was created during oVirt Engine setup.            (3.2)
//	# DO NOT CHANGE IT MANUALLY - OTHER UTILITIES AND TOOLS DEPEND ON ITS STRUCTURE.
//	# Beginning of the oVirt Engine DB settings section
//	# DB ADMIN credentials.
//	localhost:5432:*:postgres:secret
//	# DB USER credentials.
//	localhost:5432:*:engine:secret
//	#####  End of oVirt Engine DB settings section.
//
// 3.0 and 3.1 wrote /root/.pgpass with other markers and no role comments,
// the admin line first; 3.2's engine-upgrade copied that file unchanged to
// /etc/ovirt-engine/.pgpass. With a remote database, setup wrote a single
// line, under the user marker in 3.2.
//
// Lines are read with libpq's rules: fields separated by unescaped colons,
// \ escaping the next character, and the password being the rest of the
// line. Legacy setup wrote passwords without escaping, which libpq reads
// back unchanged unless the password holds a backslash.

// PgpassRole is what a legacy .pgpass line was for.
type PgpassRole int

const (
	PgpassRoleUnknown PgpassRole = iota // 3.0/3.1 format: no role comments
	PgpassRoleAdmin
	PgpassRoleUser
)

func (r PgpassRole) String() string {
	switch r {
	case PgpassRoleAdmin:
		return "admin"
	case PgpassRoleUser:
		return "user"
	}
	return "unknown"
}

// PgpassEntry is one credential line of the block.
type PgpassEntry struct {
	Host, Port, Database, User string // "*" is a wildcard, as in libpq
	// Password is the rest of the line after the fourth field, read with
	// libpq's escapes. Unlike libpq, an unescaped colon does not end it:
	// legacy setup wrote passwords unescaped and its own reader took the
	// rest of the line.
	Password Secret
	// AltPassword is the rest of the line taken literally, set only when
	// it differs from Password (the line holds a backslash). Legacy setup
	// did not escape, so for a line it wrote this is the password it was
	// given; try it when Password is rejected.
	AltPassword Secret
	Role        PgpassRole
	Line        int
}

// Pgpass is the engine block of a legacy .pgpass file.
type Pgpass struct {
	File       string
	Start, End int // lines of the markers
	Entries    []PgpassEntry
}

// Admin returns the administrator's line: the one under the admin marker,
// or else the first line, which is what legacy engine-setup read (with a
// remote database that is the only line).
func (p *Pgpass) Admin() PgpassEntry {
	for _, e := range p.Entries {
		if e.Role == PgpassRoleAdmin {
			return e
		}
	}
	return p.Entries[0]
}

// User returns the engine's own line: the one under the user marker, or
// else the last line (3.0/3.1 wrote the admin line, then the engine line).
func (p *Pgpass) User() PgpassEntry {
	for _, e := range p.Entries {
		if e.Role == PgpassRoleUser {
			return e
		}
	}
	return p.Entries[len(p.Entries)-1]
}

type pgpassMarkers struct {
	startPrefix, startSuffix string
	endPrefix, endSuffix     string
}

// pgpassFormats returns the block markers of each legacy release. The
// application name in them was a template variable, so they are matched
// around it rather than on "oVirt Engine".
func pgpassFormats() [2]pgpassMarkers {
	return [...]pgpassMarkers{
		{"# This section was created during ", " setup.", "#####  End of ", " DB settings section."},                // 3.2
		{"#####  ", " DB ADMIN settings section. Do not change!!", "#####  End of ", " DB ADMIN settings section."}, // 3.0, 3.1
	}
}

const (
	pgpassAdminMarker = "# DB ADMIN credentials."
	pgpassUserMarker  = "# DB USER credentials."
)

func isMarker(s, prefix, suffix string) bool {
	return len(s) > len(prefix)+len(suffix) && strings.HasPrefix(s, prefix) && strings.HasSuffix(s, suffix)
}

// ParsePgpass finds and reads the engine block of a legacy .pgpass file.
// A file without the block (legacy cleanup cuts it out) gives an error that
// wraps ErrNotConfigured. Error messages never quote a line of the file.
func ParsePgpass(path string, r io.Reader) (*Pgpass, error) {
	lines, err := readLines(path, r, unixNewlines)
	if err != nil {
		return nil, err
	}
	var (
		p       *Pgpass
		formats = pgpassFormats()
		format  = -1 // index into formats while inside the block
		role    PgpassRole
	)
	for _, ln := range lines {
		t := strings.TrimRight(ln.text, " \t")
		if format < 0 {
			for i, m := range formats {
				if isMarker(t, m.startPrefix, m.startSuffix) {
					if p != nil {
						return nil, syntaxErr(path, ln.n, "a second oVirt Engine section starts here (the first is on lines %d-%d); engine-setup writes one: remove the stale one", p.Start, p.End)
					}
					p, format, role = &Pgpass{File: path, Start: ln.n}, i, PgpassRoleUnknown
					break
				}
				if isMarker(t, m.endPrefix, m.endSuffix) {
					return nil, syntaxErr(path, ln.n, "end of an oVirt Engine section without its start; the file was edited: restore the start marker or remove the section")
				}
			}
			continue
		}
		m := formats[format]
		switch {
		case isMarker(t, m.endPrefix, m.endSuffix):
			if len(p.Entries) == 0 {
				return nil, syntaxErr(path, ln.n, "the oVirt Engine section (from line %d) has no credential line; restore the file from a backup or remove the empty section", p.Start)
			}
			p.End, format = ln.n, -1
		case t == pgpassAdminMarker:
			role = PgpassRoleAdmin
		case t == pgpassUserMarker:
			role = PgpassRoleUser
		case t == "" || strings.HasPrefix(t, "#"):
			for _, o := range formats {
				if isMarker(t, o.startPrefix, o.startSuffix) {
					return nil, syntaxErr(path, ln.n, "an oVirt Engine section starts inside the one from line %d, which is not terminated; the file was edited: remove the stale start", p.Start)
				}
			}
		default:
			e, err := parsePgpassLine(ln.text)
			if err != nil {
				return nil, syntaxErr(path, ln.n, "%v; correct the line or restore the file from a backup", err)
			}
			e.Role, e.Line = role, ln.n
			p.Entries = append(p.Entries, e)
		}
	}
	if format >= 0 {
		return nil, syntaxErr(path, p.Start, "the oVirt Engine section starting here has no end marker (%s…%s); the file was truncated or edited: restore it",
			formats[format].endPrefix, formats[format].endSuffix)
	}
	if p == nil {
		return nil, fmt.Errorf("%s: no oVirt Engine section: %w", path, ErrNotConfigured)
	}
	return p, nil
}

// parsePgpassLine splits host:port:database:user:password with libpq's
// escaping. Its errors never include the line.
func parsePgpassLine(s string) (PgpassEntry, error) {
	var fields [4]string
	var b strings.Builder
	n, i := 0, 0
	for ; i < len(s) && n < 4; i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == ':':
			fields[n] = b.String()
			b.Reset()
			n++
		default:
			b.WriteByte(c)
		}
	}
	if n < 4 {
		return PgpassEntry{}, fmt.Errorf("credential line has %d of the 5 colon-separated fields host:port:database:user:password", n+1)
	}
	b.Reset()
	rest := s[i:]
	for ; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	e := PgpassEntry{Host: fields[0], Port: fields[1], Database: fields[2], User: fields[3], Password: Secret(b.String())}
	if rest != b.String() {
		e.AltPassword = Secret(rest)
	}
	for _, f := range []struct{ name, v string }{{"host", e.Host}, {"port", e.Port}, {"database", e.Database}, {"user", e.User}} {
		if f.v == "" {
			return PgpassEntry{}, fmt.Errorf("credential line has an empty %s field", f.name)
		}
	}
	if e.Port != "*" {
		if _, err := parsePort(e.Port); err != nil {
			return PgpassEntry{}, fmt.Errorf("port field %v", err)
		}
	}
	return e, nil
}
