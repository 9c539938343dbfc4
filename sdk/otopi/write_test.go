package otopi

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWriteProducesTheCanonicalFile(t *testing.T) {
	env := Env{
		"OVESETUP_CORE/remove":     Bool(true),
		"DIALOG/autoAcceptDefault": Bool(true),
		"OVESETUP_CORE/engineStop": Bool(false),
		"OVESETUP_CONFIG/fqdn":     Str("engine.example.com"),
		"OVESETUP_CONFIG/password": Str("100%"),
		"OVESETUP_CONFIG/fw":       None(),
		"OVESETUP_DB/port":         Int(5432),
		"OVESETUP_CORE/files":      MultiStr("/etc/a", "", "/etc/b"),
		"OVESETUP_CORE/empty":      MultiStr(),
	}
	var b bytes.Buffer
	if err := Write(&b, "answers of engine-cleanup\n\nrun 42", env); err != nil {
		t.Fatal(err)
	}
	want := "# answers of engine-cleanup\n#\n# run 42\n" +
		"[environment:default]\n" +
		"DIALOG/autoAcceptDefault=bool:True\n" +
		"OVESETUP_CONFIG/fqdn=str:engine.example.com\n" +
		"OVESETUP_CONFIG/fw=none:None\n" +
		"OVESETUP_CONFIG/password=str:100%%\n" +
		"OVESETUP_CORE/empty=multi-str:\n" +
		"OVESETUP_CORE/engineStop=bool:False\n" +
		"OVESETUP_CORE/files=multi-str:/etc/a\n\n /etc/b\n" +
		"OVESETUP_CORE/remove=bool:True\n" +
		"OVESETUP_DB/port=int:5432\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteWithoutHeaderWritesNoComment(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "", nil); err != nil {
		t.Fatal(err)
	}
	if b.String() != "[environment:default]\n" {
		t.Errorf("got %q", b.String())
	}
}

func TestWriteRefusesWhatWouldNotReadBack(t *testing.T) {
	tests := []struct {
		name   string
		header string
		env    Env
		msg    string
	}{
		{"a str with a newline", "", Env{"A": Str("a\nb")},
			"A: str value contains a line break; use multi-str"},
		{"a str ending with a space", "", Env{"A": Str("a ")},
			"A: str value ends with whitespace, which ConfigParser strips"},
		{"a str ending with an ideographic space", "", Env{"A": Str("a\u3000")},
			"A: str value ends with whitespace, which ConfigParser strips"},
		{"a str with a control character", "", Env{"A": Str("a\x1bb")},
			"A: str value contains control character U+001B"},
		{"a str with a NUL byte", "", Env{"A": Str("a\x00")},
			"A: str value contains NUL byte"},
		{"a str with invalid UTF-8", "", Env{"A": Str("\xff")},
			"A: str value contains invalid UTF-8"},
		{"a str too long for a line", "", Env{"A": Str(strings.Repeat("x", MaxLineSize))},
			"A: line would be longer than 65536 bytes"},
		{"a str that doubles past the line limit", "", Env{"A": Str(strings.Repeat("%", MaxLineSize/2))},
			"A: line would be longer than 65536 bytes"},
		{"a multi-str line starting with a space", "", Env{"A": MultiStr("a", " b")},
			"A: multi-str line 2 starts with whitespace, which ConfigParser strips on continuation lines"},
		{"a multi-str line ending with a tab", "", Env{"A": MultiStr("a\t", "b")},
			"A: multi-str line 1 ends with whitespace, which ConfigParser strips"},
		{"a multi-str line that would be a comment", "", Env{"A": MultiStr("a", "# b")},
			`A: multi-str line 2 starts with "#", which ConfigParser would take for a comment`},
		{"a multi-str line that would be a semicolon comment", "", Env{"A": MultiStr("a", ";b")},
			`A: multi-str line 2 starts with ";", which ConfigParser would take for a comment`},
		{"a multi-str ending with an empty line", "", Env{"A": MultiStr("a", "")},
			"A: multi-str line 2 is empty, and ConfigParser drops trailing empty lines"},
		{"a multi-str of one empty line", "", Env{"A": MultiStr("")},
			"A: multi-str line 1 is empty, and ConfigParser drops trailing empty lines"},
		{"a multi-str line with a newline", "", Env{"A": MultiStr("a\nb")},
			"A: multi-str line 1 contains a line break"},
		{"the object type", "", Env{"A": {Type: "object"}},
			`A: type "object" cannot be written (want none, bool, int, str or multi-str)`},
		{"a value without a type", "", Env{"A": {}},
			"A: value has no type"},
		{"a key with a space", "", Env{"A B": Int(1)},
			`invalid key "A B": want letters, digits and _ / . -`},
		{"an empty key", "", Env{"": Int(1)},
			`invalid key "": want letters, digits and _ / . -`},
		{"a header with a control character", "a\rb", nil,
			"header: control character U+000D"},
		{"output beyond the file limit", "", func() Env {
			env := Env{}
			for i := range 20 {
				env[strings.Repeat("K", i+1)] = Str(strings.Repeat("x", 60<<10))
			}
			return env
		}(), "output is larger than 1 MiB"},
	}
	for _, tt := range tests {
		t.Run("Write refuses "+tt.name, func(t *testing.T) {
			var b bytes.Buffer
			err := Write(&b, tt.header, tt.env)
			if err == nil || err.Error() != tt.msg {
				t.Errorf("got %v, want %q", err, tt.msg)
			}
			if b.Len() != 0 {
				t.Errorf("wrote %d bytes despite the error", b.Len())
			}
		})
	}
}

