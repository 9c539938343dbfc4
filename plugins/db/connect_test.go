package db

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

// secretPW is distinctive so that finding it anywhere is meaningful.
const secretPW = "Zq7-wrong-but-secret-9Xk"

func TestConnectClassifiesFailuresWithoutRevealingThePassword(t *testing.T) {
	c := smallCluster(t)
	c.Exec(t, "postgres", "CREATE DATABASE locked", "REVOKE CONNECT ON DATABASE locked FROM PUBLIC")
	for _, tc := range []struct {
		name   string
		target func() Target
		want   error
	}{
		{"a wrong password is an authentication error", func() Target {
			tg := remoteTarget(c, engineDB)
			tg.Password = secretPW
			return tg
		}, ErrAuthentication},
		{"an unknown role is an authentication error", func() Target {
			tg := remoteTarget(c, engineDB)
			tg.User = "nobody"
			tg.Password = secretPW
			return tg
		}, ErrAuthentication},
		{"a port where nothing listens is unreachable", func() Target {
			tg := remoteTarget(c, engineDB)
			tg.Port = closedPort(t)
			tg.Password = secretPW
			return tg
		}, ErrUnreachable},
		{"a socket directory without a server is unreachable", func() Target {
			tg := remoteTarget(c, engineDB)
			tg.Host = t.TempDir()
			tg.Password = secretPW
			return tg
		}, ErrUnreachable},
		{"a database that does not exist is missing", func() Target {
			tg := remoteTarget(c, "dropped_already")
			tg.Password = records.Secret(enginePW)
			return tg
		}, ErrDatabaseMissing},
		{"a database without CONNECT for the role is a permission error", func() Target {
			return remoteTarget(c, "locked")
		}, ErrPermission},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := tc.target()
			conn, _, err := Connect(ctxFor(t), tg)
			if err == nil {
				closeQuietly(conn)
				t.Fatal("Connect succeeded")
			}
			var ce *ConnectError
			if !errors.Is(err, tc.want) || !errors.As(err, &ce) {
				t.Fatalf("Connect: %v; want a *ConnectError matching %v", err, tc.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tg.String()) || ce.Target != tg.String() {
				t.Errorf("error does not name %s: %s", tg, msg)
			}
			if strings.Contains(msg, secretPW) || strings.Contains(msg, enginePW) {
				t.Errorf("error reveals the password: %s", msg)
			}
			t.Log(msg)
		})
	}
}

func TestConnectTriesTheAlternativePasswordAndSaysSo(t *testing.T) {
	c := smallCluster(t)
	tg := remoteTarget(c, engineDB)
	tg.Password, tg.AltPassword = secretPW, records.Secret(enginePW)

	conn, used, err := Connect(ctxFor(t), tg)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	closeQuietly(conn)
	if !AltPasswordUsed(tg, used) || used.Password.Reveal() != enginePW || !used.AltPassword.IsZero() {
		t.Fatalf("Connect did not report the alternative password: used %v", AltPasswordUsed(tg, used))
	}
	// Everything downstream works with the recorded pair too.
	ins, err := Inspect(ctxFor(t), tg)
	if err != nil || !ins.UsedAltPassword {
		t.Fatalf("Inspect: alt used %v, error %v", ins.UsedAltPassword, err)
	}
	tool, err := CheckDumpTool(ctxFor(t), 15)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Backup(ctxFor(t), tg, tool, BackupOptions{Dir: t.TempDir(), Prefix: "engine"}); err != nil {
		t.Fatalf("Backup with the alternative password: %v", err)
	}
	if res, err := Clear(ctxFor(t), tg, nil); err != nil || !res.UsedAltPassword {
		t.Fatalf("Clear: alt used %v, error %v", res.UsedAltPassword, err)
	}

	tg.AltPassword = "also-wrong"
	if _, _, err := Connect(ctxFor(t), tg); !errors.Is(err, ErrAuthentication) {
		t.Fatalf("both passwords wrong: %v, want an authentication error", err)
	}
}

func TestTargetNeverPrintsItsPasswords(t *testing.T) {
	tg := Target{Host: "db.example.com", Port: 5433, User: "engine", Password: secretPW, AltPassword: secretPW + "alt", Database: "engine"}
	js, _ := json.Marshal(tg)
	for _, s := range []string{
		fmt.Sprint(tg), fmt.Sprintf("%v %+v %#v %s %q %x", tg, tg, tg, tg, tg, tg),
		fmt.Sprintf("%+v", struct{ T Target }{tg}), string(js), tg.conninfo(),
	} {
		if strings.Contains(s, secretPW) || strings.Contains(s, fmt.Sprintf("%x", secretPW)) {
			t.Fatalf("password printed: %s", s)
		}
	}
	if got := tg.String(); got != "engine@db.example.com:5433/engine" {
		t.Errorf("String() = %q", got)
	}
	if got := (Target{Host: "::1", User: "u", Database: "d"}).String(); got != "u@[::1]:5432/d" {
		t.Errorf("IPv6 String() = %q", got)
	}
}

