package records

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pgpass32Local is what 3.2's engine-setup wrote for a local database,
// between an administrator's own lines.
const pgpass32Local = `# my own entries
*:*:reporting:analyst:an4lyst
# This section was created during oVirt Engine setup.
# DO NOT CHANGE IT MANUALLY - OTHER UTILITIES AND TOOLS DEPEND ON ITS STRUCTURE.
# Beginning of the oVirt Engine DB settings section
# DB ADMIN credentials.
localhost:5432:*:postgres:s3cret
# DB USER credentials.
localhost:5432:*:engine:s3cret
#####  End of oVirt Engine DB settings section.
otherhost:5432:*:me:mine
`

// pgpass32Remote is 3.2 with a remote database: one line, under the user
// marker.
const pgpass32Remote = `# This section was created during oVirt Engine setup.
# DO NOT CHANGE IT MANUALLY - OTHER UTILITIES AND TOOLS DEPEND ON ITS STRUCTURE.
# Beginning of the oVirt Engine DB settings section
# DB ADMIN credentials.
# DB USER credentials.
db.example.com:5433:*:engine_admin:r3mote
#####  End of oVirt Engine DB settings section.
`

// pgpass31 is what 3.0 and 3.1 wrote to /root/.pgpass, and what 3.2's
// engine-upgrade copied to /etc/ovirt-engine/.pgpass.
const pgpass31 = `#####  oVirt-engine DB ADMIN settings section. Do not change!!
localhost:5432:*:postgres:0ld
localhost:5432:engine:engine:0ld
#####  End of oVirt-engine DB ADMIN settings section.
`

func TestParsePgpassFindsTheEngineSectionOfEveryLegacyRelease(t *testing.T) {
	tests := []struct {
		name       string
		input      string
		start, end int
		entries    []PgpassEntry
		admin      string
		user       string
	}{
		{"3.2 with a local database", pgpass32Local, 3, 10, []PgpassEntry{
			{Host: "localhost", Port: "5432", Database: "*", User: "postgres", Password: "s3cret", Role: PgpassRoleAdmin, Line: 7},
			{Host: "localhost", Port: "5432", Database: "*", User: "engine", Password: "s3cret", Role: PgpassRoleUser, Line: 9},
		}, "postgres", "engine"},
		{"3.2 with a remote database", pgpass32Remote, 1, 7, []PgpassEntry{
			{Host: "db.example.com", Port: "5433", Database: "*", User: "engine_admin", Password: "r3mote", Role: PgpassRoleUser, Line: 6},
		}, "engine_admin", "engine_admin"},
		{"3.1 copied by the 3.2 upgrade", pgpass31, 1, 4, []PgpassEntry{
			{Host: "localhost", Port: "5432", Database: "*", User: "postgres", Password: "0ld", Line: 2},
			{Host: "localhost", Port: "5432", Database: "engine", User: "engine", Password: "0ld", Line: 3},
		}, "postgres", "engine"},
		{"a rebranded application name", strings.ReplaceAll(pgpass32Local, "oVirt Engine", "RHEV Manager"), 3, 10, nil, "postgres", "engine"},
		{"CRLF line ends", strings.ReplaceAll(pgpass31, "\n", "\r\n"), 1, 4, nil, "postgres", "engine"},
		{"trailing blanks after the markers", strings.ReplaceAll(pgpass32Remote, "section.\n", "section.  \n"), 1, 7, nil, "engine_admin", "engine_admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePgpass("/etc/ovirt-engine/.pgpass", strings.NewReader(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			if p.Start != tt.start || p.End != tt.end {
				t.Errorf("section on lines %d-%d, want %d-%d", p.Start, p.End, tt.start, tt.end)
			}
			if tt.entries != nil && fmt.Sprintf("%#v", p.Entries) != fmt.Sprintf("%#v", tt.entries) {
				t.Errorf("entries = %#v\nwant %#v", p.Entries, tt.entries)
			}
			for i, e := range tt.entries {
				if p.Entries[i].Password != e.Password {
					t.Errorf("entry %d password = %q, want %q", i, p.Entries[i].Password.Reveal(), e.Password.Reveal())
				}
			}
			if got := p.Admin().User; got != tt.admin {
				t.Errorf("Admin().User = %q, want %q", got, tt.admin)
			}
			if got := p.User().User; got != tt.user {
				t.Errorf("User().User = %q, want %q", got, tt.user)
			}
		})
	}
}

