package records

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testCreds is what engine-setup was given.
type testCreds struct {
	Host, User, Password, Database string
	Port                           int
	Secured, HostValidation        bool
}

// writerStyle is an engine-setup release whose <PREFIX>_DB_* writer we
// reproduce byte for byte.
type writerStyle string

const (
	// styleMaster is engine_common/database.py getDBConfig, oVirt 4.0
	// (April 2016) to master: every value quoted, the password escaped
	// with outil.escape(password, ':\\').
	styleMaster writerStyle = "master"
	// style330 is ovirt-engine-setup/config/database.py at 3.3.0: only the
	// password quoted, escaped with escape(password, '"\\$'), and the URL
	// built from ${...} references.
	style330 writerStyle = "3.3.0"
)

// pyEscape is ovirt_engine.util.escape: a backslash before each of chars.
func pyEscape(s, chars string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(chars, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// RenderDatabaseConf returns the file a release of engine-setup wrote.
func RenderDatabaseConf(style writerStyle, prefix string, c testCreds) string {
	switch style {
	case styleMaster:
		var opts []string
		if c.Secured {
			opts = append(opts, "ssl=true")
		}
		if !c.HostValidation {
			opts = append(opts, "sslfactory=org.postgresql.ssl.NonValidatingFactory")
		}
		return fmt.Sprintf(`%[1]s_DB_HOST="%[2]s"
%[1]s_DB_PORT="%[3]d"
%[1]s_DB_USER="%[4]s"
%[1]s_DB_PASSWORD="%[5]s"
%[1]s_DB_DATABASE="%[6]s"
%[1]s_DB_SECURED="%[7]s"
%[1]s_DB_SECURED_VALIDATION="%[8]s"
%[1]s_DB_DRIVER="org.postgresql.Driver"
%[1]s_DB_URL="jdbc:postgresql://%[2]s:%[3]d/%[6]s?%[9]s"
`, prefix, c.Host, c.Port, c.User, pyEscape(c.Password, `:\`), c.Database,
			pyBool(c.Secured), pyBool(c.HostValidation), strings.Join(opts, "&"))
	case style330:
		tls := ""
		if c.Secured {
			tls = "ssl=true"
		}
		if !c.HostValidation {
			tls += "&sslfactory=org.postgresql.ssl.NonValidatingFactory"
		}
		return fmt.Sprintf(`%[1]s_DB_HOST=%[2]s
%[1]s_DB_PORT=%[3]d
%[1]s_DB_USER=%[4]s
%[1]s_DB_PASSWORD="%[5]s"
%[1]s_DB_DATABASE=%[6]s
%[1]s_DB_SECURED=%[7]s
%[1]s_DB_SECURED_VALIDATION=%[8]s
%[1]s_DB_DRIVER=org.postgresql.Driver
%[1]s_DB_URL=jdbc:postgresql://${%[1]s_DB_HOST}:${%[1]s_DB_PORT}/${%[1]s_DB_DATABASE}?%[9]s
`, prefix, c.Host, c.Port, c.User, pyEscape(c.Password, `"\$`), c.Database,
			pyBool(c.Secured), pyBool(c.HostValidation), tls)
	}
	panic("unknown writer style " + string(style))
}

// WriteDatabaseConf writes the file a release of engine-setup wrote into
// dir and returns its path.
func WriteDatabaseConf(t *testing.T, dir string, style writerStyle, prefix string, c testCreds) string {
	t.Helper()
	p := filepath.Join(dir, fmt.Sprintf("10-setup-%s-%s.conf", strings.ToLower(prefix), style))
	writeFile(t, p, RenderDatabaseConf(style, prefix, c))
	return p
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func parseFile(t *testing.T, p string) (*Config, error) {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Parse(p, f)
}
