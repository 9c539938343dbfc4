package systemdtest_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/systemdtest"
)

// TestStartManagerForPrograms drives the entry points for programs that
// are not tests: nothing is registered with t, so the test checks itself
// that Shutdown stops the manager and its units and removes its cgroups
// and runtime directory.
func TestStartManagerForPrograms(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("systemdtest: needs root")
	}
	before := hostCgroups(t)
	m, err := systemdtest.StartManager()
	if err != nil {
		t.Fatal(err)
	}
	shut := false
	t.Cleanup(func() {
		if !shut {
			_ = m.Shutdown()
		}
	})
	managerPID, rt := m.PID(), m.RuntimeDir()

	if err := m.InstallUnitErr("ovirt-engine.service", systemdtest.SimpleServiceUnit("/bin/sleep infinity")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.SystemctlErr("start", "ovirt-engine.service"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.SystemctlErr("enable", "--runtime", "ovirt-engine.service"); err != nil {
		t.Fatal(err)
	}
	out, err := m.SystemctlErr("show", "-P", "MainPID", "ovirt-engine.service")
	if err != nil {
		t.Fatal(err)
	}
	servicePID, err := strconv.Atoi(out)
	if err != nil || servicePID == 0 {
		t.Fatalf("MainPID %q: %v", out, err)
	}
	cgDirs := m.CgroupDirs()
	if _, err := os.Stat(m.LogPath()); err != nil {
		t.Errorf("manager log: %v", err)
	}
	if err := m.InstallUnitErr("missing-dir/x.service", "x"); err == nil || !strings.Contains(err.Error(), "systemdtest: install unit") {
		t.Errorf("InstallUnitErr into a missing directory: %v", err)
	}

	if err := m.Shutdown(); err != nil {
		t.Fatal(err)
	}
	shut = true
	waitGone(t, managerPID, 5*time.Second)
	waitGone(t, servicePID, 5*time.Second)
	assertRemoved(t, append(cgDirs, rt)...)
	if after := hostCgroups(t); after != before {
		t.Errorf("host cgroups changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
