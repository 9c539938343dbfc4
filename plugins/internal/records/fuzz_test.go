package records

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
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
			checkSyntaxError(t, err, data, "fuzz.conf")
			return
		}
		for _, k := range cfg.Keys() {
			if _, line, ok := cfg.Get(k); !ok || line < 1 {
				t.Fatalf("key %q has line %d", k, line)
			}
		}
		for _, prefix := range []string{PrefixEngine, PrefixDWH} {
			checkDatabaseCredentials(t, cfg, prefix, []string{"fuzz.conf"})
		}
	})
}

// checkSyntaxError checks that a parser error of data read as file is a
// *SyntaxError naming file and a line of it (0: the whole file).
func checkSyntaxError(t *testing.T, err error, data []byte, file string) {
	t.Helper()
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("error %T %q is not a *SyntaxError", err, err)
	}
	// Universal newlines: \r, \n and \r\n each end a line.
	d := bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	lines := bytes.Count(d, []byte("\n")) + bytes.Count(d, []byte("\r")) + 1
	if se.File != file || se.Line < 0 || se.Line > lines || !strings.HasPrefix(err.Error(), file+":") {
		t.Fatalf("error %q names %s:%d, want %s and a line of its %d", err, se.File, se.Line, file, lines)
	}
}

// checkDatabaseCredentials checks what DatabaseCredentials makes of cfg:
// ErrNotConfigured, or a *SyntaxError naming one of files, or credentials
// that are complete, come from one of files, and print the same whatever
// the password.
func checkDatabaseCredentials(t *testing.T, cfg *Config, prefix string, files []string) {
	t.Helper()
	creds, err := DatabaseCredentials(cfg, prefix)
	pwKey := prefix + "_DB_PASSWORD"
	pw, pwAt, pwSet := cfg.Lookup(pwKey)
	if pwSet && pw != "" {
		// Errors must not depend on the password: then none can show it.
		other := &Config{files: cfg.files, entries: maps.Clone(cfg.entries)}
		e := other.entries[pwKey]
		e.value += "-other"
		other.entries[pwKey] = e
		_, otherErr := DatabaseCredentials(other, prefix)
		if (err == nil) != (otherErr == nil) || err != nil && err.Error() != otherErr.Error() {
			t.Fatalf("%s: the error depends on the password: %v; %v", prefix, err, otherErr)
		}
	}
	if err != nil {
		var se *SyntaxError
		switch {
		case errors.Is(err, ErrNotConfigured):
			if pwSet && pw != "" {
				t.Fatalf("%s: not configured although the password is set: %v", prefix, err)
			}
		case errors.As(err, &se):
			if !slices.Contains(files, se.File) || !strings.HasPrefix(err.Error(), se.File) {
				t.Fatalf("%s: error %q names %q, not one of %q", prefix, err, se.File, files)
			}
		default:
			t.Fatalf("%s: undocumented error %T %q", prefix, err, err)
		}
		return
	}
	if creds.Port < 1 || creds.Port > 65535 || creds.Password.IsZero() || creds.Host == "" || creds.User == "" || creds.Database == "" {
		t.Fatalf("%s: accepted %v", prefix, creds)
	}
	if creds.Password.Reveal() != pw || creds.Source != pwAt || !slices.Contains(files, creds.Source.File) {
		t.Fatalf("%s: password from %v, recorded at %v", prefix, creds.Source, pwAt)
	}
	if creds.AltPassword == creds.Password {
		t.Fatalf("%s: AltPassword set to Password", prefix)
	}
	// What prints must not depend on either password: then no verb can
	// show it.
	other := creds
	other.Password = Secret(creds.Password.Reveal() + "-other")
	if !creds.AltPassword.IsZero() {
		other.AltPassword = Secret(creds.AltPassword.Reveal() + "-alt")
	}
	show := func(c DBCreds) string {
		return fmt.Sprintf("%v %+v %#v %s %q %d %x", c, c, c, c, c, c, c) + c.String() + fmt.Sprint([]DBCreds{c}, &c)
	}
	if show(creds) != show(other) {
		t.Fatalf("%s: printing depends on the password: %s", prefix, show(creds))
	}
}

