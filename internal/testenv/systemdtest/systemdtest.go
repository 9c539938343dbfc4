package systemdtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// readyTimeout is generous: 5 managers starting at once on 2 vCPUs
	// take 0.2 s each, and CI machines are often busier.
	readyTimeout = 60 * time.Second
	// defaultStopTimeout bounds how long a unit may take to stop, hence
	// how long the manager takes to exit, unless the unit sets
	// TimeoutStopSec= itself (systemd's default is 90 s).
	defaultStopTimeout = 10 * time.Second
	// shutdownTimeout is how long Shutdown waits after SIGTERM before
	// killing the manager.
	shutdownTimeout = 60 * time.Second
	pollInterval    = 10 * time.Millisecond
)

// Manager is a private systemd user manager.
type Manager struct {
	rt    string   // runtime directory ($XDG_RUNTIME_DIR of the manager)
	cg    string   // name of the manager's cgroup under each hierarchy root
	roots []string // hierarchy roots the manager was placed in

	proc    *os.Process
	exited  chan struct{} // closed once the manager has been reaped
	waitErr error         // valid after exited is closed

	mu          sync.Mutex
	shutDown    bool
	shutdownErr error
}

// Start starts a manager that is stopped, and whose directories are
// removed, when the test ends. It skips the test if systemd, unshare or
// writable cgroups are missing.
func Start(t testing.TB) *Manager {
	t.Helper()
	tools := skipIfUnavailable(t)
	roots, err := managerRoots()
	if err != nil {
		t.Skipf("systemdtest: %v", err)
	}
	sweepStale(t.Logf)

	m, err := newManager(roots)
	if err != nil {
		t.Fatalf("systemdtest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("systemdtest: manager log:\n%s", tail(m.logPath(), 40))
		}
		if err := m.Shutdown(); err != nil {
			t.Errorf("systemdtest: %v", err)
		}
	})
	begin := time.Now()
	if err := m.boot(tools); err != nil {
		// A hierarchy we cannot write to means no cgroup of our own: skip
		// rather than start systemd anywhere else.
		if errors.Is(err, errCgroupsNotWritable) {
			t.Skipf("systemdtest: %v", err)
		}
		t.Fatalf("systemdtest: %v", err)
	}
	t.Logf("systemdtest: manager %d ready in %v (runtime dir %s)", m.proc.Pid, time.Since(begin).Round(time.Millisecond), m.rt)
	return m
}

// StartManager is Start for programs that are not tests, such as the
// sandbox: it returns a running manager, which the caller stops, and whose
// directories it removes, with Shutdown. Where Start would skip (not root,
// systemd, unshare or writable cgroups missing), it returns an error.
func StartManager() (*Manager, error) {
	tools, err := findTools()
	if err != nil {
		return nil, err
	}
	roots, err := managerRoots()
	if err != nil {
		return nil, fmt.Errorf("systemdtest: %w", err)
	}
	sweepStale(func(string, ...any) {})
	m, err := newManager(roots)
	if err != nil {
		return nil, fmt.Errorf("systemdtest: %w", err)
	}
	if err := m.boot(tools); err != nil {
		return nil, errors.Join(fmt.Errorf("systemdtest: %w", err), m.Shutdown())
	}
	return m, nil
}

// newManager creates the manager's runtime directory. The name carries our
// PID so that a later test binary can tell the leftovers of a killed
// binary from managers still in use.
func newManager(roots []string) (*Manager, error) {
	rt, err := os.MkdirTemp(tempRoot(), fmt.Sprintf("sdu-%d-", os.Getpid()))
	if err != nil {
		return nil, fmt.Errorf("create runtime dir: %w", err)
	}
	return &Manager{rt: rt, cg: filepath.Base(rt), roots: roots}, nil
}

// errCgroupsNotWritable means the manager cannot have a cgroup of its own.
var errCgroupsNotWritable = errors.New("cgroups not writable")

// boot prepares the runtime directory and the manager's cgroups, starts
// the manager and waits until it is ready. Whatever it made, Shutdown
// removes.
func (m *Manager) boot(tools toolPaths) error {
	if err := m.prepareRuntimeDir(); err != nil {
		return err
	}
	for _, root := range m.roots {
		if err := os.Mkdir(filepath.Join(root, m.cg), 0o755); err != nil {
			return fmt.Errorf("%w: %w", errCgroupsNotWritable, err)
		}
	}
	if err := m.start(tools); err != nil {
		return err
	}
	if err := m.waitReady(); err != nil {
		return fmt.Errorf("%w\nmanager log:\n%s", err, tail(m.logPath(), 40))
	}
	return nil
}

type toolPaths struct{ unshare, bash, systemd string }

func skipIfUnavailable(t testing.TB) toolPaths {
	t.Helper()
	p, err := findTools()
	if err != nil {
		t.Skip(err.Error())
	}
	return p
}

