package services_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/engine-cleanup/engine-cleanup/plugins/services"
)

// initScript is an LSB init script for a sleep "daemon" with a pid file.
// "start" execs sleep in the foreground, so that the test that runs it is
// its parent and reaps it: an orphan nobody reaps would stay a zombie,
// and "kill -0" would call it running forever. %[3]s is run first by
// "stop", to make it misbehave.
const initScript = `#!/bin/sh
PIDFILE=%[1]s/%[2]s.pid
case "$1" in
start)
	echo $$ > "$PIDFILE"
	exec sleep 1000
	;;
stop)
	%[3]s
	[ -f "$PIDFILE" ] || exit 0
	pid=$(cat "$PIDFILE")
	kill "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
	rm -f "$PIDFILE"
	exit 0
	;;
status)
	env > %[1]s/%[2]s.env
	if [ -f "$PIDFILE" ]; then
		if kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then echo running; exit 0; fi
		echo "dead, pid file exists"; exit 1
	fi
	echo "not running"; exit 3
	;;
*)
	echo "usage: $0 {start|stop|status}"; exit 2
	;;
esac
`

// Misbehaviours of "stop".
const (
	stopNormally = ":"
	// stopHangs records its PID and never finishes. It execs sleep rather
	// than loop over "sleep 0.1": a helper killed with its script becomes
	// an orphan, and on a host whose PID 1 does not reap orphans (the
	// reference machine's) it would stay a zombie.
	stopHangs = `echo $$ > "$PIDFILE.stopper"; exec sleep 1000`
	// stopDoesNothing claims success and leaves the daemon running.
	stopDoesNothing = "exit 0"
)

// sysvHost is a fake /etc with init.d and rc?.d, and a run directory.
type sysvHost struct {
	etc, initDir, run string
}

