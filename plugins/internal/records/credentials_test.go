package records

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestDatabaseCredentialsRecoverThePasswordOfEveryWriter(t *testing.T) {
	// masterLossy marks passwords that oVirt 4.0+'s writer cannot
	// round-trip (it leaves " and $ unescaped); masterBroken marks those
	// whose file oVirt's own reader rejects.
	passwordCases := []struct {
		name         string
		password     string
		masterLossy  bool
		masterBroken bool
	}{
		{"a plain password", "engine", false, false},
		{"a password with a colon", "pa:ss", false, false},
		{"a password with a backslash", `pa\ss`, false, false},
		{"a password ending in a backslash", `pass\`, false, false},
		{"a password with spaces", "pa ss  word", false, false},
		{"a password with a hash", "pa#ss", false, false},
		{"a password with a space before a hash", "pa #ss", false, false},
		{"a password that looks like a pgpass line", `h:5432:*:u:\:p`, false, false},
		{"a password with UTF-8", "pässwörd✓", false, false},
		{"a password with a double quote", `pa"ss`, true, false},
		{"a password with a double quote and a space", `pa" ss`, true, false},
		{"a password with a reference", "pa${ENGINE_DB_HOST}ss", true, false},
		{"a password with a bare dollar", "pa$ss", true, true},
		{"a password with everything", `a"b$c\d:e f#g`, true, true},
		{"a password with everything but a bare dollar", `a"b${X}c\d:e f#g`, true, false},
	}
	for _, style := range []writerStyle{style330, styleMaster} {
		for _, pc := range passwordCases {
			t.Run(string(style)+"/"+pc.name, func(t *testing.T) {
				given := testCreds{Host: "db.example.com", Port: 5433, User: "engine", Password: pc.password,
					Database: "engine", Secured: true, HostValidation: false}
				path := WriteDatabaseConf(t, t.TempDir(), style, PrefixEngine, given)
				cfg, err := parseFile(t, path)
				if style == styleMaster && pc.masterBroken {
					var se *SyntaxError
					if !errors.As(err, &se) || se.Line != 4 || !strings.Contains(se.Msg, `\$`) {
						t.Fatalf("Parse error = %v, want a syntax error on the password line saying how to escape $", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				got, err := DatabaseCredentials(cfg, PrefixEngine)
				if err != nil {
					t.Fatal(err)
				}
				want := DBCreds{Host: "db.example.com", Port: 5433, User: "engine", Database: "engine",
					Secured: true, Password: Secret(pc.password), Source: Location{path, 4}}
				if style == styleMaster && pc.masterLossy {
					// oVirt's reader gets something else; AltPassword is what setup was given.
					if got.Password.Reveal() == pc.password {
						t.Fatalf("Password round-tripped, but the case is marked lossy")
					}
					if got.AltPassword.Reveal() != pc.password {
						t.Fatalf("AltPassword = %q, want %q", got.AltPassword.Reveal(), pc.password)
					}
					want.Password, want.AltPassword = got.Password, got.AltPassword
				}
				if got != want {
					t.Errorf("DatabaseCredentials = %#v\nwant %#v\npasswords %q, alt %q", got, want, got.Password.Reveal(), got.AltPassword.Reveal())
				}
			})
		}
	}
}

func TestDatabaseCredentialsReadTheURLBuiltFromReferences(t *testing.T) {
	path := WriteDatabaseConf(t, t.TempDir(), style330, PrefixEngine,
		testCreds{Host: "h", Port: 5432, User: "u", Password: "p", Database: "d", Secured: true, HostValidation: true})
	cfg, err := parseFile(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if url, _, _ := cfg.Get("ENGINE_DB_URL"); url != "jdbc:postgresql://h:5432/d?ssl=true" {
		t.Errorf("ENGINE_DB_URL = %q", url)
	}
}

func TestDatabaseCredentialsWorkForEveryPrefix(t *testing.T) {
	for _, prefix := range []string{PrefixEngine, PrefixDWH, PrefixReports, "GRAFANA"} {
		t.Run(prefix, func(t *testing.T) {
			path := WriteDatabaseConf(t, t.TempDir(), styleMaster, prefix,
				testCreds{Host: "localhost", Port: 5432, User: "ovirt_engine_history", Password: "x", Database: "ovirt_engine_history", HostValidation: true})
			cfg, err := parseFile(t, path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DatabaseCredentials(cfg, prefix)
			if err != nil || got.User != "ovirt_engine_history" || got.Secured || !got.SecuredHostValidation {
				t.Errorf("DatabaseCredentials = %v, %v", got, err)
			}
			if _, err := DatabaseCredentials(cfg, "OTHER"); !errors.Is(err, ErrNotConfigured) {
				t.Errorf("another prefix: error = %v, want ErrNotConfigured", err)
			}
		})
	}
}

func TestDatabaseCredentialsExplainWhatIsWrongAndWhere(t *testing.T) {
	const good = "ENGINE_DB_HOST=h\nENGINE_DB_PORT=5432\nENGINE_DB_USER=u\nENGINE_DB_PASSWORD=p\nENGINE_DB_DATABASE=d\n"
	tests := []struct {
		name    string
		input   string
		prefix  string
		want    []string
		wantErr error
	}{
		{"no password means no database", "ENGINE_DB_HOST=h\n", PrefixEngine, []string{"/f.conf: ENGINE_DB_PASSWORD is not set"}, ErrNotConfigured},
		{"an empty password means no database", "ENGINE_DB_PASSWORD=\"\"\n", PrefixEngine, []string{"/f.conf:1: ENGINE_DB_PASSWORD is empty"}, ErrNotConfigured},
		{"a missing host names the file", strings.Replace(good, "ENGINE_DB_HOST=h\n", "", 1), PrefixEngine, []string{"/f.conf: ENGINE_DB_HOST is missing", "line 3", "restore"}, nil},
		{"an empty user names the line", strings.Replace(good, "ENGINE_DB_USER=u", "ENGINE_DB_USER=", 1), PrefixEngine, []string{"/f.conf:3: ENGINE_DB_USER is empty"}, nil},
		{"a port that is not a number", strings.Replace(good, "5432", "54x2", 1), PrefixEngine, []string{"/f.conf:2: ENGINE_DB_PORT \"54x2\" is not a port number"}, nil},
		{"a port of zero", strings.Replace(good, "5432", "0", 1), PrefixEngine, []string{"/f.conf:2:", "1-65535"}, nil},
		{"a port above 65535", strings.Replace(good, "5432", "65536", 1), PrefixEngine, []string{"/f.conf:2:", "1-65535"}, nil},
		{"a signed port", strings.Replace(good, "5432", "+5432", 1), PrefixEngine, []string{"/f.conf:2:"}, nil},
		{"a secured flag that is not a boolean", good + "ENGINE_DB_SECURED=maybe\n", PrefixEngine, []string{"/f.conf:6: ENGINE_DB_SECURED \"maybe\" is neither true"}, nil},
		{"a prefix that is not a key prefix", good, "engine", []string{`prefix "engine"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("/f.conf", strings.NewReader(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			_, err = DatabaseCredentials(cfg, tt.prefix)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantErr)
			}
			var se *SyntaxError
			if isSyntax := errors.As(err, &se); isSyntax != (tt.wantErr == nil && tt.prefix == PrefixEngine) {
				t.Errorf("errors.As(%v, *SyntaxError) = %v: a damaged record must be a *SyntaxError, nothing else", err, isSyntax)
			}
			if strings.Contains(err.Error(), "=p") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestDatabaseCredentialsReadBooleansAsOVirtDoes(t *testing.T) {
	for _, c := range []struct {
		value string
		want  bool
	}{{"True", true}, {"true", true}, {"T", true}, {"yes", true}, {"Y", true}, {"1", true},
		{"False", false}, {"no", false}, {"0", false}, {"", false}, {"F", false}} {
		cfg, err := Parse("/f.conf", strings.NewReader("ENGINE_DB_HOST=h\nENGINE_DB_PORT=1\nENGINE_DB_USER=u\nENGINE_DB_PASSWORD=p\nENGINE_DB_DATABASE=d\nENGINE_DB_SECURED=\""+c.value+"\"\n"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := DatabaseCredentials(cfg, PrefixEngine)
		if err != nil || got.Secured != c.want {
			t.Errorf("SECURED=%q: Secured = %v, %v; want %v", c.value, got.Secured, err, c.want)
		}
	}
}

// The point of this test is the administrator's password: it must never
// reach a log, the console or --json through DBCreds.
func TestDBCredsNeverShowThePassword(t *testing.T) {
	const pw = "Sup3r-s3cret:pw"
	creds := DBCreds{Host: "db", Port: 5432, User: "engine", Password: pw, AltPassword: pw + "2",
		Database: "engine", Source: Location{"/etc/x.conf", 4}}

	if got, want := creds.String(), "engine@db:5432/engine (password ********, ssl off, from /etc/x.conf:4)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v"} {
		outputs = append(outputs, fmt.Sprintf(verb, creds), fmt.Sprintf(verb, &creds), fmt.Sprintf(verb, []DBCreds{creds}),
			fmt.Sprintf(verb, creds.Password), fmt.Sprintf(verb, struct{ C DBCreds }{creds}))
	}
	js, err := json.Marshal(creds)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(js))
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("creds", "c", creds, "pw", creds.Password)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("creds", "c", creds, "pw", creds.Password)
	outputs = append(outputs, logs.String())

	for _, out := range outputs {
		for _, leak := range []string{pw, fmt.Sprintf("%x", pw), fmt.Sprintf("%X", pw), "s3cret"} {
			if strings.Contains(out, leak) {
				t.Errorf("output %q shows the password", out)
			}
		}
	}
	if !strings.Contains(string(js), Mask) {
		t.Errorf("JSON %s does not show the mask", js)
	}
	if creds.Password.Reveal() != pw {
		t.Errorf("Reveal() = %q", creds.Password.Reveal())
	}
}

func TestMasterWriterPasswordOnlyInvertsWhatThatWriterProduces(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want string
		ok   bool
	}{
		{`"a\:b\\c"`, `a:b\c`, true},
		{`"a"b"`, `a"b`, true},
		{`""`, ``, true},
		{`"a\"b"`, "", false}, // 3.3.0 escaped the quote
		{`"a\$b"`, "", false},
		{`a`, "", false},
		{`"a" # comment`, "", false},
		{`"`, "", false},
	} {
		got, ok := masterWriterPassword(c.raw)
		if got != c.want || ok != c.ok {
			t.Errorf("masterWriterPassword(%s) = %q, %v; want %q, %v", c.raw, got, ok, c.want, c.ok)
		}
	}
}

func TestReportsDatabaseCredentialsReadTheBuildomaticProperties(t *testing.T) {
	const props = `# File locations
reportsHome=/var/lib/ovirt-engine-reports
currentConf=${reportsHome}/build-conf

# database location and connection settings
dbHost=db.example.com
dbPort=5432
dbUsername=ovirt_engine_reports
dbPassword=p%a:s=s\w"o$rd
js.dbName=ovirt_engine_reports
`
	got, err := ReportsDatabaseCredentials("/m.properties", strings.NewReader(props))
	if err != nil {
		t.Fatal(err)
	}
	want := DBCreds{Host: "db.example.com", Port: 5432, User: "ovirt_engine_reports", Database: "ovirt_engine_reports",
		Password: `p%a:s=s\w"o$rd`, Source: Location{"/m.properties", 9}}
	if got != want {
		t.Errorf("got %#v, want %#v (password %q)", got, want, got.Password.Reveal())
	}

	for _, c := range []struct{ name, input, want string }{
		{"no password", "dbHost=h\n", "dbPassword is not set"},
		{"no host", "dbPassword=x\ndbPort=1\n", "dbHost is missing"},
		{"a bad port", "dbHost=h\ndbUsername=u\njs.dbName=d\ndbPassword=x\ndbPort=x\n", "/m.properties:5: dbPort"},
		{"a section header", "dbPassword=x\n[other]\n", "/m.properties:2:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReportsDatabaseCredentials("/m.properties", strings.NewReader(c.input))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}