// findTools locates what a manager needs, or says what is missing.
func findTools() (toolPaths, error) {
	if os.Geteuid() != 0 {
		return toolPaths{}, errors.New("systemdtest: needs root (to create cgroups and mount namespaces)")
	}
	var p toolPaths
	var err error
	if p.unshare, err = exec.LookPath("unshare"); err != nil {
		return p, errors.New("systemdtest: unshare not found (apt-get install util-linux)")
	}
	if p.bash, err = exec.LookPath("bash"); err != nil {
		return p, errors.New("systemdtest: bash not found")
	}
	if _, err = exec.LookPath("systemctl"); err != nil {
		return p, errors.New("systemdtest: systemctl not found (apt-get install systemd dbus-user-session)")
	}
	for _, s := range []string{"/lib/systemd/systemd", "/usr/lib/systemd/systemd"} {
		if _, err := os.Stat(s); err == nil {
			p.systemd = s
			return p, nil
		}
	}
	return p, errors.New("systemdtest: systemd not installed (apt-get install systemd dbus-user-session)")
}

func (m *Manager) prepareRuntimeDir() error {
	for _, d := range []string{"systemd/user", "config/systemd", "data", "home"} {
		if err := os.MkdirAll(filepath.Join(m.rt, d), 0o700); err != nil {
			return fmt.Errorf("create runtime dir: %w", err)
		}
	}
	// $XDG_CONFIG_HOME/systemd/user.conf: bound the stop timeout of units
	// that do not set their own, hence the manager's exit time.
	conf := fmt.Sprintf("[Manager]\nDefaultTimeoutStopSec=%dms\n", defaultStopTimeout.Milliseconds())
	if err := os.WriteFile(filepath.Join(m.rt, "config/systemd/user.conf"), []byte(conf), 0o644); err != nil {
		return fmt.Errorf("write user.conf: %w", err)
	}
	return nil
}

// launchScript moves the shell into the manager's own cgroup in every
// hierarchy given as argument ("$@"), verifies it, hides a "booted with
// systemd" marker in a private /run/systemd, and execs systemd. set -e makes
// any failure stop before systemd runs.
const launchScript = `set -eu
for root in "$@"; do
	echo $$ > "$root/$CG/cgroup.procs"
done
# Never exec systemd from a cgroup that is not its own: started in the
# root cgroup it would move every process of the machine into its
# init.scope.
while IFS=: read -r id ctrl path; do
	case "$id:$ctrl" in
	0:) want=${CHECK_V2:-} ;;
	*:name=systemd) want=${CHECK_V1:-} ;;
	*) want= ;;
	esac
	if [ -n "$want" ] && [ "$path" != "/$CG" ]; then
		echo "systemdtest: still in cgroup $id:$ctrl:$path, not /$CG" >&2
		exit 1
	fi
done < /proc/$$/cgroup
mount -t tmpfs -o mode=755 tmpfs /run/systemd
mkdir /run/systemd/system
ln -s "$RT/systemd/private" /run/systemd/private
exec "$SYSTEMD" --user --log-target=console --log-level=notice
`

func (m *Manager) start(tools toolPaths) error {
	checkV1, checkV2 := "", ""
	for _, root := range m.roots {
		if isCgroup2(root) {
			checkV2 = "1"
		} else {
			checkV1 = "1"
		}
	}
	logFile, err := os.OpenFile(m.logPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open manager log: %w", err)
	}
	defer logFile.Close()

	args := append([]string{"--mount", "--propagation", "private", tools.bash, "-c", launchScript, "systemdtest-launch"}, m.roots...)
	cmd := exec.Command(tools.unshare, args...)
	cmd.Dir = m.rt
	cmd.Env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"LANG=C.UTF-8",
		// HOME and the XDG directories point into the runtime dir so that
		// neither the manager nor its units read or write root's files.
		"HOME=" + filepath.Join(m.rt, "home"),
		"XDG_RUNTIME_DIR=" + m.rt,
		"XDG_CONFIG_HOME=" + filepath.Join(m.rt, "config"),
		"XDG_DATA_HOME=" + filepath.Join(m.rt, "data"),
		"RT=" + m.rt, "CG=" + m.cg, "SYSTEMD=" + tools.systemd,
		"CHECK_V1=" + checkV1, "CHECK_V2=" + checkV2,
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// unshare and bash exec, so this process becomes the manager: Setsid
	// detaches it from the test's terminal, Pdeathsig stops it (SIGTERM: it
	// stops its units first) if the test binary dies. Pdeathsig follows
	// the forking OS thread, which the Go runtime keeps alive unless a
	// goroutine exits while locked to it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start manager: %w", err)
	}
	m.proc, m.exited = cmd.Process, make(chan struct{})
	go func() {
		err := cmd.Wait()
		m.waitErr = err // read only after exited is closed
		close(m.exited)
	}()
	return nil
}

