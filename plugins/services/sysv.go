package services

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
)

// sysv manages services through LSB init scripts: "<script> status",
// "<script> stop", and chkconfig or update-rc.d to disable them.
type sysv struct {
	initDir string
	// rcBase holds the rc[0-6].d directories: /etc on both EL6 (where
	// /etc/rc3.d links to /etc/rc.d/rc3.d) and Debian.
	rcBase string
	// hostTools: chkconfig and update-rc.d only know the host's
	// /etc/init.d, so they are run only when initDir is that directory.
	hostTools bool
	log       hclog.Logger
}

var _ Manager = (*sysv)(nil)

const (
	// sysvPollInterval is how often Stop runs "<script> status" while
	// waiting for a service to stop.
	sysvPollInterval = 50 * time.Millisecond
	// scriptWaitDelay bounds how long a finished script's leftover
	// children may hold its output open.
	scriptWaitDelay = time.Second
	// statusTimeout bounds "<script> status" outside Stop's own timeout, so
	// that a hung script cannot hold the read-only phases forever.
	statusTimeout = 30 * time.Second
	// maxScriptOutput is how much of a script's output is kept for
	// error messages (the end of it).
	maxScriptOutput = 4 << 10
)

// LSB exit codes of "<script> status".
const (
	lsbRunning       = 0
	lsbDeadPidFile   = 1
	lsbDeadLockFile  = 2
	lsbNotRunning    = 3
	lsbStatusUnknown = 4
)

func newSysV(initDir string, log hclog.Logger) *sysv {
	return &sysv{
		initDir:   initDir,
		rcBase:    filepath.Dir(filepath.Clean(initDir)),
		hostTools: filepath.Clean(initDir) == DefaultInitDir,
		log:       log,
	}
}

func (v *sysv) Kind() Kind { return KindSysV }
func (v *sysv) Close()     {}

// script resolves unit to its init script. ok is false when SysV cannot
// have such a unit (e.g. "x.socket"); the script may still not exist.
func (v *sysv) script(unit string) (name, path string, ok bool, err error) {
	if err := checkName(unit); err != nil {
		return "", "", false, err
	}
	name, ok = sysvName(unit)
	return name, filepath.Join(v.initDir, name), ok, nil
}

// installed reports whether path is an executable regular file (following
// symlinks), with the reason when it is not.
func installed(path string) (bool, string) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return false, path + " does not exist"
	case err != nil:
		return false, err.Error()
	case !fi.Mode().IsRegular():
		return false, path + " is not a regular file"
	case fi.Mode().Perm()&0o111 == 0:
		return false, path + " is not executable"
	}
	return true, ""
}

// describeStatus turns an LSB status exit code into a state and whether
// the service may be running. Codes other than 1-3 leave it possible.
func describeStatus(code int) (state string, mayRun bool) {
	switch code {
	case lsbRunning:
		return "running", true
	case lsbDeadPidFile:
		return "dead (pid file exists)", false
	case lsbDeadLockFile:
		return "dead (lock file exists)", false
	case lsbNotRunning:
		return "not running", false
	default:
		return fmt.Sprintf("unknown (status exit %d)", code), true
	}
}

func (v *sysv) Status(ctx context.Context, unit string) (Status, error) {
	name, path, ok, err := v.script(unit)
	if err != nil {
		return Status{}, err
	}
	st := Status{Unit: name, State: "not installed", EnablementState: "disabled"}
	if !ok {
		return st, nil
	}
	if st.Exists, _ = installed(path); !st.Exists {
		return st, nil
	}
	code, err := v.status(ctx, path)
	if err != nil {
		return Status{}, fmt.Errorf("reading the state of %s: %w", name, err)
	}
	st.State, st.Active = describeStatus(code)
	if links := v.startLinks(name); len(links) > 0 {
		st.Enabled, st.EnablementState = true, "enabled"
	}
	return st, nil
}

// status runs "<script> status", within statusTimeout.
func (v *sysv) status(ctx context.Context, path string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	code, _, err := v.run(ctx, path, "status")
	return code, err
}