// FuzzLoadConfig lays out the engine's configuration layers under a root
// as a host has them (engine.conf, then 10-setup-database.conf and
// 10-setup-dwh-database.conf in engine.conf.d) and reads them with
// LoadConfig. Errors must name the broken file under the root; the result
// must be what ParseLayered makes of the same files; credentials of both
// prefixes are checked as in FuzzParseConfig.
func FuzzLoadConfig(f *testing.F) {
	engineConf := "ENGINE_FQDN=engine.example.com\nENGINE_DB_PORT=5432\n"
	for i, pc := range passwordCasesForSeeds() {
		c := testCreds{Host: "localhost", Port: 5432, User: "engine", Password: pc, Database: "engine"}
		d := testCreds{Host: "dwh.example.com", Port: 5433, User: "ovirt_engine_history", Password: pc + "-dwh", Database: "ovirt_engine_history", Secured: true}
		style := []writerStyle{styleMaster, style330}[i%2]
		f.Add([]byte(engineConf), []byte(RenderDatabaseConf(style, PrefixEngine, c)), []byte(RenderDatabaseConf(styleMaster, PrefixDWH, d)))
	}
	f.Add([]byte("ENGINE_DB_PASSWORD=x\n"), []byte("ENGINE_DB_HOST=${ENGINE_DB_PASSWORD}\r"), []byte("DWH_DB_PASSWORD=${ENGINE_DB_HOST}\nDWH_DB_PORT=0\n"))
	f.Add([]byte(""), []byte("ENGINE_DB_PASSWORD=\"a b\\\"\n ENGINE_DB_SECURED=maybe\n"), []byte("bad line\n"))
	// One root for every input: the fuzz function runs one input at a
	// time in each process, and every input rewrites all three files.
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, engine, database, dwh []byte) {
		contents := []struct {
			recorded string
			data     []byte
		}{{EngineConfig, engine}, {EngineDatabaseConf, database}, {EngineDWHDatabaseConf, dwh}}
		var layers []Layer
		var shown []string
		for _, c := range contents {
			p := filepath.Join(root, c.recorded)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, c.data, 0o600); err != nil {
				t.Fatal(err)
			}
			layers = append(layers, Layer{Path: p, R: bytes.NewReader(c.data)})
			shown = append(shown, p)
		}
		want, wantErr := ParseLayered(layers)
		cfg, err := LoadConfig(root, EngineConfigBases()...)
		if (err != nil) != (wantErr != nil) || err != nil && err.Error() != wantErr.Error() {
			t.Fatalf("LoadConfig: %v; ParseLayered: %v", err, wantErr)
		}
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %q is not a *SyntaxError", err, err)
			}
			i := slices.Index(shown, se.File)
			if i < 0 {
				t.Fatalf("error %q does not name a file under the root", err)
			}
			checkSyntaxError(t, err, contents[i].data, se.File)
			return
		}
		if !slices.Equal(cfg.Files(), shown) || !slices.Equal(cfg.Keys(), want.Keys()) {
			t.Fatalf("LoadConfig read %q with keys %q; ParseLayered %q, %q", cfg.Files(), cfg.Keys(), want.Files(), want.Keys())
		}
		for _, k := range cfg.Keys() {
			v, at, _ := cfg.Lookup(k)
			wv, wat, _ := want.Lookup(k)
			if v != wv || at != wat || !slices.Contains(shown, at.File) || at.Line < 1 {
				t.Fatalf("%s = %q at %v; ParseLayered: %q at %v", k, v, at, wv, wat)
			}
		}
		for _, prefix := range []string{PrefixEngine, PrefixDWH} {
			checkDatabaseCredentials(t, cfg, prefix, shown)
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
			if !errors.Is(err, ErrNotConfigured) {
				var se *SyntaxError
				if !errors.As(err, &se) || se.File != "fuzz" || se.Line < 0 || se.Line > bytes.Count(data, []byte("\n"))+1 {
					t.Fatalf("error %T %q is not a *SyntaxError naming a line of the file", err, err)
				}
			}
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if len(p.Entries) == 0 || p.Start < 1 || p.End <= p.Start || p.File != "fuzz" {
			t.Fatalf("accepted %+v", p)
		}
		admin, user := p.Admin(), p.User()
		if !slices.Contains(p.Entries, admin) || !slices.Contains(p.Entries, user) {
			t.Fatal("Admin or User is not an entry")
		}
		for _, e := range p.Entries {
			if e.Host == "" || e.User == "" || e.Port == "" || e.Database == "" || e.Line <= p.Start || e.Line >= p.End {
				t.Fatalf("accepted entry %+v of section %d-%d", e, p.Start, p.End)
			}
			if e.Port != "*" {
				if _, err := parsePort(e.Port); err != nil {
					t.Fatalf("accepted port %q", e.Port)
				}
			}
			if !e.AltPassword.IsZero() && e.AltPassword == e.Password {
				t.Fatalf("AltPassword set to Password on line %d", e.Line)
			}
			other := e
			other.Password = Secret(e.Password.Reveal() + "-other")
			if !e.AltPassword.IsZero() {
				other.AltPassword = Secret(e.AltPassword.Reveal() + "-alt")
			}
			show := func(e PgpassEntry) string {
				return fmt.Sprintf("%v %+v %#v", e, e, e) + fmt.Sprint([]PgpassEntry{e}, &e)
			}
			if e.Password != "" && show(e) != show(other) {
				t.Fatalf("printing depends on the password: %s", show(e))
			}
		}
	})
}