func newSysVHost(t *testing.T) *sysvHost {
	t.Helper()
	root := t.TempDir()
	h := &sysvHost{etc: filepath.Join(root, "etc"), run: filepath.Join(root, "run")}
	h.initDir = filepath.Join(h.etc, "init.d")
	for _, d := range []string{h.initDir, h.run, filepath.Join(h.etc, "rc3.d")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func (h *sysvHost) install(t *testing.T, name, stopPrelude string) string {
	t.Helper()
	path := filepath.Join(h.initDir, name)
	if err := os.WriteFile(path, []byte(fmt.Sprintf(initScript, h.run, name, stopPrelude)), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// enable makes the S link that chkconfig on would make.
func (h *sysvHost) enable(t *testing.T, name string) string {
	t.Helper()
	link := filepath.Join(h.etc, "rc3.d", "S80"+name)
	if err := os.Symlink("../init.d/"+name, link); err != nil {
		t.Fatal(err)
	}
	return link
}

func (h *sysvHost) open(t *testing.T) services.Manager {
	t.Helper()
	mgr := openManager(t, "sysv", services.WithInitDir(h.initDir))
	if mgr.Kind() != services.KindSysV {
		t.Fatalf("Open(sysv) gave %s", mgr.Kind())
	}
	return mgr
}

// daemon is a service process started by "<script> start".
type daemon struct {
	pid    int
	reaped chan struct{}
}

func (h *sysvHost) start(t *testing.T, name string) *daemon {
	t.Helper()
	cmd := exec.Command(filepath.Join(h.initDir, name), "start")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{pid: cmd.Process.Pid, reaped: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(d.reaped)
	}()
	// Kill it by PID if a test left it running.
	t.Cleanup(func() {
		_ = syscall.Kill(d.pid, syscall.SIGKILL)
		<-d.reaped
	})
	pidFile := filepath.Join(h.run, name+".pid")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, err := os.ReadFile(pidFile); err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(d.pid) {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s start: no pid file %s", name, pidFile)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// assertGone waits briefly for the daemon to be reaped: Stop returns once
// status says "not running", which may be a moment before we reap it.
func (d *daemon) assertGone(t *testing.T) {
	t.Helper()
	select {
	case <-d.reaped:
	case <-time.After(5 * time.Second):
		t.Fatalf("process %d still running after Stop", d.pid)
	}
	if err := syscall.Kill(d.pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process %d: kill -0 says %v, want ESRCH", d.pid, err)
	}
}

func (d *daemon) running() bool {
	select {
	case <-d.reaped:
		return false
	default:
		return true
	}
}

func TestSysVStatus(t *testing.T) {
	h := newSysVHost(t)
	h.install(t, "ovirt-engine", stopNormally)
	h.enable(t, "ovirt-engine")
	h.start(t, "ovirt-engine")
	h.install(t, "engine-notifierd", stopNormally)
	h.install(t, "jbossas", stopNormally)
	if err := os.WriteFile(filepath.Join(h.run, "jbossas.pid"), []byte("999999999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.initDir, "jboss-as"), []byte("#!/bin/sh\nexit 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mgr := h.open(t)

	tests := []struct {
		unit string
		want services.Status
	}{
		{"ovirt-engine.service", services.Status{Unit: "ovirt-engine", Exists: true, Active: true, State: "running",
			Enabled: true, EnablementState: "enabled"}},
		{"engine-notifierd", services.Status{Unit: "engine-notifierd", Exists: true, State: "not running",
			EnablementState: "disabled"}},
		{"jbossas", services.Status{Unit: "jbossas", Exists: true, State: "dead (pid file exists)",
			EnablementState: "disabled"}},
		// Not executable: not an init script.
		{"jboss-as", services.Status{Unit: "jboss-as", State: "not installed", EnablementState: "disabled"}},
		{"ovirt-websocket-proxy", services.Status{Unit: "ovirt-websocket-proxy", State: "not installed", EnablementState: "disabled"}},
		{"ovirt-engine.socket", services.Status{Unit: "ovirt-engine.socket", State: "not installed", EnablementState: "disabled"}},
	}
	for _, tt := range tests {
		got, err := mgr.Status(t.Context(), tt.unit)
		if err != nil {
			t.Fatalf("Status(%s): %v", tt.unit, err)
		}
		if got != tt.want {
			t.Errorf("Status(%s):\n got %+v\nwant %+v", tt.unit, got, tt.want)
		}
	}
	for _, bad := range []string{"../../bin/sh", "-rf", "a b", ""} {
		if _, err := mgr.Status(t.Context(), bad); !errors.Is(err, services.ErrInvalidName) {
			t.Errorf("Status(%q): %v, want ErrInvalidName", bad, err)
		}
	}
}

func TestSysVScriptsRunWithACleanEnvironment(t *testing.T) {
	t.Setenv("ENGINE_CLEANUP_LEAK", "secret")
	h := newSysVHost(t)
	h.install(t, "ovirt-engine", stopNormally)
	if _, err := h.open(t).Status(t.Context(), "ovirt-engine"); err != nil {
		t.Fatal(err)
	}
	env, err := os.ReadFile(filepath.Join(h.run, "ovirt-engine.env"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(env), "ENGINE_CLEANUP_LEAK") || !strings.Contains(string(env), "PATH=/usr/local/sbin:") {
		t.Errorf("environment of the init script:\n%s", env)
	}
}

func TestSysVStop(t *testing.T) {
	h := newSysVHost(t)
	h.install(t, "ovirt-engine", stopNormally)
	d := h.start(t, "ovirt-engine")
	mgr := h.open(t)
	ctx := t.Context()

	out, err := mgr.Stop(ctx, "ovirt-engine.service", 10*time.Second)
	if err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if want := (services.Outcome{Unit: "ovirt-engine", Result: services.ResultStopped}); out != want {
		t.Errorf("Stop: %+v, want %+v", out, want)
	}
	d.assertGone(t)

	out, err = mgr.Stop(ctx, "ovirt-engine", 10*time.Second)
	if err != nil || out.Result != services.ResultAlreadyInactive {
		t.Errorf("second Stop: %v, %v; want already inactive", out, err)
	}
	out, err = mgr.Stop(ctx, "engine-notifierd", 10*time.Second)
	if err != nil || out.Result != services.ResultNotInstalled {
		t.Errorf("Stop of a missing script: %v, %v; want not installed", out, err)
	}
}

// A pid file without its process: stop runs anyway (LSB stop is
// idempotent) and cleans up the stale file.
func TestSysVStopDeadWithPidFile(t *testing.T) {
	h := newSysVHost(t)
	h.install(t, "jbossas", stopNormally)
	pidFile := filepath.Join(h.run, "jbossas.pid")
	if err := os.WriteFile(pidFile, []byte("999999999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := h.open(t).Stop(t.Context(), "jbossas", 10*time.Second)
	if err != nil || out.Result != services.ResultStopped || !strings.Contains(out.Detail, "dead (pid file exists)") {
		t.Errorf("Stop: %v, %v; want stopped, noting the stale pid file", out, err)
	}
	if _, err := os.Stat(pidFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale pid file survived: %v", err)
	}
}

func TestSysVStopTimeout(t *testing.T) {
	tests := []struct {
		name, stop string
	}{
		{"stop script never finishes", stopHangs},
		{"stop script leaves the daemon running", stopDoesNothing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSysVHost(t)
			h.install(t, "ovirt-engine", tt.stop)
			d := h.start(t, "ovirt-engine")
			mgr := h.open(t)

			begin := time.Now()
			_, err := mgr.Stop(t.Context(), "ovirt-engine", time.Second)
			took := time.Since(begin)
			var te *services.StopTimeoutError
			if !errors.As(err, &te) {
				t.Fatalf("Stop: %v, want a *StopTimeoutError", err)
			}
			t.Logf("Stop returned after %v: %v", took, err)
			if !strings.Contains(err.Error(), "ovirt-engine") || !strings.Contains(err.Error(), "service ovirt-engine stop") {
				t.Errorf("timeout error does not name the service and the command: %v", err)
			}
			if took > 3*time.Second {
				t.Errorf("Stop took %v with a 1 s timeout", took)
			}
			if !d.running() {
				t.Errorf("the daemon stopped, the test is void")
			}
			// A stop script we gave up on is killed with its helpers.
			if b, err := os.ReadFile(filepath.Join(h.run, "ovirt-engine.pid.stopper")); err == nil {
				pgid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
				if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
					t.Errorf("process group %d of the stop script survived: %v", pgid, err)
				}
			}
		})
	}
}

func TestSysVStopCancelled(t *testing.T) {
	h := newSysVHost(t)
	h.install(t, "ovirt-engine", stopHangs)
	h.start(t, "ovirt-engine")
	mgr := h.open(t)

	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(300*time.Millisecond, cancel)
	begin := time.Now()
	_, err := mgr.Stop(ctx, "ovirt-engine", time.Minute)
	took := time.Since(begin)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop with a cancelled context: %v, want context.Canceled", err)
	}
	t.Logf("Stop returned %v after start (cancel at 300ms): %v", took, err)
	if took > 1500*time.Millisecond {
		t.Errorf("Stop returned %v after start, 300 ms is expected", took)
	}
}

func TestSysVConcurrentStop(t *testing.T) {
	h := newSysVHost(t)
	var names []string
	var daemons []*daemon
	for i := range 5 {
		name := fmt.Sprintf("ovirt-test-%d", i)
		h.install(t, name, stopNormally)
		daemons = append(daemons, h.start(t, name))
		names = append(names, name)
	}
	outs, errs := stopAll(t.Context(), h.open(t), names)
	for i, name := range names {
		if errs[i] != nil || outs[i].Result != services.ResultStopped {
			t.Errorf("Stop(%s): %v, %v", name, outs[i], errs[i])
		}
		daemons[i].assertGone(t)
	}
}

// TestSysVDisable: chkconfig and update-rc.d only know the host's /etc, so
// with a test init dir Disable must report, and touch nothing.
func TestSysVDisable(t *testing.T) {
	h := newSysVHost(t)
	h.install(t, "ovirt-engine", stopNormally)
	h.install(t, "engine-notifierd", stopNormally)
	link := h.enable(t, "ovirt-engine")
	mgr := h.open(t)
	ctx := t.Context()

	out, err := mgr.Disable(ctx, "ovirt-engine")
	if err != nil || out.Result != services.ResultNotDisabled || !strings.Contains(out.Detail, link) {
		t.Errorf("Disable: %v, %v; want not disabled, naming %s", out, err, link)
	}
	if _, err := os.Lstat(link); err != nil {
		t.Errorf("Disable touched %s: %v", link, err)
	}
	out, err = mgr.Disable(ctx, "engine-notifierd")
	if err != nil || out.Result != services.ResultAlreadyDisabled {
		t.Errorf("Disable of a service without S links: %v, %v; want already disabled", out, err)
	}
	out, err = mgr.Disable(ctx, "ovirt-websocket-proxy")
	if err != nil || out.Result != services.ResultNotInstalled {
		t.Errorf("Disable of a missing script: %v, %v; want not installed", out, err)
	}
}
