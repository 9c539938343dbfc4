package otopi

import (
	"testing"
)

func TestMergeFollowsOtopi(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		base  Env
		want  Env
	}{
		{
			name: "an override in a later file beats a default in an earlier one",
			files: []string{
				"[environment:default]\nA=bool:False\nB=str:kept\n",
				"[environment:override]\nA=bool:True\n",
			},
			want: Env{"A": Bool(true), "B": Str("kept")},
		},
		{
			name: "an override in an earlier file beats a default in a later one",
			files: []string{
				"[environment:override]\nA=bool:True\n",
				"[environment:default]\nA=bool:False\n",
			},
			want: Env{"A": Bool(true)},
		},
		{
			name: "a later file's default replaces an earlier file's default as in one ConfigParser",
			files: []string{
				"[environment:default]\nA=str:post-install\n",
				"[environment:default]\nA=str:answer-file\n",
			},
			want: Env{"A": Str("answer-file")},
		},
		{
			name: "a later file's override replaces an earlier file's override",
			files: []string{
				"[environment:override]\nA=int:1\n",
				"[environment:override]\nA=int:2\n",
			},
			want: Env{"A": Int(2)},
		},
		{
			name: "init beats default and override beats init and enforce beats all",
			files: []string{
				"[environment:enforce]\nD=int:4\n[environment:override]\nC=int:3\nD=int:3\n" +
					"[environment:init]\nB=int:2\nC=int:2\nD=int:2\n" +
					"[environment:default]\nA=int:1\nB=int:1\nC=int:1\nD=int:1\n",
			},
			want: Env{"A": Int(1), "B": Int(2), "C": Int(3), "D": Int(4)},
		},
		{
			name: "defaults do not replace what the base already holds but overrides do",
			files: []string{
				"[environment:default]\nA=str:file\nC=str:file\n[environment:override]\nB=str:file\n",
			},
			base: Env{"A": Str("base"), "B": Str("base")},
			want: Env{"A": Str("base"), "B": Str("file"), "C": Str("file")},
		},
		{
			name:  "no files give the base back",
			files: nil,
			base:  Env{"A": Int(1)},
			want:  Env{"A": Int(1)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var files []*File
			for i, text := range tt.files {
				files = append(files, mustParse(t, "f"+string(rune('1'+i))+".conf", text))
			}
			files = append(files, nil) // skipped
			got := MergeOnto(tt.base, files...)
			if !envEqual(got, tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestMergeKeepsTheWinnersOrigin(t *testing.T) {
	a := mustParse(t, "a.conf", "[environment:default]\nA=int:1\n")
	b := mustParse(t, "b.conf", "\n[environment:override]\nA=int:2\n")
	v := Merge(a, b)["A"]
	if v.File != "b.conf" || v.Line != 3 {
		t.Errorf("A came from %s:%d, want b.conf:3", v.File, v.Line)
	}
}

func TestMergeDoesNotAliasItsInputs(t *testing.T) {
	f := mustParse(t, "a.conf", "[environment:default]\nA=multi-str:x\n y\n")
	base := Env{"B": Int(1)}
	env := MergeOnto(base, f)
	env["A"].Lines[0] = "changed"
	env["C"] = Int(3)
	if f.Entries[0].Value.Lines[0] != "x" {
		t.Error("changing the merged env changed the file")
	}
	if _, ok := base["C"]; ok || len(base) != 1 {
		t.Error("MergeOnto modified its base")
	}
}

func TestValueString(t *testing.T) {
	tests := []struct {
		name string
		v    Value
		want string
	}{
		{"none reads none:None as otopi writes it", None(), "none:None"},
		{"true reads bool:True", Bool(true), "bool:True"},
		{"false reads bool:False", Bool(false), "bool:False"},
		{"a negative int reads in decimal", Int(-42), "int:-42"},
		{"a str is kept as is, percent signs included", Str("100% sure"), "str:100% sure"},
		{"a multi-str joins its lines with newlines", MultiStr("a", "b"), "multi-str:a\nb"},
		{"an empty multi-str has nothing after the colon", MultiStr(), "multi-str:"},
		{"an unknown type shows its name", Value{Type: "object"}, "object:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.v.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValueEqual(t *testing.T) {
	tests := []struct {
		name string
		a, b Value
		want bool
	}{
		{"values from different places are equal", Value{Type: TypeInt, Int: 1, File: "a", Line: 2}, Int(1), true},
		{"fields of another type are ignored", Value{Type: TypeBool, Bool: true, Str: "x"}, Bool(true), true},
		{"different types differ", Str("1"), Int(1), false},
		{"different bools differ", Bool(true), Bool(false), false},
		{"different strs differ", Str("a"), Str("b"), false},
		{"multi-strs with different lines differ", MultiStr("a", "b"), MultiStr("a"), false},
		{"a nil and an empty multi-str are equal", Value{Type: TypeMultiStr}, MultiStr(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Equal(tt.b); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEnvAccessorsCheckTheType(t *testing.T) {
	env := Env{"B": Bool(true), "I": Int(7), "S": Str("x"), "N": None()}
	if v, ok := env.Bool("B"); !v || !ok {
		t.Error("Bool(B) failed")
	}
	if v, ok := env.Int("I"); v != 7 || !ok {
		t.Error("Int(I) failed")
	}
	if v, ok := env.Str("S"); v != "x" || !ok {
		t.Error("Str(S) failed")
	}
	for _, k := range []string{"I", "N", "missing"} {
		if _, ok := env.Bool(k); ok {
			t.Errorf("Bool(%s) reported ok", k)
		}
	}
	if _, ok := env.Int("S"); ok {
		t.Error("Int(S) reported ok")
	}
	if _, ok := env.Str("N"); ok {
		t.Error("Str(N) reported ok")
	}
}