const fuzzManifestPath = "/etc/ovirt-engine/uninstall.d/20200101000000-uninstall.conf"

// checkManifest checks what ParseManifest accepted: absolute one-line
// paths that Resolve confines, well-formed digests and edits, and
// locations in the file.
func checkManifest(t *testing.T, m *Manifest, file string) {
	t.Helper()
	if m.File != file {
		t.Fatalf("manifest of %q names %q", file, m.File)
	}
	checkPath := func(p string, at Location) {
		t.Helper()
		if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\n") {
			t.Fatalf("accepted path %q", p)
		}
		if at.File != file || at.Line < 1 {
			t.Fatalf("%s recorded at %v", p, at)
		}
		if got, err := Resolve("/root", p); err == nil && got != "/root" && !strings.HasPrefix(got, "/root/") {
			t.Fatalf("recorded path %q resolves to %q, outside the root", p, got)
		} else if err == nil && got != filepath.Clean(got) {
			t.Fatalf("recorded path %q resolves to %q, not clean", p, got)
		}
	}
	groups := slices.Clone(m.Groups)
	groups = append(groups, ManifestGroup{Name: UnremovableSection, Files: m.Unremovable, At: Location{file, 1}})
	for _, g := range groups {
		if g.Name == "" || g.At.File != file || g.At.Line < 1 && g.Name != UnremovableSection {
			t.Fatalf("accepted group %q at %v", g.Name, g.At)
		}
		seen := map[string]bool{}
		for _, fr := range g.Files {
			checkPath(fr.Path, fr.At)
			if seen[fr.Path] {
				t.Fatalf("%s recorded twice in [%s]", fr.Path, g.Name)
			}
			seen[fr.Path] = true
			if n := map[HashAlgo]int{SHA256: 64, MD5: 32, "": 0}[fr.Hash.Algo]; len(fr.Hash.Hex) != n || fr.Hash.Hex != strings.ToLower(fr.Hash.Hex) || !isHex(fr.Hash.Hex, n) {
				t.Fatalf("accepted digest %+v", fr.Hash)
			}
		}
		for _, e := range g.LineEdits {
			checkPath(e.Path, e.At)
			if e.Change < LineAdded || e.Change > LineReplaced || strings.Contains(e.Added+e.Removed, "\n") {
				t.Fatalf("accepted edit %+v", e)
			}
			if e.Change == LineAdded && e.Removed != "" || e.Change == LineRemoved && e.Added != "" {
				t.Fatalf("edit %v with the other side set: %+v", e.Change, e)
			}
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(manifest2013))
	f.Add([]byte(manifest2019))
	f.Add([]byte(manifest2020))
	f.Add([]byte("[file_group_x]\ndescription = a\n\t b\n\n  c\nline.1.name = /a\nline.1.content = %%\n"))
	f.Add([]byte("[file_group_x]\ndescription = x\nfile.1.name = /etc/../../x\nfile.2.name = /a//b/./c\nfile.2.md5 = " + md5DB + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(fuzzManifestPath, bytes.NewReader(data))
		if err != nil {
			checkSyntaxError(t, err, data, fuzzManifestPath)
			return
		}
		checkManifest(t, m, fuzzManifestPath)
		other := *m
		other.File = "/m/20100101000000-uninstall.conf"
		inv, err := MergeManifests([]*Manifest{m, &other})
		if err != nil {
			t.Fatal(err)
		}
		_ = inv.LineEdits()
	})
}

