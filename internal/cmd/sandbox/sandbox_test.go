package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/term"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/ovirthost"
	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes 15 to 30 s")
	}
	if err := pgtest.Available(); err != nil {
		t.Skip(err)
	}
	if os.Geteuid() != 0 {
		t.Skip("the sandbox needs root")
	}
	if term.IsTerminal(int(os.Stdin.Fd())) {
		t.Skip("stdin is a terminal: the demo would be interactive")
	}
	var out, errOut bytes.Buffer
	code := run([]string{"demo"}, &out, &errOut)
	t.Logf("sandbox demo -> %d\n%s\n%s", code, out.String(), errOut.String())
	if code != exitOK {
		t.Fatalf("exit %d, want 0", code)
	}
	for _, want := range []string{msgFinished, msgNothingToClean, "3926 -> 0", "no process left behind",
		"the demo went as expected"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo's output lacks %q", want)
		}
	}
	for _, secret := range []string{ovirthost.Password("engine", ovirthost.StyleMaster),
		ovirthost.Password("dwh", ovirthost.StyleMaster), ovirthost.Password("reports", ovirthost.StyleMaster)} {
		if strings.Contains(out.String(), secret) || strings.Contains(errOut.String(), secret) {
			t.Errorf("the demo printed a database password")
		}
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{{nil, exitUsage}, {[]string{"nope"}, exitUsage}, {[]string{"demo", "--bogus"}, exitUsage},
		{[]string{"shell", "extra"}, exitUsage}, {[]string{"--help"}, exitOK}} {
		var out, errOut bytes.Buffer
		if got := run(tc.args, &out, &errOut); got != tc.code {
			t.Errorf("run(%q) = %d, want %d (%s)", tc.args, got, tc.code, errOut.String())
		}
	}
}

func TestDSNForPeople(t *testing.T) {
	if got, want := dsn("127.0.0.1", 5432, "engine", "engine"), "host=127.0.0.1 port=5432 user=engine dbname=engine sslmode=disable"; got != want {
		t.Errorf("dsn = %s, want %s", got, want)
	}
	if got, want := dsn("/a b", 1, "o'k", "d"), `host='/a b' port=1 user='o\'k' dbname=d sslmode=disable`; got != want {
		t.Errorf("dsn = %s, want %s", got, want)
	}
}

func TestWithoutCancellation(t *testing.T) {
	teardown := errors.New("remove x: busy")
	err := errors.Join(fmt.Errorf("build the sandbox: %w", errors.Join(context.Canceled, context.Canceled)), teardown)
	if got := withoutCancellation(err); got == nil || got.Error() != teardown.Error() {
		t.Errorf("withoutCancellation = %v, want only the teardown error", got)
	}
	if got := withoutCancellation(fmt.Errorf("x: %w", context.Canceled)); got != nil {
		t.Errorf("withoutCancellation of a cancellation = %v", got)
	}
}
