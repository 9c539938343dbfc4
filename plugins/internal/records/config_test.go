package records

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseInterpretsValuesLikeOVirt(t *testing.T) {
	tests := []struct {
		name  string
		input string
		key   string
		want  string
		line  int
	}{
		{"a plain value is taken as is", "A=b\n", "A", "b", 1},
		{"quotes are dropped and protect spaces", `A="b c"`, "A", "b c", 1},
		{"an unquoted space ends the value", "A=b c", "A", "b", 1},
		{"an unquoted hash ends the value", "A=b#c", "A", "b", 1},
		{"a quoted hash is kept", `A="b#c"`, "A", "b#c", 1},
		{"quoting can stop in the middle", `A="b "c d`, "A", "b c", 1},
		{"a backslash takes the next character literally", `A=\"b\ c\#d\$e`, "A", `"b c#d$e`, 1},
		{"a doubled backslash is one backslash", `A="a\\b"`, "A", `a\b`, 1},
		{"a trailing backslash vanishes", `A=b\`, "A", "b", 1},
		{"an unterminated quote runs to the end", `A="b c`, "A", "b c", 1},
		{"empty quotes give an empty value", `A=""`, "A", "", 1},
		{"nothing after = gives an empty value", "A=", "A", "", 1},
		{"a reference expands to an earlier value", "B=x\nA=<${B}>", "A", "<x>", 2},
		{"a reference expands inside quotes", "B=x\nA=\"${B} y\"", "A", "x y", 2},
		{"an unknown reference expands to nothing", "A=<${NOPE}>", "A", "<>", 1},
		{"a reference sees the previous value of its own key", "A=1\nA=${A}2", "A", "12", 2},
		{"the last assignment wins", "A=1\nA=2\n", "A", "2", 2},
		{"leading blanks before the key are allowed", " \tA=b", "A", "b", 1},
		{"comments and blank lines are skipped", "# c\n   # indented\n\n \t \nA=b", "A", "b", 5},
		{"a CRLF line does not keep the CR", "X=1\r\nA=b\r\n", "A", "b", 2},
		{"a lone CR ends a line as in Python and Java", "X=1\rA=b", "A", "b", 2},
		{"tabs are kept in a value", "A=a\tb", "A", "a\tb", 1},
		{"UTF-8 in a value is kept", `A="pässwörd ✓"`, "A", "pässwörd ✓", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("test.conf", strings.NewReader(tt.input))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, line, ok := cfg.Get(tt.key)
			if !ok || got != tt.want || line != tt.line {
				t.Errorf("Get(%q) = %q, line %d, %v; want %q, line %d", tt.key, got, line, ok, tt.want, tt.line)
			}
		})
	}
}

func TestParseRejectsWhatOVirtRejects(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		line    int
		msg     string
		wantErr error
	}{
		{"a line that is not KEY=value", "A=1\ngarbage\n", 2, "invalid syntax", nil},
		{"a space before the equals sign", "A =1", 1, "invalid syntax", nil},
		{"a dash in the key", "A-B=1", 1, "invalid syntax", nil},
		{"a non-ASCII key", "Ä=1", 1, "invalid syntax", nil},
		{"export in front of the key", "export A=1", 1, "invalid syntax", nil},
		{"a dollar sign without braces", "A=\"pa$s\"", 1, `\$`, nil},
		{"a dollar sign at the end", "A=x$", 1, `\$`, nil},
		{"an unclosed reference", "A=${B", 1, "closing }", nil},
		{"a NUL byte", "A=1\nB=\x00\n", 2, "NUL", ErrNUL},
		{"invalid UTF-8", "A=1\n\nB=\xff\n", 3, "UTF-8", ErrInvalidUTF8},
		{"a line over 64 KiB", "A=1\nB=" + strings.Repeat("x", MaxLineLength) + "\n", 2, "longer", ErrLineTooLong},
		{"a file over 1 MiB", strings.Repeat("# padding\n", MaxRecordSize/10+1), 0, "larger", ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("/etc/x.conf", strings.NewReader(tt.input))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse error = %v, want a *SyntaxError", err)
			}
			if se.File != "/etc/x.conf" || se.Line != tt.line || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("error = %+v, want line %d and a message containing %q", se, tt.line, tt.msg)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantErr)
			}
		})
	}
}

func TestSyntaxErrorReadsAsFileColonLine(t *testing.T) {
	err := &SyntaxError{File: "/etc/a.conf", Line: 7, Msg: "broken"}
	if got, want := err.Error(), "/etc/a.conf:7: broken"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	err.Line = 0
	if got, want := err.Error(), "/etc/a.conf: broken"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestSyntaxErrorsNeverQuoteAConfigLine(t *testing.T) {
	for _, input := range []string{
		"ENGINE_DB_PASSWORD =hunter2secret",
		"ENGINE_DB_PASSWORD=\"hunter2$secret\"",
		"ENGINE_DB_PASSWORD=hunter2${secret",
	} {
		_, err := Parse("x.conf", strings.NewReader(input))
		if err == nil {
			t.Fatalf("Parse(%q) succeeded", input)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error %q quotes the line", err)
		}
	}
}

func TestParseLayeredLetsLaterFilesWinAndSeeEarlierValues(t *testing.T) {
	cfg, err := ParseLayered([]Layer{
		{"/usr/share/defaults.conf", strings.NewReader("ENGINE_DB_HOST=defaulthost\nENGINE_DB_PORT=5432\nDIR=/var\n")},
		{"/etc/engine.conf", strings.NewReader("")},
		{"/etc/engine.conf.d/10-setup-database.conf", strings.NewReader("ENGINE_DB_HOST=\"db.example.com\"\nLOG=\"${DIR}/log\"\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key, want string
		at        Location
	}{
		{"ENGINE_DB_HOST", "db.example.com", Location{"/etc/engine.conf.d/10-setup-database.conf", 1}},
		{"ENGINE_DB_PORT", "5432", Location{"/usr/share/defaults.conf", 2}},
		{"LOG", "/var/log", Location{"/etc/engine.conf.d/10-setup-database.conf", 2}},
	} {
		got, at, ok := cfg.Lookup(c.key)
		if !ok || got != c.want || at != c.at {
			t.Errorf("Lookup(%q) = %q, %v, %v; want %q, %v", c.key, got, at, ok, c.want, c.at)
		}
	}
	if got := cfg.Files(); len(got) != 3 {
		t.Errorf("Files() = %q, want the three layers", got)
	}
	if got, want := strings.Join(cfg.Keys(), ","), "DIR,ENGINE_DB_HOST,ENGINE_DB_PORT,LOG"; got != want {
		t.Errorf("Keys() = %s, want %s", got, want)
	}
}

func TestParseLayeredStopsAtTheFirstBrokenFile(t *testing.T) {
	_, err := ParseLayered([]Layer{
		{"/a.conf", strings.NewReader("A=1\n")},
		{"/b.conf", strings.NewReader("A=1\nbroken\n")},
	})
	if err == nil || !strings.HasPrefix(err.Error(), "/b.conf:2: ") {
		t.Errorf("error = %v, want one at /b.conf:2", err)
	}
}

func TestConfigNeverPrintsItsValues(t *testing.T) {
	cfg, err := Parse("/etc/x.conf", strings.NewReader(`ENGINE_DB_PASSWORD="s3cr3t-value"`))
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		for _, v := range []any{cfg, *cfg} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, "s3cr3t") || strings.Contains(out, fmt.Sprintf("%x", "s3cr3t")) {
				t.Errorf("Sprintf(%s) = %s, which shows the password", verb, out)
			}
		}
	}
}