func TestTargetTakesSSLModeFromTheRecords(t *testing.T) {
	for _, tc := range []struct {
		secured, validate bool
		want              string
	}{{false, false, "prefer"}, {true, false, "require"}, {true, true, "verify-full"}, {false, true, "prefer"}} {
		creds := records.DBCreds{Host: "h", Port: 1, User: "u", Database: "d", Password: "p", Secured: tc.secured, SecuredHostValidation: tc.validate}
		if got := TargetFromRecords(creds).SSLMode(); got != tc.want {
			t.Errorf("secured %v validation %v: sslmode %s, want %s", tc.secured, tc.validate, got, tc.want)
		}
	}
}

func TestPasswordsWithQuotesDollarsBackslashesColonsAndSpacesWorkEndToEnd(t *testing.T) {
	for _, pw := range []string{`a"b$c\d:e f'g`, `\:\\::$$"`, `trailing\`, ` lead and trail `} {
		t.Run(pw, func(t *testing.T) {
			c := pgtest.Start(t, pgtest.WithTCP())
			u := c.RemoteDBUser(t, "eng:ine", pw, "eng ine")
			c.ExecAs(t, u.Database, u.Name, "CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2)")
			tg := targetOf(u)
			ctx := ctxFor(t)

			tool, err := CheckDumpTool(ctx, 15)
			if err != nil {
				t.Fatal(err)
			}
			dump, err := Backup(ctx, tg, tool, BackupOptions{Dir: t.TempDir(), Prefix: "engine"})
			if err != nil {
				t.Fatalf("Backup: %v", err)
			}
			if info, err := os.Stat(dump); err != nil || info.Size() == 0 {
				t.Fatalf("dump %s: %v", dump, err)
			}
			if _, err := Clear(ctx, tg, nil); err != nil {
				t.Fatalf("Clear: %v", err)
			}
			if got := c.ObjectsOwnedBy(t, u.Database, u.Name); len(got) != 0 {
				t.Fatalf("left %q", got)
			}
			gotRows, _ := restoreCounts(t, c, dump)
			if gotRows["public.t"] != 2 {
				t.Fatalf("restored rows %v", gotRows)
			}
		})
	}
}

func TestPgpassLinesEscapeColonsAndBackslashes(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    Target
		want string
	}{
		{"plain", Target{Host: "db", Port: 5432, User: "engine", Database: "engine", Password: "pw"}, "db:5432:engine:engine:pw\n"},
		{"colons and backslashes in every field",
			Target{Host: "fe80::1", Port: 5432, User: `a:b`, Database: `c\d`, Password: `e:f\g`},
			`fe80\:\:1:5432:c\\d:a\:b:e\:f\\g` + "\n"},
		{"quotes, dollars and spaces stay literal", Target{Host: "db", Port: 1, User: "u", Database: "d", Password: `"$ x`}, "db:1:d:u:\"$ x\n"},
		{"a socket matches any host", Target{Host: "/run/postgresql", Port: 5432, User: "u", Database: "d", Password: "p"}, "*:5432:d:u:p\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pgpassLine(tc.t)
			if err != nil || got != tc.want {
				t.Fatalf("pgpassLine = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := pgpassLine(Target{Host: "h", User: "u", Database: "d", Password: "a\nb"}); err == nil || strings.Contains(err.Error(), "a\nb") {
		t.Fatalf("a password with a line break: %v", err)
	}
}

func TestDumpEnvironmentHasNoPasswordButThePgpassFile(t *testing.T) {
	env := dumpEnv([]string{"PATH=/bin", "PGPASSWORD=" + secretPW, "PGHOST=elsewhere", "PGSSLROOTCERT=/ca.pem", "HOME=/root"}, "/dev/fd/3")
	joined := strings.Join(env, "\n")
	if strings.Contains(joined, secretPW) || strings.Contains(joined, "PGHOST") {
		t.Fatalf("environment keeps PGPASSWORD or PGHOST: %q", env)
	}
	for _, want := range []string{"PATH=/bin", "PGSSLROOTCERT=/ca.pem", "PGPASSFILE=/dev/fd/3"} {
		if !strings.Contains(joined, want) {
			t.Errorf("environment lacks %s: %q", want, env)
		}
	}
}
