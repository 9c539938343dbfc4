package services

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	sdbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
	"github.com/hashicorp/go-hclog"
)

// systemd manages units over D-Bus through a private connection to the
// system bus. godbus's shared SystemBus is never used: closing it would
// break every other user in the process.
type systemd struct {
	conn *sdbus.Conn
	// endConn cancels the context the connection was opened with, which
	// makes godbus close its sockets; Close calls it.
	endConn   context.CancelFunc
	log       hclog.Logger
	closeOnce sync.Once
}

var _ Manager = (*systemd)(nil)

// D-Bus error names systemd replies with.
const (
	dbusErrNoSuchUnit = "org.freedesktop.systemd1.NoSuchUnit"
)

// openSystemd connects to the system bus and checks that systemd's manager
// answers there, all within timeout. The connection outlives ctx: it is
// ended by Close.
func openSystemd(ctx context.Context, timeout time.Duration, log hclog.Logger) (*systemd, error) {
	// godbus closes a connection when the context it was opened with
	// ends, so the connection gets its own context, detached from ctx.
	connCtx, endConn := context.WithCancel(context.WithoutCancel(ctx))
	probeCtx, cancelProbe := context.WithTimeout(ctx, timeout)
	defer cancelProbe()

	type result struct {
		conn *sdbus.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		// Authentication and Hello take no context: this goroutine can
		// block on a bus that does not answer until endConn closes the
		// sockets.
		conn, err := sdbus.NewSystemConnectionContext(connCtx)
		if err == nil {
			// A bus without systemd's manager on it is not systemd. With
			// auto-start allowed, a bus run by systemd holds the call until
			// the manager has registered (it may be starting); a bus
			// without systemd answers with an error at once.
			if _, err = conn.SystemStateContext(probeCtx); err != nil {
				conn.Close()
				conn = nil
			}
		}
		done <- result{conn, err}
	}()

	select {
	case r := <-done:
		if r.err != nil {
			endConn()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("connecting to systemd on the system bus %s: %w", systemBusAddress(), r.err)
		}
		log.Debug("connected to systemd", "bus", systemBusAddress())
		return &systemd{conn: r.conn, endConn: endConn, log: log}, nil
	case <-probeCtx.Done():
		endConn()
		go func() {
			if r := <-done; r.conn != nil {
				r.conn.Close()
			}
		}()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("connecting to systemd on the system bus %s: no answer within %v", systemBusAddress(), timeout)
	}
}

// systemBusAddress is the address godbus dials, for messages.
func systemBusAddress() string {
	if a := os.Getenv("DBUS_SYSTEM_BUS_ADDRESS"); a != "" {
		return a
	}
	return "unix:path=/run/dbus/system_bus_socket"
}

func (s *systemd) Kind() Kind { return KindSystemd }

func (s *systemd) Close() {
	s.closeOnce.Do(func() {
		s.conn.Close()
		s.endConn()
	})
}

// isActive: everything but inactive and failed may still have processes;
// unknown future states count as active so that Stop still acts.
func isActive(activeState string) bool {
	return activeState != "inactive" && activeState != "failed"
}

func isEnabled(unitFileState string) bool {
	return unitFileState == "enabled" || unitFileState == "enabled-runtime"
}

func (s *systemd) Status(ctx context.Context, unit string) (Status, error) {
	if err := checkName(unit); err != nil {
		return Status{}, err
	}
	name := systemdName(unit)
	// Reading a unit's properties makes systemd load its unit file if it
	// is not loaded yet; that changes no state, and it is how systemctl
	// show works.
	props, err := s.conn.GetUnitPropertiesContext(ctx, name)
	if err != nil {
		return Status{}, fmt.Errorf("reading the state of %s: %w", name, err)
	}
	load, active, sub := str(props, "LoadState"), str(props, "ActiveState"), str(props, "SubState")
	ufs := str(props, "UnitFileState")
	st := Status{
		Unit:            name,
		Exists:          load == "loaded",
		Active:          isActive(active),
		State:           active,
		Enabled:         isEnabled(ufs),
		EnablementState: ufs,
		LoadState:       load,
	}
	if sub != "" {
		st.State += " (" + sub + ")"
	}
	return st, nil
}

func str(props map[string]any, key string) string {
	s, _ := props[key].(string)
	return s
}

