package services_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sdbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/hashicorp/go-hclog"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/systemdtest"
	"github.com/engine-cleanup/engine-cleanup/plugins/services"
)

func testLogger(t testing.TB) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "test", Output: t.Output(), Level: hclog.Debug})
}

// noBootedMarker keeps rule 2 of Open's detection (PID 1 is systemd) out
// of tests that may run on a host whose PID 1 is systemd.
func noBootedMarker(t testing.TB) services.Option {
	return services.WithSystemdBootedMarker(filepath.Join(t.TempDir(), "no-such-marker"))
}

// startSystemd starts a private systemd manager with the given units
// (name → unit file) and makes it the system bus of this test.
func startSystemd(t testing.TB, units map[string]string) *systemdtest.Manager {
	t.Helper()
	m := systemdtest.Start(t)
	for name, content := range units {
		if err := os.WriteFile(filepath.Join(m.UnitDir(), name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m.DaemonReload(t)
	m.UseAsSystemBus(t)
	return m
}

// openManager opens a Manager of the given kind ("" detects) and closes it
// when the test ends.
func openManager(t testing.TB, override string, opts ...services.Option) services.Manager {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	mgr, err := services.Open(ctx, override, testLogger(t), append([]services.Option{noBootedMarker(t)}, opts...)...)
	if err != nil {
		t.Fatalf("Open(%q): %v", override, err)
	}
	t.Cleanup(mgr.Close)
	return mgr
}

func sleepUnit() string { return systemdtest.SimpleServiceUnit("/bin/sleep infinity") }

func TestSystemdStatus(t *testing.T) {
	m := startSystemd(t, map[string]string{
		"ovirt-engine.service":          sleepUnit(),
		"ovirt-engine-notifier.service": sleepUnit(),
	})
	m.EnableRuntime(t, "ovirt-engine.service")
	m.Start(t, "ovirt-engine.service")
	mgr := openManager(t, "systemd")
	ctx := t.Context()

	tests := []struct {
		unit string
		want services.Status
	}{
		{"ovirt-engine", services.Status{Unit: "ovirt-engine.service", Exists: true, Active: true,
			State: "active (running)", Enabled: true, EnablementState: "enabled-runtime", LoadState: "loaded"}},
		{"ovirt-engine-notifier.service", services.Status{Unit: "ovirt-engine-notifier.service", Exists: true,
			State: "inactive (dead)", EnablementState: "disabled", LoadState: "loaded"}},
		{"ovirt-websocket-proxy", services.Status{Unit: "ovirt-websocket-proxy.service",
			State: "inactive (dead)", LoadState: "not-found"}},
	}
	for _, tt := range tests {
		got, err := mgr.Status(ctx, tt.unit)
		if err != nil {
			t.Fatalf("Status(%s): %v", tt.unit, err)
		}
		if got != tt.want {
			t.Errorf("Status(%s):\n got %+v\nwant %+v", tt.unit, got, tt.want)
		}
	}
	if _, err := mgr.Status(ctx, "../etc/passwd"); !errors.Is(err, services.ErrInvalidName) {
		t.Errorf("Status of a bad name: %v, want ErrInvalidName", err)
	}
}

func TestSystemdStop(t *testing.T) {
	m := startSystemd(t, map[string]string{"ovirt-engine.service": sleepUnit()})
	m.Start(t, "ovirt-engine.service")
	mgr := openManager(t, "systemd")
	ctx := t.Context()

	out, err := mgr.Stop(ctx, "ovirt-engine", 10*time.Second)
	if err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if want := (services.Outcome{Unit: "ovirt-engine.service", Result: services.ResultStopped}); out != want {
		t.Errorf("Stop: %+v, want %+v", out, want)
	}
	if got := m.ActiveState(t, "ovirt-engine.service"); got != "inactive" {
		t.Errorf("after Stop, systemctl says ActiveState %s", got)
	}

	out, err = mgr.Stop(ctx, "ovirt-engine.service", 10*time.Second)
	if err != nil || out.Result != services.ResultAlreadyInactive {
		t.Errorf("second Stop: %v, %v; want already inactive", out, err)
	}

	out, err = mgr.Stop(ctx, "ovirt-engine-notifier", 10*time.Second)
	if err != nil || out.Result != services.ResultNotInstalled || out.Unit != "ovirt-engine-notifier.service" {
		t.Errorf("Stop of a missing unit: %v, %v; want not installed", out, err)
	}
}

// TestSystemdStopUnitWhoseFileIsGone: a unit file removed while the unit
// runs (a package removed under a running service) leaves the unit
// "not-found" yet active; it must be stopped, not skipped.
func TestSystemdStopUnitWhoseFileIsGone(t *testing.T) {
	m := startSystemd(t, map[string]string{"ovirt-engine-dwhd.service": sleepUnit()})
	m.Start(t, "ovirt-engine-dwhd.service")
	if err := os.Remove(filepath.Join(m.UnitDir(), "ovirt-engine-dwhd.service")); err != nil {
		t.Fatal(err)
	}
	m.DaemonReload(t)
	mgr := openManager(t, "systemd")

	st, err := mgr.Status(t.Context(), "ovirt-engine-dwhd")
	if err != nil || st.Exists || !st.Active || st.LoadState != "not-found" {
		t.Fatalf("Status: %+v, %v; want not-found and active", st, err)
	}
	out, err := mgr.Stop(t.Context(), "ovirt-engine-dwhd", 10*time.Second)
	if err != nil || out.Result != services.ResultStopped {
		t.Errorf("Stop: %v, %v; want stopped", out, err)
	}
	if got := m.ActiveState(t, "ovirt-engine-dwhd.service"); got != "inactive" {
		t.Errorf("after Stop, systemctl says ActiveState %s", got)
	}
}

func TestSystemdStopTimeout(t *testing.T) {
	m := startSystemd(t, map[string]string{
		// Ignores SIGTERM for 3 s; systemd's own stop timeout is later.
		"ovirt-engine.service":          systemdtest.SigtermIgnoringServiceUnit(3*time.Second, 30*time.Second),
		"ovirt-engine-notifier.service": sleepUnit(),
	})
	m.Start(t, "ovirt-engine.service")
	m.Start(t, "ovirt-engine-notifier.service")
	mgr := openManager(t, "systemd")
	ctx := t.Context()

	begin := time.Now()
	_, err := mgr.Stop(ctx, "ovirt-engine", time.Second)
	took := time.Since(begin)
	var te *services.StopTimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("Stop of a unit that ignores SIGTERM: %v, want a *StopTimeoutError", err)
	}
	t.Logf("Stop returned after %v: %v", took, err)
	for _, want := range []string{"ovirt-engine.service", "systemctl stop ovirt-engine.service", "deactivating"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("timeout error %q does not mention %q", err, want)
		}
	}
	if took < time.Second || took > 3*time.Second {
		t.Errorf("Stop took %v with a 1 s timeout", took)
	}

	// The abandoned stop job must not block the connection's later jobs.
	m.Systemctl(t, "kill", "--signal=KILL", "ovirt-engine.service")
	if out, err := mgr.Stop(ctx, "ovirt-engine-notifier", 10*time.Second); err != nil || out.Result != services.ResultStopped {
		t.Errorf("Stop after a timeout: %v, %v", out, err)
	}
}

func TestSystemdStopCancelled(t *testing.T) {
	m := startSystemd(t, map[string]string{
		"ovirt-engine.service": systemdtest.SigtermIgnoringServiceUnit(3*time.Second, 30*time.Second),
	})
	m.Start(t, "ovirt-engine.service")
	mgr := openManager(t, "systemd")
	t.Cleanup(func() { _, _ = m.SystemctlErr("kill", "--signal=KILL", "ovirt-engine.service") })

	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(300*time.Millisecond, cancel)
	begin := time.Now()
	_, err := mgr.Stop(ctx, "ovirt-engine", time.Minute)
	took := time.Since(begin)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop with a cancelled context: %v, want context.Canceled", err)
	}
	t.Logf("Stop returned %v after cancel at 300ms: %v", took, err)
	if took > 1500*time.Millisecond {
		t.Errorf("Stop returned %v after start, 300 ms after cancel is expected", took)
	}
}

