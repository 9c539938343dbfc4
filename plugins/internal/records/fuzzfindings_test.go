package records

import (
	"strings"
	"testing"
)

// Regressions for what the fuzzing campaign found.

func TestAManifestPathSpelledUncleanlyIsRefused(t *testing.T) {
	for _, p := range []string{"/etc//ovirt-engine/engine.conf", "/etc/./ovirt-engine/engine.conf", "/etc/a/../ovirt-engine/engine.conf", "/etc/ovirt-engine/"} {
		t.Run(p, func(t *testing.T) {
			m := "[file_group_core]\ndescription = Core\noptional = False\nfile.000.name = " + p + "\n"
			_, err := ParseManifest("m.conf", strings.NewReader(m))
			if err == nil || !strings.Contains(err.Error(), "m.conf:4:") {
				t.Fatalf("error = %v, want one at m.conf:4", err)
			}
		})
	}
}

func TestCredentialsWithControlCharactersAreRefused(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"a terminal escape in the host", "ENGINE_DB_HOST=\"h\x1b[31mred\"\nENGINE_DB_PORT=5432\nENGINE_DB_USER=u\nENGINE_DB_PASSWORD=p\nENGINE_DB_DATABASE=d\n"},
		{"a tab in the user", "ENGINE_DB_HOST=h\nENGINE_DB_PORT=5432\nENGINE_DB_USER=\"u\tx\"\nENGINE_DB_PASSWORD=p\nENGINE_DB_DATABASE=d\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("db.conf", strings.NewReader(tt.conf))
			if err != nil {
				t.Skipf("the reader already refuses it: %v", err)
			}
			_, err = DatabaseCredentials(cfg, PrefixEngine)
			if err == nil || !strings.Contains(err.Error(), "control character") || !strings.Contains(err.Error(), "db.conf:") {
				t.Fatalf("error = %v, want a control-character error naming db.conf", err)
			}
		})
	}
	props := "dbHost=db\n  evil: injected line\ndbPort=5432\ndbUsername=u\ndbPassword=p\njs.dbName=d\n"
	if _, err := ReportsDatabaseCredentials("master.properties", strings.NewReader(props)); err == nil || !strings.Contains(err.Error(), "control character") {
		t.Fatalf("master.properties with a continued line: error = %v, want a control-character error", err)
	}
}
