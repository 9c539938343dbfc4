package otopi

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// envEqual compares environments by content, ignoring where values were read.
func envEqual(a, b Env) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !v.Equal(w) {
			return false
		}
	}
	return true
}

func mustParse(t *testing.T, name, text string) *File {
	t.Helper()
	f, err := Parse(name, strings.NewReader(text))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

func TestParseReadsValidFiles(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Env
	}{
		{
			name: "the cleanup recipe reads as three true bools",
			text: "[environment:default]\n" +
				"OVESETUP_CORE/remove=bool:True\n" +
				"OVESETUP_CORE/engineStop=bool:True\n" +
				"DIALOG/autoAcceptDefault=bool:True\n",
			want: Env{
				"OVESETUP_CORE/remove":     Bool(true),
				"OVESETUP_CORE/engineStop": Bool(true),
				"DIALOG/autoAcceptDefault": Bool(true),
			},
		},
		{
			name: "none reads as none whether written None or empty",
			text: "[environment:default]\nA=none:None\nB=none:\n",
			want: Env{"A": None(), "B": None()},
		},
		{
			name: "the four spellings otopi reads as false are false",
			text: "[environment:default]\nA=bool:False\nB=bool:false\nC=bool:F\nD=bool:f\n",
			want: Env{"A": Bool(false), "B": Bool(false), "C": Bool(false), "D": Bool(false)},
		},
		{
			name: "true may be spelled in any case as true t yes y or 1",
			text: "[environment:default]\nA=bool:True\nB=bool:TRUE\nC=bool:t\nD=bool:Yes\nE=bool:y\nF=bool:1\n",
			want: Env{"A": Bool(true), "B": Bool(true), "C": Bool(true), "D": Bool(true), "E": Bool(true), "F": Bool(true)},
		},
		{
			name: "ints take a sign leading zeros and the int64 range",
			text: "[environment:default]\nA=int:3\nB=int:-5\nC=int:+7\nD=int:007\n" +
				"E=int:9223372036854775807\nF=int:-9223372036854775808\nG=int: 4\n",
			want: Env{"A": Int(3), "B": Int(-5), "C": Int(7), "D": Int(7),
				"E": Int(9223372036854775807), "F": Int(-9223372036854775808), "G": Int(4)},
		},
		{
			name: "a str keeps everything after the type including leading spaces",
			text: "[environment:default]\nA=str:engine.example.com\nB=str:\nC=str: lead\nD=str:a # not a comment\nE=str:k=v:w\n",
			want: Env{"A": Str("engine.example.com"), "B": Str(""), "C": Str(" lead"),
				"D": Str("a # not a comment"), "E": Str("k=v:w")},
		},
		{
			name: "trailing whitespace is stripped as ConfigParser strips it",
			text: "[environment:default]\nA=str:x \t\nB=bool:True  \n",
			want: Env{"A": Str("x"), "B": Bool(true)},
		},
		{
			name: "a doubled percent sign reads as one",
			text: "[environment:default]\nA=str:100%%\nB=str:%%(x)s\n",
			want: Env{"A": Str("100%"), "B": Str("%(x)s")},
		},
		{
			name: "comments blank lines and spaces around the equals sign are allowed",
			text: "# written by hand\n\n; another comment\n[environment:default]\n" +
				"  # indented comment\nA = str:x\nB\t=\tbool:False\n\n",
			want: Env{"A": Str("x"), "B": Bool(false)},
		},
		{
			name: "keys keep their case",
			text: "[environment:default]\nkey=int:1\nKEY=int:2\n",
			want: Env{"key": Int(1), "KEY": Int(2)},
		},
		{
			name: "windows line endings and a missing final newline are accepted",
			text: "[environment:default]\r\nA=str:x\r\nB=int:2",
			want: Env{"A": Str("x"), "B": Int(2)},
		},
		{
			name: "a multi-str continues on indented lines",
			text: "[environment:default]\nA=multi-str:one\n two\n\tthree\nB=str:after\n",
			want: Env{"A": MultiStr("one", "two", "three"), "B": Str("after")},
		},
		{
			name: "a multi-str may start with an empty line",
			text: "[environment:default]\nA=multi-str:\n one\n two\n",
			want: Env{"A": MultiStr("", "one", "two")},
		},
		{
			name: "a multi-str alone is an empty list",
			text: "[environment:default]\nA=multi-str:\n\n",
			want: Env{"A": MultiStr()},
		},
		{
			name: "blank lines inside a multi-str are kept and trailing ones dropped",
			text: "[environment:default]\nA=multi-str:one\n\n two\n\n\nB=int:1\n",
			want: Env{"A": MultiStr("one", "", "two"), "B": Int(1)},
		},
		{
			name: "a comment inside a multi-str is skipped without ending it",
			text: "[environment:default]\nA=multi-str:one\n# note\n two\n",
			want: Env{"A": MultiStr("one", "two")},
		},
		{
			name: "an indented bracket line continues a multi-str instead of opening a section",
			text: "[environment:default]\nA=multi-str:one\n [two]\n",
			want: Env{"A": MultiStr("one", "[two]")},
		},
		{
			name: "a line is a continuation only if indented deeper than its key line",
			text: "[environment:default]\n  A=multi-str:x\n   y\n B=str:z\n\tC=int:1\n",
			want: Env{"A": MultiStr("x", "y"), "B": Str("z"), "C": Int(1)},
		},
		{
			name: "other sections are ignored whatever their content",
			text: "[environment:default]\nA=int:1\n[other]\nB: anything at all\n  continued\nC=\n" +
				"[environment:default]\nD=int:2\n",
			want: Env{"A": Int(1), "D": Int(2)},
		},
		{
			name: "a key repeated in a section keeps the last value",
			text: "[environment:default]\nA=bool:False\nA=bool:True\n",
			want: Env{"A": Bool(true)},
		},
		{
			name: "an empty file is an empty environment",
			text: "",
			want: Env{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Merge(mustParse(t, "answers.conf", tt.text))
			if !envEqual(got, tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestParseKeepsSectionsAndOrigins(t *testing.T) {
	f := mustParse(t, "a.conf", "# c\n[environment:default]\nA=int:1\n[environment:init]\nA=int:2\n"+
		"[environment:override]\nB=str:x\n[environment:enforce]\nC=none:None\n[other]\nD=int:4\n")
	want := []Entry{
		{SectionDefault, "A", Value{Type: TypeInt, Int: 1, File: "a.conf", Line: 3}},
		{SectionInit, "A", Value{Type: TypeInt, Int: 2, File: "a.conf", Line: 5}},
		{SectionOverride, "B", Value{Type: TypeStr, Str: "x", File: "a.conf", Line: 7}},
		{SectionEnforce, "C", Value{Type: TypeNone, File: "a.conf", Line: 9}},
	}
	if len(f.Entries) != len(want) {
		t.Fatalf("got %d entries %v, want %d", len(f.Entries), f.Entries, len(want))
	}
	for i, e := range f.Entries {
		w := want[i]
		if e.Section != w.Section || e.Key != w.Key || !e.Value.Equal(w.Value) ||
			e.Value.File != w.Value.File || e.Value.Line != w.Value.Line {
			t.Errorf("entry %d: got %+v, want %+v", i, e, w)
		}
	}
	if f.Path != "a.conf" || len(f.Warnings) != 0 {
		t.Errorf("got path %q warnings %q", f.Path, f.Warnings)
	}
}

func TestParseWarnsAboutWhatOtopiWouldReject(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{
			name: "a repeated key is reported with both lines",
			text: "[environment:default]\nA=bool:False\nB=int:1\nA=bool:True\n",
			want: []string{"w.conf:4: A repeats the key at line 2 in [environment:default]; the last value wins, otopi would reject the file"},
		},
		{
			name: "every repetition of a key points at its first line",
			text: "[environment:default]\nA=int:1\nA=int:2\nA=int:3\n",
			want: []string{
				"w.conf:3: A repeats the key at line 2 in [environment:default]; the last value wins, otopi would reject the file",
				"w.conf:4: A repeats the key at line 2 in [environment:default]; the last value wins, otopi would reject the file",
			},
		},
		{
			name: "a repeated key in an ignored section is reported too",
			text: "[other]\nA=1\nA=2\n",
			want: []string{"w.conf:3: A repeats the key at line 2 in [other]; the last value wins, otopi would reject the file"},
		},
		{
			name: "a repeated key that otopi would not read is quoted",
			text: "[other]\nmy key=1\nmy key:2\n",
			want: []string{`w.conf:3: "my key" repeats the key at line 2 in [other]; the last value wins, otopi would reject the file`},
		},
		{
			name: "a repeated section is reported",
			text: "[environment:default]\nA=int:1\n[environment:default]\nB=int:2\n",
			want: []string{"w.conf:3: section [environment:default] repeats the one at line 1; otopi would reject the file"},
		},
		{
			name: "a misspelt environment section is reported as ignored",
			text: "[environment:defaults]\nA=int:1\n",
			want: []string{"w.conf:1: section [environment:defaults] is not read by otopi and is ignored"},
		},
		{
			name: "a file otopi accepts has no warning",
			text: "[environment:default]\nA=int:1\n[environment:override]\nA=int:2\n[other]\nx=y\n",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, "w.conf", tt.text)
			if strings.Join(f.Warnings, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got warnings\n%q\nwant\n%q", f.Warnings, tt.want)
			}
		})
	}
}

func TestParseReportsErrorsAtFileAndLine(t *testing.T) {
	const head = "[environment:default]\n"
	tests := []struct {
		name string
		text string
		line int
		msg  string
	}{
		{"a value without a type is refused", head + "A=True\n",
			2, `A: value must be written type:value, e.g. bool:True`},
		{"an unknown type is named", head + "# c\nA=boolean:True\n",
			3, `A: unknown type "boolean" (want none, bool, int, str or multi-str)`},
		{"types are case-sensitive", head + "A=Bool:True\n",
			2, `A: unknown type "Bool" (want none, bool, int, str or multi-str)`},
		{"the object type is refused", head + "A=object:x\n",
			2, `A: type object is not supported in answer files`},
		{"a bool that is no word for true or false is refused", head + "A=bool:maybe\n",
			2, `A: invalid bool "maybe" (want True or False)`},
		{"a bool otopi would misread as true is refused", head + "A=bool:no\n",
			2, `A: bool "no" is ambiguous: otopi reads it as True; write True or False`},
		{"bool zero is refused because otopi reads it as true", head + "A=bool:0\n",
			2, `A: bool "0" is ambiguous: otopi reads it as True; write True or False`},
		{"an empty bool is refused because otopi reads it as true", head + "A=bool:\n",
			2, `A: bool "" is ambiguous: otopi reads it as True; write True or False`},
		{"a non-decimal int is refused", head + "A=int:0x10\n",
			2, `A: invalid int "0x10"`},
		{"an int with underscores is refused", head + "A=int:1_000\n",
			2, `A: invalid int "1_000"`},
		{"an int beyond int64 is refused", head + "A=int:9223372036854775808\n",
			2, `A: int "9223372036854775808" is out of range`},
		{"none with a value is refused", head + "A=none:x\n",
			2, `A: none takes no value, found "x" (write none:None)`},
		{"a key without an equals sign is refused", head + "OVESETUP_CORE/remove\n",
			2, `missing "=": want KEY=type:value`},
		{"a key followed by a colon is refused", head + "A: bool:True\n",
			2, `key "A" must be followed by "=": want KEY=type:value`},
		{"a line without a key is refused", head + "=str:x\n",
			2, `missing key before "="`},
		{"a line without a key in an ignored section is refused", "[other]\n: x\n",
			2, `missing key before ":"`},
		{"a key with a space is refused", head + "MY KEY=str:x\n",
			2, `invalid key "MY KEY": want letters, digits and _ / . -`},
		{"a lone percent sign is refused", head + "A=str:100%\n",
			2, `A: a literal % must be written %%, as otopi expands % in values`},
		{"interpolation is refused", head + "A=str:%(B)s\n",
			2, `A: %(name)s interpolation is not supported; write %% for a literal %`},
		{"a lone percent sign in a multi-str continuation is refused at its line", head + "A=multi-str:x\n y\n 5%\n",
			4, `A: a literal % must be written %%, as otopi expands % in values`},
		{"a garbage line outside a section is refused", "OVESETUP_CORE/remove=bool:True\n",
			1, `line is outside any section; answer files start with [environment:default]`},
		{"a garbage line in an ignored section is refused", "[other]\nnot an assignment\n",
			2, `missing "=": want KEY=type:value`},
		{"an unclosed section header is refused", "\n[environment:default\n",
			2, `malformed section header "[environment:default": want [name] alone on the line`},
		{"text after a section header is refused", "[environment:default] # c\n",
			1, `malformed section header "[environment:default] # c": want [name] alone on the line`},
		{"an empty section header is refused", "[]\n",
			1, `malformed section header "[]": want [name] alone on the line`},
		{"spaces inside the brackets are refused", "[ environment:default ]\n",
			1, `malformed section header "[ environment:default ]": spaces inside the brackets are part of the name`},
		{"the DEFAULT section is refused", "[DEFAULT]\n",
			1, `section [DEFAULT] is not supported: ConfigParser would copy its keys into every section`},
		{"an indented line after a str is refused", head + "A=str:x\n  B=str:y\n",
			3, `indented line continues the value of A, but only multi-str values may span lines`},
		{"a NUL byte is refused", head + "A=str:a\x00b\n",
			2, `NUL byte`},
		{"a NUL byte in a comment is refused", "# \x00\n",
			1, `NUL byte`},
		{"invalid UTF-8 is refused", head + "A=int:1\nB=str:\xff\n",
			3, `invalid UTF-8`},
		{"a control character is refused", head + "A=str:a\x1bb\n",
			2, `control character U+001B`},
		{"a lone carriage return is refused", head + "A=str:a\rB=str:b\n",
			2, `control character U+000D`},
		{"a Unicode line separator is refused", head + "A=str:a\u2028b\n",
			2, `control character U+2028`},
		{"a byte order mark is refused", "\uFEFF[environment:default]\n",
			1, `byte order mark at start of file`},
		{"an oversized line is refused", head + "A=int:1\n# " + strings.Repeat("x", MaxLineSize-1) + "\n",
			3, `line is longer than 65536 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("/etc/answers.conf", strings.NewReader(tt.text))
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", f)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %T %v, want *SyntaxError", err, err)
			}
			if se.File != "/etc/answers.conf" || se.Line != tt.line || se.Msg != tt.msg {
				t.Errorf("got %+v, want line %d msg %q", se, tt.line, tt.msg)
			}
			if want := "/etc/answers.conf:" + strconv.Itoa(tt.line) + ": " + tt.msg; err.Error() != want {
				t.Errorf("got %q\nwant %q", err.Error(), want)
			}
		})
	}
}

func TestParseAcceptsALineOfExactlyTheLimit(t *testing.T) {
	text := "[environment:default]\nA=str:" + strings.Repeat("x", MaxLineSize-len("A=str:")) + "\n"
	f := mustParse(t, "a.conf", text)
	if v, _ := Merge(f).Str("A"); len(v) != MaxLineSize-len("A=str:") {
		t.Errorf("got a str of %d bytes", len(v))
	}
}

func TestParseRefusesFilesLargerThanTheLimit(t *testing.T) {
	fill := func(n int) string {
		line := "# " + strings.Repeat("x", 1021) + "\n" // 1 KiB
		s := strings.Repeat(line, n/len(line))
		return s + strings.Repeat("#", n-len(s))
	}
	t.Run("a file of exactly the limit is accepted", func(t *testing.T) {
		mustParse(t, "big.conf", fill(MaxFileSize))
	})
	t.Run("a file one byte over the limit is refused naming the file", func(t *testing.T) {
		_, err := Parse("big.conf", strings.NewReader(fill(MaxFileSize+1)))
		if !errors.Is(err, ErrTooLarge) || err.Error() != "big.conf: file is larger than 1 MiB" {
			t.Errorf("got %v", err)
		}
	})
	t.Run("ReadFile refuses a large file naming it", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "big.conf")
		if err := os.WriteFile(path, []byte(fill(2*MaxFileSize)), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := ReadFile(path)
		if !errors.Is(err, ErrTooLarge) || err.Error() != path+": file is larger than 1 MiB" {
			t.Errorf("got %v", err)
		}
	})
}

func TestParseWrapsReadErrors(t *testing.T) {
	cause := errors.New("disk on fire")
	_, err := Parse("a.conf", io.MultiReader(strings.NewReader("[environment:default]\n"), iotest.ErrReader(cause)))
	if !errors.Is(err, cause) || err.Error() != "read a.conf: disk on fire" {
		t.Errorf("got %v", err)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	t.Run("the post-install file of engine-setup reads as written", func(t *testing.T) {
		path := filepath.Join(dir, "20-setup-ovirt-post.conf")
		text := "[environment:default]\n" +
			"OVESETUP_CORE/generatedByVersion=str:4.5.6\n" +
			"OVESETUP_ENGINE_CORE/enable=bool:True\n" +
			"OVESETUP_CONFIG/fqdn=str:engine.example.com\n" +
			"OVESETUP_DWH_CORE/enable=bool:False\n" +
			"OVESETUP_CONFIG/firewallManager=none:None\n"
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		env := Merge(f)
		want := Env{
			"OVESETUP_CORE/generatedByVersion": Str("4.5.6"),
			"OVESETUP_ENGINE_CORE/enable":      Bool(true),
			"OVESETUP_CONFIG/fqdn":             Str("engine.example.com"),
			"OVESETUP_DWH_CORE/enable":         Bool(false),
			"OVESETUP_CONFIG/firewallManager":  None(),
		}
		if !envEqual(env, want) {
			t.Errorf("got %v\nwant %v", env, want)
		}
		if v := env["OVESETUP_CONFIG/fqdn"]; v.File != path || v.Line != 4 {
			t.Errorf("fqdn read from %s:%d, want %s:4", v.File, v.Line, path)
		}
		if on, ok := env.Bool("OVESETUP_DWH_CORE/enable"); !ok || on {
			t.Errorf("Bool(dwh enable) = %v, %v; want false, true", on, ok)
		}
		if fqdn, ok := env.Str("OVESETUP_CONFIG/fqdn"); !ok || fqdn != "engine.example.com" {
			t.Errorf("Str(fqdn) = %q, %v", fqdn, ok)
		}
		if _, ok := env.Str("OVESETUP_CONFIG/firewallManager"); ok {
			t.Error("Str of a none value reported ok")
		}
	})
	t.Run("a syntax error names the path it was read from", func(t *testing.T) {
		path := filepath.Join(dir, "bad.conf")
		if err := os.WriteFile(path, []byte("[environment:default]\nA=bool:maybe\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := ReadFile(path)
		if err == nil || err.Error() != path+`:2: A: invalid bool "maybe" (want True or False)` {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a missing file is an error naming it", func(t *testing.T) {
		path := filepath.Join(dir, "missing.conf")
		_, err := ReadFile(path)
		if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a directory is an error naming it", func(t *testing.T) {
		_, err := ReadFile(dir)
		if err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("got %v", err)
		}
	})
}
