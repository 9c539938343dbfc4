package services

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Kind names a way of managing services; the values are those of
// --service-manager.
type Kind string

const (
	KindSystemd Kind = "systemd"
	KindSysV    Kind = "sysv"
	KindNone    Kind = "none"
)

// Manager controls services on the live host. Implementations are safe for
// concurrent use.
type Manager interface {
	Kind() Kind
	// Status reads a unit's state and changes nothing. A unit that does
	// not exist is not an error: Status.Exists is false.
	Status(ctx context.Context, unit string) (Status, error)
	// Stop stops a unit and waits until it is inactive, at most timeout
	// (DefaultStopTimeout if timeout <= 0). On timeout it returns a
	// *StopTimeoutError. A unit already inactive or not installed is not an
	// error (Outcome.Result says which).
	Stop(ctx context.Context, unit string, timeout time.Duration) (Outcome, error)
	// Disable removes a unit's enablement, so that it does not start at
	// boot. A unit not installed or not enabled is not an error.
	Disable(ctx context.Context, unit string) (Outcome, error)
	// Close releases the connection to the service manager. It is
	// idempotent; the Manager must not be used afterwards.
	Close()
}

// Status is what Manager.Status found.
type Status struct {
	// Unit is the name as the manager knows it: "ovirt-engine.service"
	// for systemd, "ovirt-engine" for SysV.
	Unit string
	// Exists: systemd: LoadState is "loaded"; SysV: the init script exists
	// and is executable.
	Exists bool
	// Active is true while the service may have processes: systemd
	// "active", "activating", "deactivating", "reloading", "refreshing"
	// (everything but "inactive" and "failed"); SysV: status exit code 0.
	Active bool
	// State is the raw state: systemd "ActiveState (SubState)", e.g.
	// "active (running)"; SysV "running", "dead (pid file exists)",
	// "dead (lock file exists)", "not running", "unknown (status exit
	// 4)".
	State string
	// Enabled is true if the unit starts at boot: systemd UnitFileState
	// "enabled" or "enabled-runtime"; SysV an S link in /etc/rc[2-5].d.
	Enabled bool
	// EnablementState is the raw enablement: systemd UnitFileState
	// ("enabled", "static", "disabled", "masked"...), SysV "enabled" or
	// "disabled".
	EnablementState string
	// LoadState is systemd's LoadState ("loaded", "not-found", "masked"...);
	// empty for the other kinds.
	LoadState string
}

// Result is the kind of thing Stop or Disable did or found.
type Result string

const (
	ResultStopped         Result = "stopped"
	ResultAlreadyInactive Result = "already inactive"
	ResultNotInstalled    Result = "not installed"
	ResultDisabled        Result = "disabled"
	ResultAlreadyDisabled Result = "already disabled"
	// ResultNotDisabled: the unit is still enabled and the Manager cannot
	// change that (no chkconfig or update-rc.d, links shipped by a
	// package); Detail says what to do by hand. Not an error: an enabled
	// unit does not stop engine-setup from running again.
	ResultNotDisabled Result = "not disabled"
	// ResultSkipped: service management is off (--service-manager none);
	// the service may still be running.
	ResultSkipped Result = "skipped"
)

// Outcome reports what Stop or Disable did.
type Outcome struct {
	Unit   string // as in Status.Unit
	Result Result
	// Detail is a short reason for people, e.g. "service management
	// disabled (--service-manager none)"; may be empty.
	Detail string
}

func (o Outcome) String() string {
	if o.Detail == "" {
		return o.Unit + ": " + string(o.Result)
	}
	return o.Unit + ": " + string(o.Result) + " (" + o.Detail + ")"
}

// StopTimeoutError is returned by Stop when the unit is still active when
// the timeout expires. The stop request is left in place (systemd keeps
// its stop job and applies the unit's own TimeoutStopSec), so the unit may
// still stop later.
type StopTimeoutError struct {
	Unit    string
	Kind    Kind
	Timeout time.Duration
	State   string // last state seen, e.g. "deactivating (stop-sigterm)"
}

func (e *StopTimeoutError) Error() string {
	return fmt.Sprintf("stopping %s: still %s after %v: stop it by hand (%s) and run engine-cleanup again",
		e.Unit, e.State, e.Timeout, stopHint(e.Kind, e.Unit))
}

// stopHint is the command an administrator runs to stop a unit by hand.
func stopHint(k Kind, unit string) string {
	if k == KindSysV {
		return "service " + unit + " stop"
	}
	return "systemctl stop " + unit
}

// ErrInvalidName is wrapped by the errors for unit names that no service
// manager accepts, or that could leave the init script directory.
var ErrInvalidName = errors.New("invalid service name")

// Defaults.
const (
	// DefaultStopTimeout is used when Stop gets timeout <= 0. It is longer
	// than systemd's default TimeoutStopSec (90 s), after which systemd
	// itself kills a unit, so that a default stop normally ends with the
	// unit stopped rather than with our timeout.
	DefaultStopTimeout = 2 * time.Minute
	// DefaultDetectTimeout bounds auto-detection and the connection to
	// the system bus.
	DefaultDetectTimeout = 3 * time.Second
	// DefaultInitDir is where SysV init scripts live.
	DefaultInitDir = "/etc/init.d"
	// systemdBootedMarker exists when PID 1 is systemd (sd_booted(3)).
	systemdBootedMarker = "/run/systemd/system"
)

