package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/ovirthost"
	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest/schema"
)

// TestNoSecretOfTheHostLeaks runs a full cleanup of a host with every
// component and looks for every password the host holds — database and
// keystore passwords, with ", $, \, : and spaces — in the console, --json,
// the log and the saved answers.
func TestNoSecretOfTheHostLeaks(t *testing.T) {
	s := newSite(t, siteOptions{era: ovirthost.EraOtopi, tcp: true, size: schema.Small(), dwh: true, reports: true})
	if len(s.host.Passwords) < 4 {
		t.Fatalf("the host holds only %d passwords", len(s.host.Passwords))
	}
	r := s.run("-u", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	places := map[string]string{"stdout (--json)": r.stdout, "stderr (console)": r.stderr}
	for _, p := range []string{jsonField(t, r.stdout, "log_file"), jsonField(t, r.stdout, "answer_file")} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("reading %s: %v", p, err)
		}
		places[filepath.Base(p)] = string(data)
	}
	// A plain run too: the console without --json.
	if r2 := s.run("-u"); r2.code != 0 {
		t.Fatalf("rerun: exit %d", r2.code)
	} else {
		places["stdout (console)"] = r2.stdout
	}
	for _, pw := range s.host.Passwords {
		quoted, _ := json.Marshal(pw)
		for name, text := range places {
			for _, form := range []string{pw, string(quoted[1 : len(quoted)-1])} {
				if len(form) >= 6 && strings.Contains(text, form) {
					t.Errorf("a password of the host appears in %s", name)
				}
			}
		}
	}
	// The findings show each database with its password masked: proof
	// that the credentials were read, so the check above could fail.
	if !strings.Contains(places["stderr (console)"], "(password ********") {
		t.Error("the console shows no masked password: were the credentials read at all?")
	}
}

func jsonField(t *testing.T, doc, field string) string {
	t.Helper()
	var m map[string]interface{}
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("--json output: %v", err)
	}
	v, _ := m[field].(string)
	if v == "" {
		t.Fatalf("--json has no %s", field)
	}
	return v
}