// waitReady polls the manager's SystemState. "systemctl
// is-system-running" would not do: outside the namespace it sees no
// /run/systemd/system and prints "offline".
func (m *Manager) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	var state string
	for {
		out, err := m.SystemctlErr("show", "-P", "SystemState")
		if err == nil {
			state = out
			if state == "running" || state == "degraded" {
				return nil
			}
		}
		select {
		case <-m.exited:
			return fmt.Errorf("manager exited before becoming ready: %v", m.waitErr)
		case <-time.After(pollInterval):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("manager not ready after %v (SystemState %q)", readyTimeout, state)
		}
	}
}

// Shutdown stops the manager (SIGTERM: it stops its units, each within its
// stop timeout, and exits), kills whatever is left in its cgroups, and
// removes its cgroup directories and runtime directory. It is idempotent;
// Start registers it with t.Cleanup.
func (m *Manager) Shutdown() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shutDown {
		return m.shutdownErr
	}
	m.shutDown = true
	var errs []error
	if m.proc != nil {
		select {
		case <-m.exited:
		default:
			_ = m.proc.Signal(syscall.SIGTERM)
			select {
			case <-m.exited:
			case <-time.After(shutdownTimeout):
				errs = append(errs, fmt.Errorf("manager %d still running %v after SIGTERM: killed", m.proc.Pid, shutdownTimeout))
				_ = m.proc.Kill()
				<-m.exited
			}
		}
	}
	if err := removeCgroups(m.cg); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(m.rt); err != nil {
		errs = append(errs, fmt.Errorf("remove runtime dir: %w", err))
	}
	m.shutdownErr = errors.Join(errs...)
	return m.shutdownErr
}

// PID is the manager's PID.
func (m *Manager) PID() int { return m.proc.Pid }

// RuntimeDir is the manager's $XDG_RUNTIME_DIR.
func (m *Manager) RuntimeDir() string { return m.rt }

// UnitDir is where InstallUnit writes unit files: $RT/systemd/user, the
// manager's runtime unit directory.
func (m *Manager) UnitDir() string { return filepath.Join(m.rt, "systemd", "user") }

// BusAddress is the address of the manager's user bus. Production code
// connecting with dbus.NewSystemConnectionContext reaches the manager once
// DBUS_SYSTEM_BUS_ADDRESS is set to it (see UseAsSystemBus).
func (m *Manager) BusAddress() string { return "unix:path=" + filepath.Join(m.rt, "bus") }

// PrivateAddress is the manager's private socket, for a direct D-Bus
// connection without a bus daemon (go-systemd's dbus.NewConnection with
// godbus.Dial, Auth and no Hello).
func (m *Manager) PrivateAddress() string {
	return "unix:path=" + filepath.Join(m.rt, "systemd", "private")
}

// CgroupName is the name of the manager's cgroup under each hierarchy root.
func (m *Manager) CgroupName() string { return m.cg }

// CgroupDirs lists the manager's cgroup directories that exist now.
func (m *Manager) CgroupDirs() []string { return existingCgroupDirs(m.cg) }

// Env is os.Environ() with XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS and
// DBUS_SYSTEM_BUS_ADDRESS pointing at the manager, for running systemctl
// --user, or programs under test that use the system bus, as subprocesses.
func (m *Manager) Env() []string {
	env := make([]string, 0, len(os.Environ())+3)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS", "DBUS_SYSTEM_BUS_ADDRESS":
		default:
			env = append(env, kv)
		}
	}
	return append(env, "XDG_RUNTIME_DIR="+m.rt,
		"DBUS_SESSION_BUS_ADDRESS="+m.BusAddress(), "DBUS_SYSTEM_BUS_ADDRESS="+m.BusAddress())
}

// UseAsSystemBus points DBUS_SYSTEM_BUS_ADDRESS at the manager's bus for
// the rest of the test (t.Setenv: not in parallel tests). It skips the test
// if dbus-user-session, which provides the bus, is missing.
func (m *Manager) UseAsSystemBus(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(m.rt, "bus")); err != nil {
		t.Skip("systemdtest: the manager has no user bus (apt-get install dbus-user-session)")
	}
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", m.BusAddress())
}