// FuzzMergeManifests merges two fuzzed manifests, given newest first, and
// checks the Inventory against the manifests: manifests in name order,
// groups and files sorted and unique, each path with the record of the
// newest manifest that recorded it, every line edit kept in recording
// order, and every path absolute and confined by Resolve.
func FuzzMergeManifests(f *testing.F) {
	f.Add([]byte(manifest2013), []byte(manifest2019))
	f.Add([]byte(manifest2019), []byte(manifest2020))
	f.Add([]byte(manifest2013), []byte(manifest2020))
	f.Add([]byte("[unremovable]\nfile.0.name = /etc/a\nfile.0.md5 = "+md5CA+"\n"),
		[]byte("[file_group_a]\ndescription = A\noptional = True\nfile.0.name = /etc/a\nfile.0.sha256 = "+sha256CA+"\n[unremovable]\nfile.0.name = /etc/a\n"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		const (
			older = "/etc/ovirt-engine/uninstall.d/20190101000000-uninstall.conf"
			newer = "/etc/ovirt-engine/uninstall.d/20200101000000-uninstall.conf"
		)
		ma, err := ParseManifest(older, bytes.NewReader(a))
		if err != nil {
			checkSyntaxError(t, err, a, older)
			return
		}
		mb, err := ParseManifest(newer, bytes.NewReader(b))
		if err != nil {
			checkSyntaxError(t, err, b, newer)
			return
		}
		checkManifest(t, ma, older)
		checkManifest(t, mb, newer)
		inv, err := MergeManifests([]*Manifest{mb, ma})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(inv.Manifests, []string{older, newer}) {
			t.Fatalf("manifests in the order %q", inv.Manifests)
		}
		manifests := []*Manifest{ma, mb}

		// records[path] are the records of path in the newest manifest
		// that has one; inGroup and unremovable are what was recorded.
		records := map[string][]FileRecord{}
		inGroup := map[string]map[string]bool{}
		unremovable := map[string]bool{}
		var edits []LineEdit
		latestGroup := map[string]ManifestGroup{}
		for _, m := range manifests {
			here := map[string][]FileRecord{}
			for _, g := range m.Groups {
				latestGroup[g.Name] = g
				if inGroup[g.Name] == nil {
					inGroup[g.Name] = map[string]bool{}
				}
				for _, fr := range g.Files {
					inGroup[g.Name][fr.Path] = true
					here[fr.Path] = append(here[fr.Path], fr)
				}
				edits = append(edits, g.LineEdits...)
			}
			for _, fr := range m.Unremovable {
				unremovable[fr.Path] = true
				here[fr.Path] = append(here[fr.Path], fr)
			}
			maps.Copy(records, here)
		}
		checkLatest := func(fr FileRecord) {
			t.Helper()
			if !slices.Contains(records[fr.Path], fr) {
				t.Fatalf("%s has %+v, not a record of the newest manifest recording it: %+v", fr.Path, fr, records[fr.Path])
			}
		}

		if len(inv.Groups) != len(inGroup) {
			t.Fatalf("%d groups, want %d", len(inv.Groups), len(inGroup))
		}
		for i, g := range inv.Groups {
			if i > 0 && inv.Groups[i-1].Name >= g.Name {
				t.Fatalf("groups not sorted and unique: %q before %q", inv.Groups[i-1].Name, g.Name)
			}
			if got, ok := inv.Group(g.Name); !ok || got.Name != g.Name {
				t.Fatalf("Group(%q) not found", g.Name)
			}
			lg := latestGroup[g.Name]
			if g.Description != lg.Description || g.Optional != lg.Optional {
				t.Fatalf("[%s] has %q, %v; the newest manifest says %q, %v", g.Name, g.Description, g.Optional, lg.Description, lg.Optional)
			}
			if len(g.Files) != len(inGroup[g.Name]) {
				t.Fatalf("[%s] has %d files, %d were recorded", g.Name, len(g.Files), len(inGroup[g.Name]))
			}
			for j, fr := range g.Files {
				if j > 0 && g.Files[j-1].Path >= fr.Path {
					t.Fatalf("[%s] files not sorted and unique", g.Name)
				}
				if !inGroup[g.Name][fr.Path] {
					t.Fatalf("[%s] has %s, never recorded in it", g.Name, fr.Path)
				}
				checkLatest(fr)
			}
		}
		if _, ok := inv.Group("no such group"); ok {
			t.Fatal("Group found a group nobody recorded")
		}
		if len(inv.Unremovable) != len(unremovable) {
			t.Fatalf("%d unremovable, want %d", len(inv.Unremovable), len(unremovable))
		}
		for p, fr := range inv.Unremovable {
			if !unremovable[p] || fr.Path != p || !inv.IsUnremovable(p) {
				t.Fatalf("unremovable %s: %+v", p, fr)
			}
			checkLatest(fr)
		}
		got := inv.LineEdits()
		if len(got) != len(edits) {
			t.Fatalf("%d line edits, %d were recorded", len(got), len(edits))
		}
		for i, e := range got {
			if !slices.Contains(edits, e) {
				t.Fatalf("line edit %+v was never recorded", e)
			}
			if i > 0 {
				prev := got[i-1]
				pi, ei := slices.Index(inv.Manifests, prev.At.File), slices.Index(inv.Manifests, e.At.File)
				if pi > ei || pi == ei && prev.At.Line > e.At.Line {
					t.Fatalf("line edits out of recording order: %v before %v", prev.At, e.At)
				}
			}
		}
	})
}

