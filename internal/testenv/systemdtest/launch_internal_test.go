package systemdtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLaunchScriptRefusesForeignCgroup runs the launch script with a fake
// hierarchy, where writing cgroup.procs moves nothing: the script must stop
// before mounting anything or starting "systemd" (here /bin/echo). It runs
// in a private mount namespace anyway, as the harness does.
func TestLaunchScriptRefusesForeignCgroup(t *testing.T) {
	tools := skipIfUnavailable(t)
	fake := t.TempDir()
	const cg = "sdu-fake-1"
	if err := os.MkdirAll(filepath.Join(fake, cg), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, check := range []string{"CHECK_V1=1", "CHECK_V2=1"} {
		cmd := exec.Command(tools.unshare, "--mount", "--propagation", "private",
			tools.bash, "-c", launchScript, "systemdtest-launch", fake)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "CG=" + cg, "RT=" + fake, "SYSTEMD=/bin/echo", check}
		out, err := cmd.CombinedOutput()
		if err == nil || strings.Contains(string(out), "--user") || !strings.Contains(string(out), "still in cgroup") {
			t.Errorf("%s: launch script did not refuse: %v: %s", check, err, out)
		}
	}
}

func TestOwnerPID(t *testing.T) {
	for name, want := range map[string]int{"sdu-123-456": 123, "sdu-123-": 0, "sdu-x-1": 0, "sdu-probe1": 0, "pgc-1-2": 0} {
		got, ok := ownerPID(name)
		if (want != 0) != ok || got != want && ok {
			t.Errorf("ownerPID(%q) = %d, %v", name, got, ok)
		}
	}
}
