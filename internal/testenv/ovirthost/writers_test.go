package ovirthost

import (
	"slices"
	"strings"
	"testing"
)

// The writers are compared with the files oVirt writes, byte for byte.
func TestDatabaseConfIsWrittenAsOvirtWritesIt(t *testing.T) {
	db := DB{Host: "db.example.com", Port: 5433, User: "engine", Password: `pa"s$s\w:d`, Database: "engine", Secured: true}
	for _, c := range []struct{ style, want string }{
		{StyleMaster, `ENGINE_DB_HOST="db.example.com"
ENGINE_DB_PORT="5433"
ENGINE_DB_USER="engine"
ENGINE_DB_PASSWORD="pa"s$s\\w\:d"
ENGINE_DB_DATABASE="engine"
ENGINE_DB_SECURED="True"
ENGINE_DB_SECURED_VALIDATION="False"
ENGINE_DB_DRIVER="org.postgresql.Driver"
ENGINE_DB_URL="jdbc:postgresql://db.example.com:5433/engine?ssl=true&sslfactory=org.postgresql.ssl.NonValidatingFactory"
`},
		{Style36, `ENGINE_DB_HOST="db.example.com"
ENGINE_DB_PORT="5433"
ENGINE_DB_USER="engine"
ENGINE_DB_PASSWORD="pa\"s\$s\\w:d"
ENGINE_DB_DATABASE="engine"
ENGINE_DB_SECURED="True"
ENGINE_DB_SECURED_VALIDATION="False"
ENGINE_DB_DRIVER="org.postgresql.Driver"
ENGINE_DB_URL="jdbc:postgresql://db.example.com:5433/engine?ssl=true&sslfactory=org.postgresql.ssl.NonValidatingFactory"
`},
		{Style34, `ENGINE_DB_HOST="db.example.com"
ENGINE_DB_PORT="5433"
ENGINE_DB_USER="engine"
ENGINE_DB_PASSWORD="pa\"s\$s\\w:d"
ENGINE_DB_DATABASE="engine"
ENGINE_DB_SECURED="True"
ENGINE_DB_SECURED_VALIDATION="False"
ENGINE_DB_DRIVER="org.postgresql.Driver"
ENGINE_DB_URL="jdbc:postgresql://${ENGINE_DB_HOST}:${ENGINE_DB_PORT}/${ENGINE_DB_DATABASE}?ssl=true&sslfactory=org.postgresql.ssl.NonValidatingFactory"
`},
		{Style330, `ENGINE_DB_HOST=db.example.com
ENGINE_DB_PORT=5433
ENGINE_DB_USER=engine
ENGINE_DB_PASSWORD="pa\"s\$s\\w:d"
ENGINE_DB_DATABASE=engine
ENGINE_DB_SECURED=True
ENGINE_DB_SECURED_VALIDATION=False
ENGINE_DB_DRIVER=org.postgresql.Driver
ENGINE_DB_URL=jdbc:postgresql://${ENGINE_DB_HOST}:${ENGINE_DB_PORT}/${ENGINE_DB_DATABASE}?ssl=true&sslfactory=org.postgresql.ssl.NonValidatingFactory
`},
	} {
		if got := databaseConf(c.style, prefixEngine, db); got != c.want {
			t.Errorf("%s writer:\n%s\nwant\n%s", c.style, got, c.want)
		}
	}
}

func TestEditConfigContentMirrorsOvirt(t *testing.T) {
	params := [][2]string{{"A", "new"}, {"B", "b2"}, {"C", "c"}, {"D", "d"}}
	in := []string{
		"# a comment line",
		"A old",
		"  B b2",
		"#C commented",
		"A again",
	}
	// A is set uncommented: its lines are commented out and the new value
	// follows the first; B already has its value; C is only in a comment:
	// the new line follows it; D is missing: appended.
	wantOut := []string{
		"# a comment line",
		"# A old",
		"A new",
		"  B b2",
		"#C commented",
		"C c",
		"# A again",
		"D d",
	}
	wantChanges := []lineChange{
		replaced("# A old", "A old"),
		added("A new"),
		added("C c"),
		replaced("# A again", "A again"),
		added("D d"),
	}
	out, changes := editConfigContent(in, params)
	if !slices.Equal(out, wantOut) {
		t.Errorf("content\n%s\nwant\n%s", strings.Join(out, "\n"), strings.Join(wantOut, "\n"))
	}
	if !slices.Equal(changes, wantChanges) {
		t.Errorf("changes %+v\nwant %+v", changes, wantChanges)
	}
}

// A manifest is what configparser writes: sections in the order uninstall.py
// adds them, "key = value", a blank line after each section.
func TestManifestIsWrittenAsConfigparserWritesIt(t *testing.T) {
	st := newState("/unused")
	r := newRun(st, mustVersion("4.5.6"), "20240101000000")
	g := r.group("ca_config", "PKI configuration", true)
	lines := r.group("ssl", "Apache SSL configuration", true)
	r.writeText("/etc/b.conf", "b", 0o644, false, nil)
	r.writeText("/etc/a.conf", "a", 0o644, false, nil)
	r.writeText("/etc/pki.conf", "p", 0o640, true, g)
	st.put("/etc/ssl.conf", []byte("x\n"), 0o644)
	r.unremovable = append(r.unremovable, "/etc/ssl.conf", "/etc/missing.conf")
	lines.addLines("/etc/ssl.conf", replaced("# x", "x"), added("y"))
	want := `[file_group_core]
description = Core files
optional = False
file.000.name = /etc/a.conf
file.000.sha256 = 87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7
file.001.name = /etc/b.conf
file.001.sha256 = 0263829989b6fd954f72baaf2fc64bc2e2f01d692d4de72986ea808f6e99813f

[unremovable]
description = Unremovable files
optional = False
file.001.name = /etc/ssl.conf
file.001.sha256 = 73cb3858a687a8494ca3323053016282f3dad39d42cf62ca4e79dda2aac7d9ac

[file_group_ca_config]
description = PKI configuration
optional = True
file.000.name = /etc/pki.conf
file.000.sha256 = fd6641673e7f3bf6e80e4bc5401fcb2821a1e117206c8e1c65cef23a58dc37ff

[file_group_ssl]
description = Apache SSL configuration
optional = True
line.000000.name = /etc/ssl.conf
line.000000.content.added = # x
line.000000.content.removed = x
line.000001.name = /etc/ssl.conf
line.000001.content.added = y

`
	if got := string(r.manifest()); got != want {
		t.Errorf("manifest\n%s\nwant\n%s", got, want)
	}
}
