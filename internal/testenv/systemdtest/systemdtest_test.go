package systemdtest_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	sdbus "github.com/coreos/go-systemd/v22/dbus"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/systemdtest"
)

// hostCgroups snapshots the cgroups of PID 1 and of the test binary, which
// a manager started in the wrong cgroup would change.
func hostCgroups(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, p := range []string{"/proc/1/cgroup", "/proc/self/cgroup"} {
		c, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(c)
	}
	return b.String()
}

// gone reports whether a process no longer runs (zombies count as gone: a
// manager's orphans are reaped by PID 1, not by us).
func gone(pid int) bool {
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] == "Z"
}

func waitGone(t *testing.T, pid int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !gone(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still running after %v", pid, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func assertRemoved(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived: %v", p, err)
		}
	}
}

// TestServiceOverSystemBus drives a unit through go-systemd's
// NewSystemConnectionContext, as production code does, and checks that the
// manager leaves nothing behind.
func TestServiceOverSystemBus(t *testing.T) {
	before := hostCgroups(t)
	var managerPID, servicePID int
	var rt string
	var cgDirs []string
	t.Run("manager", func(t *testing.T) {
		m := systemdtest.Start(t)
		managerPID, rt = m.PID(), m.RuntimeDir()
		m.InstallUnit(t, "ovirt-engine.service", systemdtest.SimpleServiceUnit("/bin/sh -c 'echo started; exec sleep infinity'"))
		m.UseAsSystemBus(t)

		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		conn, err := sdbus.NewSystemConnectionContext(ctx)
		if err != nil {
			t.Fatalf("connect over DBUS_SYSTEM_BUS_ADDRESS: %v", err)
		}
		defer conn.Close()

		runJob(t, ctx, "start", func(ch chan<- string) (int, error) {
			return conn.StartUnitContext(ctx, "ovirt-engine.service", "replace", ch)
		})
		if got := unitProperty(t, ctx, conn, "ActiveState"); got != "active" {
			t.Fatalf("ActiveState after start: %q", got)
		}
		if got := m.ActiveState(t, "ovirt-engine.service"); got != "active" {
			t.Fatalf("systemctl --user: ActiveState %q", got)
		}
		units, err := conn.ListUnitsByPatternsContext(ctx, nil, []string{"ovirt-*"})
		if err != nil {
			t.Fatal(err)
		}
		if len(units) != 1 || units[0].Name != "ovirt-engine.service" || units[0].SubState != "running" {
			t.Fatalf("ListUnitsByPatterns(ovirt-*): %+v", units)
		}
		p, err := conn.GetServicePropertyContext(ctx, "ovirt-engine.service", "MainPID")
		if err != nil {
			t.Fatal(err)
		}
		servicePID = int(p.Value.Value().(uint32))
		// The service runs in the manager's cgroup subtree, not the host's.
		cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", servicePID))
		if !strings.Contains(string(cg), "/"+m.CgroupName()+"/app.slice/ovirt-engine.service") {
			t.Fatalf("service %d cgroups:\n%s", servicePID, cg)
		}
		cgDirs = m.CgroupDirs()
		if len(cgDirs) == 0 {
			t.Fatal("no cgroup dirs")
		}

		runJob(t, ctx, "stop", func(ch chan<- string) (int, error) {
			return conn.StopUnitContext(ctx, "ovirt-engine.service", "replace", ch)
		})
		if got := unitProperty(t, ctx, conn, "ActiveState"); got != "inactive" {
			t.Fatalf("ActiveState after stop: %q", got)
		}
		waitGone(t, servicePID, 5*time.Second)
		if log, err := os.ReadFile(m.UnitLogPath("ovirt-engine.service")); err != nil || string(log) != "started\n" {
			t.Errorf("unit log: %q, %v", log, err)
		}
	})
	if !gone(managerPID) {
		t.Errorf("manager %d survived the test", managerPID)
	}
	assertRemoved(t, append(cgDirs, rt)...)
	if after := hostCgroups(t); after != before {
		t.Errorf("cgroups of PID 1 or of the test binary changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func runJob(t *testing.T, ctx context.Context, what string, submit func(chan<- string) (int, error)) {
	t.Helper()
	ch := make(chan string, 1)
	if _, err := submit(ch); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	// ActiveState is only final once the job result has arrived.
	select {
	case res := <-ch:
		if res != "done" {
			t.Fatalf("%s job: %s", what, res)
		}
	case <-ctx.Done():
		t.Fatalf("%s job: %v", what, ctx.Err())
	}
}

func unitProperty(t *testing.T, ctx context.Context, conn *sdbus.Conn, name string) string {
	t.Helper()
	p, err := conn.GetUnitPropertyContext(ctx, "ovirt-engine.service", name)
	if err != nil {
		t.Fatal(err)
	}
	return p.Value.Value().(string)
}

func TestStopTimeouts(t *testing.T) {
	m := systemdtest.Start(t)
	m.InstallUnit(t, "slow-stop.service", systemdtest.SigtermIgnoringServiceUnit(500*time.Millisecond, 10*time.Second))
	m.InstallUnit(t, "stuck.service", systemdtest.SigtermIgnoringServiceUnit(-1, time.Second))
	m.Start(t, "slow-stop.service")
	m.Start(t, "stuck.service")

	start := time.Now()
	m.Stop(t, "slow-stop.service")
	took := time.Since(start)
	if took < 500*time.Millisecond || took > 5*time.Second {
		t.Errorf("slow-stop.service stopped in %v, want 0.5 s to 5 s", took)
	}
	if got := m.ActiveState(t, "slow-stop.service"); got != "inactive" {
		t.Errorf("slow-stop.service after stop: %s", got)
	}

	start = time.Now()
	out, err := m.SystemctlErr("stop", "stuck.service")
	took = time.Since(start)
	t.Logf("stopping stuck.service: %v, %q, %v", took, out, err)
	if took < time.Second || took > 10*time.Second {
		t.Errorf("stuck.service stopped in %v, want its 1 s timeout", took)
	}
	if got := m.ActiveState(t, "stuck.service"); got != "failed" {
		t.Errorf("stuck.service after stop timeout: %s", got)
	}
	if got := m.Systemctl(t, "show", "-P", "Result", "stuck.service"); got != "timeout" {
		t.Errorf("stuck.service Result: %s", got)
	}
}

func TestEnableRuntime(t *testing.T) {
	m := systemdtest.Start(t)
	m.InstallUnit(t, "ovirt-engine.service", systemdtest.SimpleServiceUnit("/bin/sleep infinity"))
	if got, _ := m.SystemctlErr("is-enabled", "ovirt-engine.service"); got != "disabled" {
		t.Fatalf("is-enabled before: %q", got)
	}
	m.EnableRuntime(t, "ovirt-engine.service")
	if got := m.Systemctl(t, "is-enabled", "ovirt-engine.service"); got != "enabled-runtime" {
		t.Fatalf("is-enabled after enable --runtime: %q", got)
	}
	link := m.RuntimeDir() + "/systemd/user/default.target.wants/ovirt-engine.service"
	if _, err := os.Lstat(link); err != nil {
		t.Fatalf("enable link: %v", err)
	}
}

func TestParallelManagers(t *testing.T) {
	for i := range 3 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			m := systemdtest.Start(t)
			m.InstallUnit(t, "ovirt-engine.service", systemdtest.SimpleServiceUnit("/bin/sleep infinity"))
			m.Start(t, "ovirt-engine.service")
			if got := m.ActiveState(t, "ovirt-engine.service"); got != "active" {
				t.Fatalf("ActiveState: %s", got)
			}
		})
	}
}

