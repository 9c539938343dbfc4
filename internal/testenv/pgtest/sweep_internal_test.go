package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestSweepStaleRemovesOnlyDeadOwners(t *testing.T) {
	// A PID that existed a moment ago and is free now.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid
	root := dataRoot()
	stale := []string{fmt.Sprintf("pgt-%d", dead), fmt.Sprintf("pgc-%d-123", dead)}
	// PID 1 is always alive; "pgc-x" has no PID: neither may be touched.
	kept := []string{"pgc-1-sweeptest", "pgc-x-sweeptest"}
	for _, d := range append(stale, kept...) {
		if err := os.MkdirAll(filepath.Join(root, d, "data"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, d := range append(stale, kept...) {
			os.RemoveAll(filepath.Join(root, d))
		}
	})
	sweepStale()
	for _, d := range stale {
		if _, err := os.Stat(filepath.Join(root, d)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stale %s not swept: %v", d, err)
		}
	}
	for _, d := range kept {
		if _, err := os.Stat(filepath.Join(root, d)); err != nil {
			t.Errorf("%s swept: %v", d, err)
		}
	}
}

func TestDSNQuoting(t *testing.T) {
	got := DSN("host", "/tmp/x", "password", `a'b\c`)
	if want := `host='/tmp/x' password='a\'b\\c'`; got != want {
		t.Fatalf("DSN = %s, want %s", got, want)
	}
	if got, want := redact(got), `host='/tmp/x' password=xxx`; got != want {
		t.Fatalf("redact = %s, want %s", got, want)
	}
}