func TestSystemdDisable(t *testing.T) {
	m := startSystemd(t, map[string]string{
		"ovirt-engine.service":          sleepUnit(),
		"ovirt-engine-notifier.service": sleepUnit(),
	})
	m.EnableRuntime(t, "ovirt-engine.service")
	ctx := t.Context()
	enablePersistently(t, ctx, "ovirt-engine.service")
	if got := m.Systemctl(t, "show", "-P", "UnitFileState", "ovirt-engine.service"); got != "enabled" {
		t.Fatalf("UnitFileState after enabling: %s", got)
	}
	mgr := openManager(t, "systemd")

	out, err := mgr.Disable(ctx, "ovirt-engine")
	if err != nil || out.Result != services.ResultDisabled {
		t.Fatalf("Disable: %v, %v", out, err)
	}
	t.Logf("Disable: %v", out)
	// is-enabled exits 1 for a disabled unit; its output is what counts.
	// It reads the runtime links itself; show asks the manager.
	if got, _ := m.SystemctlErr("is-enabled", "ovirt-engine.service"); got != "disabled" {
		t.Errorf("after Disable, systemctl is-enabled says %q", got)
	}
	if got := m.Systemctl(t, "show", "-P", "UnitFileState", "ovirt-engine.service"); got != "disabled" {
		t.Errorf("after Disable, the manager says UnitFileState %q", got)
	}
	for _, link := range []string{
		filepath.Join(m.UnitDir(), "default.target.wants", "ovirt-engine.service"),
		filepath.Join(m.RuntimeDir(), "config", "systemd", "user", "default.target.wants", "ovirt-engine.service"),
	} {
		if _, err := os.Lstat(link); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("enablement link %s survived: %v", link, err)
		}
	}

	out, err = mgr.Disable(ctx, "ovirt-engine")
	if err != nil || out.Result != services.ResultAlreadyDisabled {
		t.Errorf("second Disable: %v, %v; want already disabled", out, err)
	}
	out, err = mgr.Disable(ctx, "ovirt-engine-notifier")
	if err != nil || out.Result != services.ResultAlreadyDisabled {
		t.Errorf("Disable of a unit never enabled: %v, %v; want already disabled", out, err)
	}
	out, err = mgr.Disable(ctx, "ovirt-websocket-proxy")
	if err != nil || out.Result != services.ResultNotInstalled {
		t.Errorf("Disable of a missing unit: %v, %v; want not installed", out, err)
	}
}

