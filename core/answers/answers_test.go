package answers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/sdk"
	"github.com/engine-cleanup/engine-cleanup/sdk/otopi"
)

func parse(t *testing.T, text string) *otopi.File {
	t.Helper()
	f, err := otopi.Parse("answers.conf", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var dropQ = Question{Plugin: "engine", Question: sdk.Question{Key: "engine.drop", Prompt: "Drop database?",
	Type: sdk.YesNo, Default: "true", AnswerKey: "OVESETUP_REMOVE/engineDatabase", Purpose: sdk.PurposeDropDatabase}}

var cacheQ = Question{Plugin: "x", Question: sdk.Question{Key: "x.cache", Prompt: "Cache?", Type: sdk.YesNo,
	Default: "true", AnswerKey: "OVESETUP_X/cache"}}

func TestResolve(t *testing.T) {
	tests := []struct {
		name      string
		in        Inputs
		q         Question
		want      string
		source    string
		mustAsk   bool
		wantError string
	}{
		{name: "-d answers a database question No", in: Inputs{DontDropDB: true}, q: dropQ, want: "false", source: FromFlag},
		{name: "-d wins over an answer file", in: Inputs{DontDropDB: true, Files: []*otopi.File{parse(t, "[environment:default]\nOVESETUP_REMOVE/engineDatabase=bool:True\n")}}, q: dropQ, want: "false", source: FromFlag},
		{name: "-d leaves other questions alone", in: Inputs{DontDropDB: true}, q: cacheQ, mustAsk: true},
		{name: "-u takes the default", in: Inputs{Unattended: true}, q: dropQ, want: "true", source: FromDefault},
		{name: "-u approves the final question", in: Inputs{Unattended: true}, q: Question{Plugin: "core", Question: ApprovalQuestion}, want: "true", source: FromFlag},
		{name: "an answer file wins over -u", in: Inputs{Unattended: true, Files: []*otopi.File{parse(t, "[environment:default]\nOVESETUP_X/cache=bool:False\n")}}, q: cacheQ, want: "false", source: FromFile},
		{name: "auto-accept takes defaults", in: Inputs{Files: []*otopi.File{parse(t, "[environment:default]\nDIALOG/autoAcceptDefault=bool:True\n")}}, q: cacheQ, want: "true", source: FromAutoAccept},
		{name: "auto-accept takes Cancel for the final approval", in: Inputs{Files: []*otopi.File{parse(t, "[environment:default]\nDIALOG/autoAcceptDefault=bool:True\n")}}, q: Question{Plugin: "core", Question: ApprovalQuestion}, want: "false", source: FromAutoAccept},
		{name: "nothing answers: it must be asked", q: cacheQ, mustAsk: true},
		{name: "a str for a yes-no question is an error naming file and line", in: Inputs{Files: []*otopi.File{parse(t, "[environment:default]\n\nOVESETUP_X/cache=str:yes\n")}}, q: cacheQ, wantError: "answers.conf:3: OVESETUP_X/cache must be bool:True or bool:False, not str"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok, err := tt.in.Resolve(tt.q)
			if tt.wantError != "" {
				if err == nil || err.Error() != tt.wantError {
					t.Fatalf("error = %v, want %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ok == tt.mustAsk {
				t.Fatalf("resolved = %v, want %v", ok, !tt.mustAsk)
			}
			if ok && (a.Value != tt.want || a.Source != tt.source) {
				t.Fatalf("got %q from %s, want %q from %s", a.Value, a.Source, tt.want, tt.source)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name, file, wantError string
	}{
		{name: "known keys and otopi's question records pass", file: "[environment:default]\nOVESETUP_CORE/remove=bool:True\nOVESETUP_X/cache=bool:False\nQUESTION/1/X=str:yes\n"},
		{name: "an unknown key is refused with its line", file: "[environment:default]\nOVESETUP_CORE/remove=bool:True\nOVESETUP_NOPE/x=bool:True\n", wantError: `answers.conf:3: unknown answer key "OVESETUP_NOPE/x"`},
		{name: "removeAll False is refused", file: "[environment:default]\nOVESETUP_REMOVE/removeAll=bool:False\n", wantError: "partial cleanup is not supported"},
		{name: "a core key of the wrong type is refused", file: "[environment:default]\nDIALOG/autoAcceptDefault=int:1\n", wantError: "answers.conf:2: DIALOG/autoAcceptDefault must be bool:True or bool:False, not int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Inputs{Files: []*otopi.File{parse(t, tt.file)}}
			err := in.Check([]string{"OVESETUP_X/cache"})
			if tt.wantError == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantError != "" && (err == nil || !strings.Contains(err.Error(), tt.wantError)) {
				t.Fatalf("error = %v, want %q", err, tt.wantError)
			}
		})
	}
}

func TestSaveWritesAPrivateOtopiFileWithoutSecrets(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "answers")
	pw := Question{Plugin: "db", Question: sdk.Question{Key: "db.pw", Prompt: "Password?", Type: sdk.Password, AnswerKey: "OVESETUP_DB/password"}}
	used := []Answer{
		{Question: dropQ, Value: "false", Source: FromFlag},
		{Question: pw, Value: "s3cret-pass", Source: FromFile},
		{Question: Question{Plugin: "core", Question: ApprovalQuestion}, Value: "true", Source: FromFlag},
	}
	path, err := Save(dir, "20261121000000", "1.0", used)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != "20261121000000-cleanup.conf" {
		t.Errorf("path = %s", path)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, %v; want 0600", fi.Mode(), err)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "s3cret-pass") {
		t.Fatalf("the password was saved:\n%s", data)
	}
	f, err := otopi.ReadFile(path)
	if err != nil {
		t.Fatalf("the saved file does not read back: %v", err)
	}
	env := otopi.Merge(f)
	if v, _ := env.Bool("OVESETUP_REMOVE/engineDatabase"); v {
		t.Error("engineDatabase should read back False")
	}
	if v, ok := env.Bool(KeyRemove); !ok || !v {
		t.Error("OVESETUP_CORE/remove should read back True")
	}
	if _, ok := env["OVESETUP_DB/password"]; ok {
		t.Error("the password key was saved")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}