func (s *systemd) Stop(ctx context.Context, unit string, timeout time.Duration) (Outcome, error) {
	timeout = stopTimeout(timeout)
	st, err := s.Status(ctx, unit)
	if err != nil {
		return Outcome{}, err
	}
	name := st.Unit
	if !st.Active {
		// A unit whose file was removed while it ran is "not-found" but
		// active: it is stopped below like any other.
		if !st.Exists {
			return Outcome{Unit: name, Result: ResultNotInstalled, Detail: "LoadState " + st.LoadState}, nil
		}
		return Outcome{Unit: name, Result: ResultAlreadyInactive, Detail: st.State}, nil
	}

	begin := time.Now()
	s.log.Info("stopping unit", "unit", name, "state", st.State)
	// Buffered: go-systemd delivers the job result while holding its job
	// lock, so an unbuffered channel nobody reads any more (after our
	// timeout) would block every later job of the connection.
	jobDone := make(chan string, 1)
	if _, err := s.conn.StopUnitContext(ctx, name, "replace", jobDone); err != nil {
		if dbusErrorName(err) == dbusErrNoSuchUnit {
			return Outcome{Unit: name, Result: ResultNotInstalled, Detail: "unit vanished"}, nil
		}
		return Outcome{}, fmt.Errorf("stopping %s: %w; stop it by hand (%s)", name, err, stopHint(KindSystemd, name))
	}

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var jobResult string
	select {
	case jobResult = <-jobDone:
	case <-ctx.Done():
		// The stop job stays queued in systemd: the unit was meant to
		// stop, and a re-run merges with the pending job.
		return Outcome{}, fmt.Errorf("stopping %s: %w", name, ctx.Err())
	case <-timer.C:
		return Outcome{}, &StopTimeoutError{Unit: name, Kind: KindSystemd, Timeout: timeout, State: s.stateForMessage(ctx, name)}
	}

	// Only now is ActiveState final: before the job result it may still
	// say "deactivating".
	p, err := s.conn.GetUnitPropertyContext(ctx, name, "ActiveState")
	if err != nil {
		return Outcome{}, fmt.Errorf("reading the state of %s after stopping it: %w", name, err)
	}
	state, _ := p.Value.Value().(string)
	if isActive(state) {
		return Outcome{}, fmt.Errorf("stopping %s: stop job ended with %q but the unit is %s "+
			"(something started it again?): stop it by hand (%s), find what starts it, and run engine-cleanup again",
			name, jobResult, state, stopHint(KindSystemd, name))
	}
	s.log.Info("unit stopped", "unit", name, "job_result", jobResult, "state", state, "took", time.Since(begin))
	out := Outcome{Unit: name, Result: ResultStopped}
	if jobResult != "done" || state != "inactive" {
		out.Detail = fmt.Sprintf("stop job %s, unit %s", jobResult, state)
	}
	return out, nil
}

// stateForMessage reads a unit's state for an error message, briefly:
// the caller's deadline may be near.
func (s *systemd) stateForMessage(ctx context.Context, name string) string {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	props, err := s.conn.GetUnitPropertiesContext(ctx, name)
	if err != nil {
		return "active"
	}
	return str(props, "ActiveState") + " (" + str(props, "SubState") + ")"
}

func (s *systemd) Disable(ctx context.Context, unit string) (Outcome, error) {
	st, err := s.Status(ctx, unit)
	if err != nil {
		return Outcome{}, err
	}
	name := st.Unit
	if !st.Exists {
		return Outcome{Unit: name, Result: ResultNotInstalled, Detail: "LoadState " + st.LoadState}, nil
	}
	if !st.Enabled {
		return Outcome{Unit: name, Result: ResultAlreadyDisabled, Detail: st.EnablementState}, nil
	}

	// Setup may have enabled the unit persistently (/etc) or for this boot
	// (/run); remove both kinds of links, as "systemctl disable" does.
	var changes []sdbus.DisableUnitFileChange
	for _, runtime := range []bool{false, true} {
		c, err := s.conn.DisableUnitFilesContext(ctx, []string{name}, runtime)
		if err != nil {
			if dbusErrorName(err) == dbusErrNoSuchUnit {
				return Outcome{Unit: name, Result: ResultNotInstalled, Detail: "unit file vanished"}, nil
			}
			return Outcome{}, fmt.Errorf("disabling %s: %w; disable it by hand (systemctl disable %s)", name, err, name)
		}
		changes = append(changes, c...)
	}
	if len(changes) > 0 {
		if err := s.conn.ReloadContext(ctx); err != nil {
			return Outcome{}, fmt.Errorf("reloading systemd after disabling %s: %w; run systemctl daemon-reload", name, err)
		}
	}
	removed := make([]string, 0, len(changes))
	for _, c := range changes {
		removed = append(removed, c.Filename)
	}
	s.log.Info("unit disabled", "unit", name, "removed", removed)

	after, err := s.Status(ctx, name)
	if err != nil {
		return Outcome{}, fmt.Errorf("checking that %s is disabled: %w", name, err)
	}
	if after.Enabled {
		// Links outside /etc and /run, e.g. shipped in /usr/lib by a
		// package, are not ours to remove.
		return Outcome{Unit: name, Result: ResultNotDisabled,
			Detail: fmt.Sprintf("still %s after removing %d links: see systemctl status %s", after.EnablementState, len(changes), name)}, nil
	}
	return Outcome{Unit: name, Result: ResultDisabled, Detail: strings.Join(removed, ", ")}, nil
}

// dbusErrorName is the D-Bus error name of err, or "".
func dbusErrorName(err error) string {
	var de dbus.Error
	if errors.As(err, &de) {
		return de.Name
	}
	var dep *dbus.Error
	if errors.As(err, &dep) && dep != nil {
		return dep.Name
	}
	return ""
}