// enablePersistently enables a unit in the manager's configuration
// directory, as "systemctl enable" does on a host. Not with systemctl: on a
// host whose PID 1 is not systemd it works offline, on the invoking user's
// ~/.config, not on the private manager.
func enablePersistently(t *testing.T, ctx context.Context, unit string) {
	t.Helper()
	conn, err := sdbus.NewSystemConnectionContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, _, err := conn.EnableUnitFilesContext(ctx, []string{unit}, false, false); err != nil {
		t.Fatalf("enable %s: %v", unit, err)
	}
	if err := conn.ReloadContext(ctx); err != nil {
		t.Fatal(err)
	}
}

func fiveUnits() (names []string, units map[string]string) {
	units = map[string]string{}
	for i := range 5 {
		name := fmt.Sprintf("ovirt-test-%d.service", i)
		names = append(names, name)
		units[name] = sleepUnit()
	}
	return names, units
}

func TestSystemdConcurrentStop(t *testing.T) {
	names, units := fiveUnits()
	m := startSystemd(t, units)
	m.Systemctl(t, append([]string{"start"}, names...)...)
	mgr := openManager(t, "systemd")

	outs, errs := stopAll(t.Context(), mgr, names)
	for i, name := range names {
		if errs[i] != nil || outs[i].Result != services.ResultStopped {
			t.Errorf("Stop(%s): %v, %v", name, outs[i], errs[i])
		}
		if got := m.ActiveState(t, name); got != "inactive" {
			t.Errorf("%s after concurrent Stop: %s", name, got)
		}
	}
}

func stopAll(ctx context.Context, mgr services.Manager, names []string) ([]services.Outcome, []error) {
	outs := make([]services.Outcome, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { outs[i], errs[i] = mgr.Stop(ctx, name, 30*time.Second) })
	}
	wg.Wait()
	return outs, errs
}

// BenchmarkOpenAndStopFiveUnits measures what the engine plugin's stop
// stage costs: detect and connect, then stop five running units, in
// parallel and one after the other. Starting the units is not measured.
func BenchmarkOpenAndStopFiveUnits(b *testing.B) {
	names, units := fiveUnits()
	m := startSystemd(b, units)
	for _, mode := range []string{"parallel", "sequential"} {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				m.Systemctl(b, append([]string{"start"}, names...)...)
				b.StartTimer()

				mgr, err := services.Open(b.Context(), "", hclog.NewNullLogger(), noBootedMarker(b))
				if err != nil {
					b.Fatal(err)
				}
				if mgr.Kind() != services.KindSystemd {
					b.Fatalf("detected %s", mgr.Kind())
				}
				if mode == "parallel" {
					_, errs := stopAll(b.Context(), mgr, names)
					if err := errors.Join(errs...); err != nil {
						b.Fatal(err)
					}
				} else {
					for _, name := range names {
						if _, err := mgr.Stop(b.Context(), name, 30*time.Second); err != nil {
							b.Fatal(err)
						}
					}
				}
				mgr.Close()
			}
		})
	}
}

// BenchmarkOpen measures detection and connection alone.
func BenchmarkOpen(b *testing.B) {
	startSystemd(b, nil)
	for b.Loop() {
		mgr, err := services.Open(b.Context(), "", hclog.NewNullLogger(), noBootedMarker(b))
		if err != nil {
			b.Fatal(err)
		}
		mgr.Close()
	}
}