func TestParsePgpassReadsFieldsWithLibpqEscapes(t *testing.T) {
	tests := []struct {
		name           string
		line           string
		host, db, user string
		password, alt  string
	}{
		{"escaped colons and backslashes", `db\:1:5432:my\\db:us\:er:pa\:ss\\w`, "db:1", `my\db`, "us:er", `pa:ss\w`, `pa\:ss\\w`},
		{"an unescaped colon stays in the password", `h:5432:*:engine:a:b:c`, "h", "*", "engine", "a:b:c", ""},
		{"a raw backslash as legacy setup wrote it", `h:5432:*:engine:a\b`, "h", "*", "engine", "ab", `a\b`},
		{"a trailing backslash is kept", `h:5432:*:engine:ab\`, "h", "*", "engine", `ab\`, ""},
		{"an empty password", `h:5432:*:engine:`, "h", "*", "engine", "", ""},
		{"a wildcard port", `h:*:*:engine:x`, "h", "*", "engine", "x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := "# This section was created during oVirt Engine setup.\n# DB USER credentials.\n" + tt.line + "\n#####  End of oVirt Engine DB settings section.\n"
			p, err := ParsePgpass("x", strings.NewReader(input))
			if err != nil {
				t.Fatal(err)
			}
			e := p.User()
			if e.Host != tt.host || e.Database != tt.db || e.User != tt.user || e.Password.Reveal() != tt.password || e.AltPassword.Reveal() != tt.alt {
				t.Errorf("got host %q db %q user %q password %q alt %q", e.Host, e.Database, e.User, e.Password.Reveal(), e.AltPassword.Reveal())
			}
		})
	}
}

func TestParsePgpassRejectsDamagedSections(t *testing.T) {
	const start = "# This section was created during oVirt Engine setup.\n"
	const end = "#####  End of oVirt Engine DB settings section.\n"
	const entry = "localhost:5432:*:engine:hunter2\n"
	tests := []struct {
		name    string
		input   string
		line    int
		msg     string
		wantErr error
	}{
		{"a section without its end", "x\n" + start + entry, 2, "no end marker", nil},
		{"two sections", start + entry + end + start + entry + end, 4, "second", nil},
		{"a start inside a section", start + entry + start + entry + end, 3, "inside", nil},
		{"an end without a start", entry + end, 2, "without its start", nil},
		{"an empty section", start + "# DB USER credentials.\n" + end, 3, "no credential line", nil},
		{"a line with too few fields", start + "localhost:5432:hunter2\n" + end, 2, "3 of the 5", nil},
		{"a line with an empty user", start + "localhost:5432:*::hunter2\n" + end, 2, "empty user", nil},
		{"a port that is not a number", start + "localhost:54x:*:engine:hunter2\n" + end, 2, "port", nil},
		{"a NUL byte", start + "localhost:5432:*:engine:hun\x00ter2\n" + end, 2, "NUL", ErrNUL},
		{"invalid UTF-8", start + "localhost:5432:*:engine:\xfe\n" + end, 2, "UTF-8", ErrInvalidUTF8},
		{"an oversized file", strings.Repeat("#\n", MaxRecordSize), 0, "larger", ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePgpass("/etc/ovirt-engine/.pgpass", strings.NewReader(tt.input))
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line != tt.line || !strings.Contains(se.Msg, tt.msg) {
				t.Fatalf("error = %v, want a syntax error on line %d containing %q", err, tt.line, tt.msg)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestParsePgpassReportsAFileWithoutSectionAsNotConfigured(t *testing.T) {
	// Legacy engine-cleanup cuts the section out and leaves the rest.
	_, err := ParsePgpass("/etc/ovirt-engine/.pgpass", strings.NewReader("*:*:*:me:mine\n"))
	if !errors.Is(err, ErrNotConfigured) {
		t.Errorf("error = %v, want ErrNotConfigured", err)
	}
}

func TestPgpassEntriesNeverShowThePassword(t *testing.T) {
	p, err := ParsePgpass("x", strings.NewReader(pgpass32Local))
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d"} {
		if out := fmt.Sprintf(verb, p); strings.Contains(out, "s3cret") || strings.Contains(out, fmt.Sprintf("%x", "s3cret")) {
			t.Errorf("Sprintf(%s) = %s", verb, out)
		}
	}
}

func TestParsePgpassReadsARealFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".pgpass")
	writeFile(t, p, pgpass32Local)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ParsePgpass(p, f)
	if err != nil || got.File != p || len(got.Entries) != 2 {
		t.Errorf("ParsePgpass = %+v, %v", got, err)
	}
}