func TestWriteReturnsTheWritersError(t *testing.T) {
	cause := errors.New("disk full")
	if err := Write(failingWriter{cause}, "h", Env{"A": Int(1)}); !errors.Is(err, cause) {
		t.Errorf("got %v", err)
	}
}

func TestWriteThenParseGivesTheSameEnv(t *testing.T) {
	tests := []struct {
		name string
		env  Env
	}{
		{"an empty env", Env{}},
		{"the cleanup recipe", Env{
			"OVESETUP_CORE/remove":     Bool(true),
			"OVESETUP_CORE/engineStop": Bool(true),
			"DIALOG/autoAcceptDefault": Bool(true),
		}},
		{"every type", Env{
			"N": None(), "T": Bool(true), "F": Bool(false), "I": Int(-9223372036854775808),
			"S": Str("x"), "M": MultiStr("a", "b"),
		}},
		{"strs that need care", Env{
			"EMPTY": Str(""), "LEAD": Str("  lead"), "PCT": Str("%%(x)s %"), "HASH": Str("#not a comment"),
			"SEMI": Str(";x"), "EQ": Str("a=b:c"), "UNI": Str("é\u00a0x\u3000y"), "TAB": Str("a\tb"),
			"BRACKET": Str("[environment:override]"), "BOM": Str("\uFEFF"), "NONE": Str("None"),
		}},
		{"multi-strs that need care", Env{
			"EMPTY":   MultiStr(),
			"FIRST":   MultiStr("", "x"),
			"MIDDLE":  MultiStr("a", "", "", "b"),
			"LEAD":    MultiStr(" lead", "x"),
			"FIRSTCO": MultiStr("#first may look like a comment", "x"),
			"BRACKET": MultiStr("a", "[b]"),
			"PCT":     MultiStr("%", "%%"),
			"ONE":     MultiStr("only"),
		}},
		{"a str of exactly the longest line", Env{"A": Str(strings.Repeat("x", MaxLineSize-len("A=str:")))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, "round trip", tt.env); err != nil {
				t.Fatal(err)
			}
			f := mustParse(t, "rt.conf", b.String())
			if len(f.Warnings) != 0 {
				t.Errorf("warnings: %q", f.Warnings)
			}
			if got := Merge(f); !envEqual(got, tt.env) {
				t.Errorf("got %v\nwant %v\nfile:\n%s", got, tt.env, b.String())
			}
		})
	}
}
