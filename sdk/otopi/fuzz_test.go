package otopi

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, fails only with the errors it
// documents, and that whatever it reads, Write writes back so that Parse
// reads the same environment again.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"[environment:default]\nOVESETUP_CORE/remove=bool:True\nOVESETUP_CORE/engineStop=bool:True\nDIALOG/autoAcceptDefault=bool:True\n",
		"[environment:default]\nOVESETUP_CORE/generatedByVersion=str:4.5.6\nOVESETUP_ENGINE_CORE/enable=bool:True\n" +
			"OVESETUP_CONFIG/fqdn=str:engine.example.com\nOVESETUP_DWH_CORE/enable=bool:False\nOVESETUP_CONFIG/firewallManager=none:None\n",
		"# c\n[environment:init]\nA = int:-3\n[environment:override]\nA=str: x %% y\n[other]\nB: c\n",
		"[environment:default]\r\nA=multi-str:\r\n a\r\n\r\n\t b\r\n# c\r\n  [c]\r\nB=none:\r\n",
		"[environment:default]\nA=multi-str:x\n\u3000y\nA=bool:f\n[environment:enforce]\nQUESTION/1/X=str:\u00a0\n",
		"[environment:default]\n  A=str:x\n B=str:y\n   C=multi-str:z\n",
		"[environment:default]\nA=bool:no\n",
		"[DEFAULT]\nA=str:%(B)s\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.conf", bytes.NewReader(data))
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("undocumented error %T: %v", err, err)
			}
			if se != nil && (se.File != "fuzz.conf" || se.Line < 1 || se.Line > bytes.Count(data, []byte("\n"))+1) {
				t.Fatalf("error at an impossible position: %v", err)
			}
			return
		}
		for _, e := range file.Entries {
			if e.Value.File != "fuzz.conf" || e.Value.Line < 1 {
				t.Fatalf("entry %s without origin: %+v", e.Key, e.Value)
			}
		}
		env := Merge(file)
		var out bytes.Buffer
		if err := Write(&out, "fuzz", env); err != nil {
			// Canonical spellings are longer than some accepted ones
			// ("bool:1" is written "bool:True"), so only size may fail.
			if errors.Is(err, ErrTooLarge) {
				return
			}
			t.Fatalf("Write refused what Parse read: %v", err)
		}
		again, err := Parse("again.conf", &out)
		if err != nil {
			t.Fatalf("Parse refused what Write wrote: %v\n%s", err, out.String())
		}
		if len(again.Warnings) != 0 {
			t.Fatalf("Write wrote a file with warnings: %q", again.Warnings)
		}
		if got := Merge(again); !envEqual(got, env) {
			t.Fatalf("round trip changed the env\n got %v\nwant %v\nfile:\n%s", got, env, out.String())
		}
	})
}