// SystemctlErr runs "systemctl --user args..." against the manager and
// returns its trimmed standard output; the error includes standard error.
func (m *Manager) SystemctlErr(args ...string) (string, error) {
	cmd := exec.Command("systemctl", append([]string{"--user"}, args...)...)
	cmd.Env = m.Env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := strings.TrimSpace(stdout.String())
	if err != nil {
		return out, fmt.Errorf("systemctl --user %s: %w: %s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return out, nil
}

// Systemctl is SystemctlErr that fails the test on error.
func (m *Manager) Systemctl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := m.SystemctlErr(args...)
	if err != nil {
		t.Fatalf("systemdtest: %v", err)
	}
	return out
}

// InstallUnit writes a unit file into UnitDir and reloads the manager.
func (m *Manager) InstallUnit(t testing.TB, name, content string) {
	t.Helper()
	if err := m.InstallUnitErr(name, content); err != nil {
		t.Fatal(err)
	}
}

// InstallUnitErr is InstallUnit returning its error, for programs that are
// not tests.
func (m *Manager) InstallUnitErr(name, content string) error {
	if err := os.WriteFile(filepath.Join(m.UnitDir(), name), []byte(content), 0o644); err != nil {
		return fmt.Errorf("systemdtest: install unit: %w", err)
	}
	if _, err := m.SystemctlErr("daemon-reload"); err != nil {
		return fmt.Errorf("systemdtest: %w", err)
	}
	return nil
}

// LogPath is the manager's own log (its console output).
func (m *Manager) LogPath() string { return m.logPath() }

// DaemonReload reloads the manager's unit files.
func (m *Manager) DaemonReload(t testing.TB) {
	t.Helper()
	m.Systemctl(t, "daemon-reload")
}

// Start starts a unit and waits for the job to finish.
func (m *Manager) Start(t testing.TB, unit string) {
	t.Helper()
	m.Systemctl(t, "start", unit)
}

// Stop stops a unit and waits for the job to finish.
func (m *Manager) Stop(t testing.TB, unit string) {
	t.Helper()
	m.Systemctl(t, "stop", unit)
}

// EnableRuntime enables a unit until the manager exits (systemctl enable
// --runtime: links under $RT/systemd/user). The unit needs an [Install]
// section.
func (m *Manager) EnableRuntime(t testing.TB, unit string) {
	t.Helper()
	m.Systemctl(t, "enable", "--runtime", unit)
}

// ActiveState returns a unit's ActiveState: "active", "inactive",
// "failed"... ("inactive" for an unknown unit).
func (m *Manager) ActiveState(t testing.TB, unit string) string {
	t.Helper()
	return m.Systemctl(t, "show", "-P", "ActiveState", unit)
}

// UnitLogPath is where the units of SimpleServiceUnit and
// SigtermIgnoringServiceUnit write their output.
func (m *Manager) UnitLogPath(unit string) string { return filepath.Join(m.rt, unit+".log") }

func (m *Manager) logPath() string { return filepath.Join(m.rt, "manager.log") }

// SimpleServiceUnit is a service running execStart, e.g. "/bin/sleep
// infinity" to stand in for ovirt-engine.service. Its output goes to
// UnitLogPath (%t is the runtime dir, %n the unit's name); there is no
// journald. execStart follows unit file syntax: write "%%" for "%" and
// "$$" for "$". WantedBy=default.target makes EnableRuntime work.
func SimpleServiceUnit(execStart string) string {
	return `[Unit]
Description=systemdtest simple service

[Service]
Type=simple
ExecStart=` + execStart + `
StandardOutput=append:%t/%n.log
StandardError=inherit

[Install]
WantedBy=default.target
`
}

// SigtermIgnoringServiceUnit is a service that, asked to stop, keeps
// running for ignoreFor (forever if negative) and then exits 0: a service
// slow to stop. Only its main process gets SIGTERM (KillMode=mixed);
// systemd sends SIGKILL after stopTimeout (never if it is 0), and the unit
// then ends "failed" with Result "timeout".
func SigtermIgnoringServiceUnit(ignoreFor, stopTimeout time.Duration) string {
	trap := `trap "" TERM`
	if ignoreFor >= 0 {
		trap = fmt.Sprintf(`trap "sleep %.3f; exit 0" TERM`, ignoreFor.Seconds())
	}
	timeout := "infinity"
	if stopTimeout > 0 {
		timeout = strconv.FormatInt(stopTimeout.Milliseconds(), 10) + "ms"
	}
	// The shell runs the trap once the current "sleep 0.1" is over, so the
	// delay starts at most 0.1 s late.
	return `[Unit]
Description=systemdtest service that ignores SIGTERM

[Service]
Type=simple
ExecStart=/bin/sh -c '` + trap + `; while :; do sleep 0.1; done'
KillMode=mixed
TimeoutStopSec=` + timeout + `
StandardOutput=append:%t/%n.log
StandardError=inherit

[Install]
WantedBy=default.target
`
}

func tail(path string, lines int) string {
	b, _ := os.ReadFile(path)
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// tempRoot keeps the runtime dir short: $RT/systemd/private and $RT/bus
// are Unix sockets, whose paths must fit in 107 bytes.
func tempRoot() string {
	if d := os.TempDir(); len(d) <= 40 {
		return d
	}
	return "/tmp"
}
