package records

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// The fuzz targets check that no input makes a parser panic, and that what
// a parser accepts is consistent with its own guarantees.

func FuzzParseConfig(f *testing.F) {
	for _, pc := range passwordCasesForSeeds() {
		f.Add([]byte(RenderDatabaseConf(style330, PrefixEngine, testCreds{Host: "h", Port: 5432, User: "u", Password: pc, Database: "d"})))
		f.Add([]byte(RenderDatabaseConf(styleMaster, PrefixDWH, testCreds{Host: "h", Port: 5432, User: "u", Password: pc, Database: "d", Secured: true})))
	}
	f.Add([]byte("A=\"b\nB=${A}${\n# c\r\n  C=\\"))
	f.Add([]byte("ENGINE_DB_PASSWORD=x\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.conf", bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.conf") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for _, k := range cfg.Keys() {
			if _, line, ok := cfg.Get(k); !ok || line < 1 {
				t.Fatalf("key %q has line %d", k, line)
			}
		}
		for _, prefix := range []string{PrefixEngine, PrefixDWH} {
			creds, err := DatabaseCredentials(cfg, prefix)
			if err != nil {
				continue
			}
			if creds.Port < 1 || creds.Port > 65535 || creds.Password.IsZero() {
				t.Fatalf("accepted %v", creds)
			}
			// What prints must not depend on the password.
			other := creds
			other.Password = Secret(creds.Password.Reveal() + "-other")
			show := func(c DBCreds) string { return fmt.Sprintf("%v %+v %#v %d %x", c, c, c, c, c) }
			if show(creds) != show(other) {
				t.Fatalf("printing depends on the password: %s", show(creds))
			}
		}
	})
}

func passwordCasesForSeeds() []string {
	return []string{"engine", `a"b$c\d:e f#g`, `a"b${X}c`, `x\`, "ü ✓"}
}

func FuzzParsePgpass(f *testing.F) {
	f.Add([]byte(pgpass32Local))
	f.Add([]byte(pgpass32Remote))
	f.Add([]byte(pgpass31))
	f.Add([]byte("# This section was created during oVirt Engine setup.\nh\\:x:1:*:u:p\\\\:q\\\n#####  End of oVirt Engine DB settings section.\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePgpass("fuzz", bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(p.Entries) == 0 || p.Start < 1 || p.End <= p.Start {
			t.Fatalf("accepted %+v", p)
		}
		_ = p.Admin()
		_ = p.User()
		for _, e := range p.Entries {
			if e.Host == "" || e.User == "" || e.Line <= p.Start || e.Line >= p.End {
				t.Fatalf("accepted entry %+v of section %d-%d", e, p.Start, p.End)
			}
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(manifest2013))
	f.Add([]byte(manifest2019))
	f.Add([]byte(manifest2020))
	f.Add([]byte("[file_group_x]\ndescription = a\n\t b\n\n  c\nline.1.name = /a\nline.1.content = %%\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest("/m/20200101000000-uninstall.conf", bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, g := range append(m.Groups, ManifestGroup{Files: m.Unremovable}) {
			for _, fr := range g.Files {
				if !strings.HasPrefix(fr.Path, "/") {
					t.Fatalf("accepted relative path %q", fr.Path)
				}
				if n := map[HashAlgo]int{SHA256: 64, MD5: 32, "": 0}[fr.Hash.Algo]; len(fr.Hash.Hex) != n || fr.Hash.Hex != strings.ToLower(fr.Hash.Hex) {
					t.Fatalf("accepted digest %+v", fr.Hash)
				}
			}
			for _, e := range g.LineEdits {
				if e.Change < LineAdded || e.Change > LineReplaced {
					t.Fatalf("accepted edit %+v", e)
				}
			}
		}
		other := *m
		other.File = "/m/20100101000000-uninstall.conf"
		inv, err := MergeManifests([]*Manifest{m, &other})
		if err != nil {
			t.Fatal(err)
		}
		_ = inv.LineEdits()
	})
}

func FuzzResolve(f *testing.F) {
	for _, s := range []string{"/etc/x", "/../x", "/a/../../b", "a", "", "/a\x00", "//./a/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, recorded string) {
		got, err := Resolve("/root", recorded)
		if err != nil {
			return
		}
		if got != "/root" && !strings.HasPrefix(got, "/root/") {
			t.Fatalf("Resolve(%q) = %q, outside /root", recorded, got)
		}
	})
}