// startLinks lists the S links of name in the multi-user runlevels, which
// chkconfig on / update-rc.d enable create.
func (v *sysv) startLinks(name string) []string {
	// checkName admits no glob metacharacters.
	links, _ := filepath.Glob(filepath.Join(v.rcBase, "rc[2-5].d", "S[0-9][0-9]"+name))
	return links
}

func (v *sysv) Stop(ctx context.Context, unit string, timeout time.Duration) (Outcome, error) {
	timeout = stopTimeout(timeout)
	name, path, ok, err := v.script(unit)
	if err != nil {
		return Outcome{}, err
	}
	if !ok {
		return Outcome{Unit: name, Result: ResultNotInstalled, Detail: "not a service"}, nil
	}
	if exists, why := installed(path); !exists {
		return Outcome{Unit: name, Result: ResultNotInstalled, Detail: why}, nil
	}
	code, err := v.status(ctx, path)
	if err != nil {
		return Outcome{}, fmt.Errorf("stopping %s: reading its state: %w", name, err)
	}
	before, _ := describeStatus(code)
	if code == lsbNotRunning {
		return Outcome{Unit: name, Result: ResultAlreadyInactive, Detail: before}, nil
	}
	// Dead with a pid or lock file, or an unknown status: run stop anyway.
	// LSB requires stop to succeed on a stopped service; it removes stale
	// pid and lock files, and it covers legacy scripts whose status codes
	// do not follow LSB.

	begin := time.Now()
	v.log.Info("stopping service", "service", name, "script", path, "state", before)
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	timedOut := func(state string) error {
		return &StopTimeoutError{Unit: name, Kind: KindSysV, Timeout: timeout, State: state}
	}

	stopCode, stopOut, err := v.run(sctx, path, "stop")
	switch {
	case ctx.Err() != nil:
		return Outcome{}, fmt.Errorf("stopping %s: %w", name, ctx.Err())
	case sctx.Err() != nil:
		return Outcome{}, timedOut(before + ", its stop script did not finish")
	case err != nil:
		return Outcome{}, fmt.Errorf("stopping %s: %w; stop it by hand (%s)", name, err, stopHint(KindSysV, name))
	}

	last := before // the state for a timeout message
	for {
		code, _, err := v.run(sctx, path, "status")
		switch {
		case ctx.Err() != nil:
			return Outcome{}, fmt.Errorf("stopping %s: %w", name, ctx.Err())
		case sctx.Err() != nil:
			return Outcome{}, timedOut(last)
		case err != nil:
			return Outcome{}, fmt.Errorf("stopping %s: reading its state: %w", name, err)
		}
		state, mayRun := describeStatus(code)
		if !mayRun {
			v.log.Info("service stopped", "service", name, "state", state, "took", time.Since(begin))
			out := Outcome{Unit: name, Result: ResultStopped}
			if stopCode != 0 {
				out.Detail = fmt.Sprintf("%s stop exited %d", path, stopCode)
			}
			if before != "running" {
				out.Detail = strings.TrimPrefix(out.Detail+"; status before stop: "+before, "; ")
			}
			return out, nil
		}
		if stopCode != 0 && code == lsbRunning {
			return Outcome{}, fmt.Errorf("stopping %s: %s stop exited %d and the service still runs: %s; stop it by hand (%s)",
				name, path, stopCode, oneLine(stopOut), stopHint(KindSysV, name))
		}
		last = state
		select {
		case <-sctx.Done():
			if ctx.Err() != nil {
				return Outcome{}, fmt.Errorf("stopping %s: %w", name, ctx.Err())
			}
			return Outcome{}, timedOut(last)
		case <-time.After(sysvPollInterval):
		}
	}
}