// TestHelperManager is run by TestKilledTestBinaryIsSwept in a child test
// binary that it then kills.
func TestHelperManager(t *testing.T) {
	if os.Getenv("SYSTEMDTEST_HELPER") != "1" {
		t.Skip("helper of TestKilledTestBinaryIsSwept")
	}
	m := systemdtest.Start(t)
	// Never stops on SIGTERM, so the manager, told to exit when we die,
	// waits for it forever.
	m.InstallUnit(t, "stuck.service", systemdtest.SigtermIgnoringServiceUnit(-1, 0))
	m.Start(t, "stuck.service")
	fmt.Printf("READY %d %s %s %s\n", m.PID(), m.RuntimeDir(), m.CgroupName(),
		m.Systemctl(t, "show", "-P", "MainPID", "stuck.service"))
	time.Sleep(time.Hour)
}

// TestKilledTestBinaryIsSwept kills a test binary that runs a manager,
// then the manager itself, leaving a unit's processes in a stale cgroup:
// the next Start must kill them and remove the directories.
func TestKilledTestBinaryIsSwept(t *testing.T) {
	before := hostCgroups(t)
	helper := exec.Command(os.Args[0], "-test.run=^TestHelperManager$", "-test.v")
	helper.Env = append(os.Environ(), "SYSTEMDTEST_HELPER=1")
	helper.Stderr = os.Stderr
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = helper.Process.Kill(); _ = helper.Wait() })
	var managerPID, servicePID int
	var rt, cg string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "READY %d %s %s %d", &managerPID, &rt, &cg, &servicePID); err == nil {
			break
		}
	}
	if managerPID == 0 {
		t.Fatalf("helper did not start a manager: %v", sc.Err())
	}
	go func() { // keep the pipe drained
		for sc.Scan() {
		}
	}()

	_ = helper.Process.Kill()
	_ = helper.Wait()
	// Pdeathsig told the manager to exit; it waits for stuck.service.
	time.Sleep(300 * time.Millisecond)
	if gone(managerPID) {
		// Under load the stuck unit may be killed before this check: no
		// orphan can be made this time.
		t.Skipf("manager %d exited before the check; no orphan to sweep on this run", managerPID)
	}
	// The manager was started by our helper, so it is ours to kill.
	if err := syscall.Kill(managerPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, managerPID, 5*time.Second)
	if gone(servicePID) {
		// Under load the manager sometimes takes its unit with it before
		// the SIGKILL lands: no orphan, so nothing to test this time.
		t.Skipf("service %d died with its manager: no orphan to sweep on this run", servicePID)
	}
	stale := []string{rt}
	for _, root := range []string{"/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		if _, err := os.Stat(root + "/" + cg); err == nil {
			stale = append(stale, root+"/"+cg)
		}
	}
	if len(stale) < 2 {
		t.Fatalf("no stale cgroup dirs for %s", cg)
	}

	m := systemdtest.Start(t)
	waitGone(t, servicePID, 5*time.Second)
	assertRemoved(t, stale...)
	if slices.Contains(m.CgroupDirs(), stale[1]) {
		t.Error("new manager reuses the stale cgroup")
	}
	if after := hostCgroups(t); after != before {
		t.Errorf("cgroups of PID 1 or of the test binary changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