// Option configures Open.
type Option func(*options)

type options struct {
	initDir       string
	detectTimeout time.Duration
	bootedMarker  string
}

// WithInitDir makes the SysV manager use dir instead of /etc/init.d, and
// look for rc?.d links beside it (filepath.Dir(dir)/rc[2-5].d). With a
// directory other than /etc/init.d, Disable never runs chkconfig or
// update-rc.d, which only know the host's /etc. For tests.
func WithInitDir(dir string) Option { return func(o *options) { o.initDir = dir } }

// WithDetectTimeout bounds detection and the system bus connection
// (default DefaultDetectTimeout).
func WithDetectTimeout(d time.Duration) Option {
	return func(o *options) { o.detectTimeout = d }
}

// WithSystemdBootedMarker replaces /run/systemd/system as the proof that PID
// 1 is systemd (see the package comment, rule 2). For tests on hosts whose
// PID 1 is systemd.
func WithSystemdBootedMarker(path string) Option {
	return func(o *options) { o.bootedMarker = path }
}

// Open returns the Manager for override ("systemd", "sysv", "none") or, if
// override is empty (or "auto"), for what it detects on the live host; the
// rules are in the package comment. log may be nil. The caller must Close
// the Manager. ctx bounds Open only; the connection lives until Close.
func Open(ctx context.Context, override string, log hclog.Logger, opts ...Option) (Manager, error) {
	o := options{initDir: DefaultInitDir, detectTimeout: DefaultDetectTimeout, bootedMarker: systemdBootedMarker}
	for _, opt := range opts {
		opt(&o)
	}
	if o.detectTimeout <= 0 {
		o.detectTimeout = DefaultDetectTimeout
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	log = log.Named("services")

	switch Kind(override) {
	case KindSystemd:
		m, err := openSystemd(ctx, o.detectTimeout, log)
		if err != nil {
			return nil, fmt.Errorf("service manager systemd (--service-manager systemd): %w; "+
				"check that systemd and the system bus run, or choose --service-manager sysv or none", err)
		}
		return m, nil
	case KindSysV:
		if fi, err := os.Stat(o.initDir); err != nil || !fi.IsDir() {
			log.Warn("no init script directory: every service will be reported as not installed", "dir", o.initDir)
		}
		return newSysV(o.initDir, log), nil
	case KindNone:
		return none{}, nil
	case "", "auto":
		return detect(ctx, o, log)
	default:
		return nil, fmt.Errorf("unknown service manager %q (--service-manager): choose systemd, sysv or none", override)
	}
}

func detect(ctx context.Context, o options, log hclog.Logger) (Manager, error) {
	m, err := openSystemd(ctx, o.detectTimeout, log)
	if err == nil {
		log.Debug("detected systemd on the system bus")
		return m, nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("detecting the service manager: %w", ctx.Err())
	}
	if _, serr := os.Stat(o.bootedMarker); serr == nil {
		return nil, fmt.Errorf("detecting the service manager: PID 1 is systemd (%s exists) but systemd does not answer on the system bus: %w; "+
			"check the system bus (systemctl status dbus), or pass --service-manager none and stop the services by hand", o.bootedMarker, err)
	}
	log.Debug("no systemd on the system bus", "reason", err)
	if fi, serr := os.Stat(o.initDir); serr == nil && fi.IsDir() {
		log.Debug("detected SysV init scripts", "dir", o.initDir)
		return newSysV(o.initDir, log), nil
	}
	log.Debug("no service manager detected: service management disabled", "init_dir", o.initDir)
	return none{}, nil
}

// isUnitType reports whether ext (".service", ".socket"...) is one of
// systemd's unit types; a name without one is a service.
func isUnitType(ext string) bool {
	switch ext {
	case ".service", ".socket", ".target", ".timer", ".path", ".mount",
		".automount", ".swap", ".slice", ".scope", ".device":
		return true
	}
	return false
}

// checkName refuses names that are not systemd unit names, or that would
// be taken as an option or leave the init script directory.
func checkName(unit string) error {
	if unit == "" || len(unit) > 255 || unit[0] == '-' || unit[0] == '.' {
		return fmt.Errorf("%w %q: use a name such as ovirt-engine", ErrInvalidName, unit)
	}
	for _, r := range unit {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '-', r == '_', r == '.', r == ':', r == '@':
		default:
			return fmt.Errorf("%w %q: character %q is not allowed", ErrInvalidName, unit, r)
		}
	}
	return nil
}

// systemdName appends ".service" to a name without a unit suffix, as
// systemctl does.
func systemdName(unit string) string {
	if isUnitType(path.Ext(unit)) {
		return unit
	}
	return unit + ".service"
}

// sysvName drops a ".service" suffix: init scripts carry the bare name. The
// second result is false for other unit types, which SysV does not have.
func sysvName(unit string) (string, bool) {
	if base, ok := strings.CutSuffix(unit, ".service"); ok {
		return base, checkName(base) == nil
	}
	return unit, !isUnitType(path.Ext(unit))
}

func stopTimeout(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultStopTimeout
	}
	return d
}