func (v *sysv) Disable(ctx context.Context, unit string) (Outcome, error) {
	name, path, ok, err := v.script(unit)
	if err != nil {
		return Outcome{}, err
	}
	if !ok {
		return Outcome{Unit: name, Result: ResultNotInstalled, Detail: "not a service"}, nil
	}
	if exists, why := installed(path); !exists {
		return Outcome{Unit: name, Result: ResultNotInstalled, Detail: why}, nil
	}
	links := v.startLinks(name)
	if len(links) == 0 {
		return Outcome{Unit: name, Result: ResultAlreadyDisabled, Detail: "no S links in " + filepath.Join(v.rcBase, "rc[2-5].d")}, nil
	}
	byHand := "remove " + strings.Join(links, ", ") + " by hand"
	if !v.hostTools {
		return Outcome{Unit: name, Result: ResultNotDisabled,
			Detail: v.initDir + " is not " + DefaultInitDir + ", so chkconfig and update-rc.d do not apply: " + byHand}, nil
	}
	var tool string
	var args []string
	if tool = findTool("chkconfig"); tool != "" {
		args = []string{name, "off"}
	} else if tool = findTool("update-rc.d"); tool != "" {
		args = []string{name, "disable"}
	} else {
		return Outcome{Unit: name, Result: ResultNotDisabled,
			Detail: "neither chkconfig nor update-rc.d is installed: " + byHand}, nil
	}
	code, out, err := v.run(ctx, tool, args...)
	if err == nil && code != 0 {
		err = fmt.Errorf("exit status %d: %s", code, oneLine(out))
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("disabling %s: %s %s: %w; disable it by hand (%s)",
			name, tool, strings.Join(args, " "), err, byHand)
	}
	if left := v.startLinks(name); len(left) > 0 {
		return Outcome{Unit: name, Result: ResultNotDisabled,
			Detail: fmt.Sprintf("%s %s left %s: remove them by hand", tool, strings.Join(args, " "), strings.Join(left, ", "))}, nil
	}
	v.log.Info("service disabled", "service", name, "tool", tool)
	return Outcome{Unit: name, Result: ResultDisabled, Detail: tool + " " + strings.Join(args, " ")}, nil
}

// findTool looks in the system directories only: the clean environment
// of init scripts has no PATH of the caller's.
func findTool(name string) string {
	for _, dir := range []string{"/sbin", "/usr/sbin", "/bin", "/usr/bin"} {
		p := filepath.Join(dir, name)
		if ok, _ := installed(p); ok {
			return p
		}
	}
	return ""
}

// scriptEnv is the environment of init scripts, as service(8) gives them:
// nothing of engine-cleanup's own environment leaks into a service.
func scriptEnv() []string {
	return []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", "LC_ALL=C"}
}

// run runs a program with the clean environment and returns its exit
// code and the end of its output. err is set only when the program could
// not run to an exit code: not startable, killed by a signal, or ctx ended
// (then err wraps ctx.Err()).
func (v *sysv) run(ctx context.Context, path string, args ...string) (int, string, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = scriptEnv()
	cmd.Dir = "/"
	var out tailBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Own process group, so that cancelling kills the helpers a script
	// started too (kill, sleep); Pdeathsig, so that a script does not
	// outlive engine-cleanup.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A daemon started by a badly written script may hold the output pipe
	// open after the script exited.
	cmd.WaitDelay = scriptWaitDelay

	err := cmd.Run()
	if ctx.Err() != nil {
		return -1, out.String(), fmt.Errorf("%s %s: %w", path, strings.Join(args, " "), ctx.Err())
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil, errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState != nil && cmd.ProcessState.Exited():
		return cmd.ProcessState.ExitCode(), out.String(), nil
	case errors.As(err, &exitErr) && exitErr.Exited():
		return exitErr.ExitCode(), out.String(), nil
	default:
		return -1, out.String(), fmt.Errorf("%s %s: %w: %s", path, strings.Join(args, " "), err, oneLine(out.String()))
	}
}

// tailBuffer keeps the last maxScriptOutput bytes written to it. exec
// serialises writes when Stdout and Stderr are the same *tailBuffer.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - maxScriptOutput; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

// oneLine squeezes script output into one line for an error message.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "no output"
	}
	return s
}