// FuzzReportsCredentials reads master.properties (the Reports database
// credentials): errors are ErrNotConfigured or a *SyntaxError naming the
// file, and accepted credentials are complete and never print the
// password.
func FuzzReportsCredentials(f *testing.F) {
	props := func(host string, port int, user, password, db string) []byte {
		return []byte(fmt.Sprintf(`# File locations
reportsHome=/var/lib/ovirt-engine-reports
reportsWar=${reportsHome}/ovirt-engine-reports.war
currentConf=${reportsHome}/build-conf
appServerDir=${reportsHome}

appServerType=jboss7

# database type
dbType=postgresql

# database location and connection settings
dbHost=%s
dbPort=%d
dbUsername=%s
dbPassword=%s
js.dbName=%s

# web app name
# (set one of these to deploy to a non-default war file name)
webAppNameCE=ovirt-engine-reports
webAppNamePro=ovirt-engine-reports

# Database
maven.jdbc.groupId=postgresql
maven.jdbc.artifactId=postgresql
maven.jdbc.version=9.2-1002.jdbc4
deployJDBCDriver=false
`, host, port, user, password, db))
	}
	for _, pc := range passwordCasesForSeeds() {
		f.Add(props("localhost", 5432, "ovirt_engine_reports", pc, "ovirt_engine_reports"))
	}
	f.Add(props("db.example.com", 5433, "reports", `p%a:s=s\w"o$rd`, "reports"))
	f.Add([]byte("dbPassword=x\n[other]\n"))
	f.Add([]byte("dbHost=h\ndbUsername=u\njs.dbName=d\ndbPassword=x\n  y\n\ndbPort=65536\n"))
	f.Add([]byte("dbHost : h\r\ndbUsername=u\rjs.dbName=d\ndbPassword = x\ndbPort=1\n; c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const path = ReportsBuildomaticProperties
		creds, err := ReportsDatabaseCredentials(path, bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrNotConfigured) {
				checkSyntaxError(t, err, data, path)
			}
			if !strings.HasPrefix(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if creds.Port < 1 || creds.Port > 65535 || creds.Password.IsZero() || creds.Host == "" || creds.User == "" || creds.Database == "" ||
			creds.Secured || creds.SecuredHostValidation || !creds.AltPassword.IsZero() {
			t.Fatalf("accepted %v", creds)
		}
		if creds.Source.File != path || creds.Source.Line < 1 {
			t.Fatalf("password recorded at %v", creds.Source)
		}
		other := creds
		other.Password = Secret(creds.Password.Reveal() + "-other")
		show := func(c DBCreds) string { return fmt.Sprintf("%v %+v %#v %s %q %d %x", c, c, c, c, c, c, c) + c.String() }
		if show(creds) != show(other) {
			t.Fatalf("printing depends on the password: %s", show(creds))
		}
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
