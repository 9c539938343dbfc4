package services_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engine-cleanup/engine-cleanup/plugins/services"
)

// noBus points the system bus at a socket that does not exist.
func noBus(t *testing.T) {
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
}

func TestOpenDetectsSystemd(t *testing.T) {
	startSystemd(t, nil)
	begin := time.Now()
	mgr := openManager(t, "")
	t.Logf("Open detected %s in %v", mgr.Kind(), time.Since(begin))
	if mgr.Kind() != services.KindSystemd {
		t.Errorf("with DBUS_SYSTEM_BUS_ADDRESS at a systemd manager, Open detected %s", mgr.Kind())
	}
}

func TestOpenDetectsWithoutBus(t *testing.T) {
	tests := []struct {
		name      string
		initDir   bool // create the init dir
		hungBus   bool // a bus socket that accepts and never answers
		timeout   time.Duration
		want      services.Kind
		wantQuick time.Duration
	}{
		{name: "no bus and no init dir is none", want: services.KindNone, wantQuick: 500 * time.Millisecond},
		{name: "no bus and an init dir is sysv", initDir: true, want: services.KindSysV, wantQuick: 500 * time.Millisecond},
		{name: "a bus that never answers is given up after the detect timeout", hungBus: true,
			timeout: 300 * time.Millisecond, want: services.KindNone, wantQuick: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noBus(t)
			if tt.hungBus {
				sock := filepath.Join(t.TempDir(), "bus")
				l, err := net.Listen("unix", sock)
				if err != nil {
					t.Fatal(err)
				}
				// Accept, and never say a word.
				accepted := make(chan []net.Conn, 1)
				go func() {
					var conns []net.Conn
					for {
						c, err := l.Accept()
						if err != nil {
							accepted <- conns
							return
						}
						conns = append(conns, c)
					}
				}()
				t.Cleanup(func() {
					l.Close()
					for _, c := range <-accepted {
						c.Close()
					}
				})
				t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+sock)
			}
			initDir := filepath.Join(t.TempDir(), "init.d")
			if tt.initDir {
				if err := os.Mkdir(initDir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			opts := []services.Option{services.WithInitDir(initDir)}
			if tt.timeout > 0 {
				opts = append(opts, services.WithDetectTimeout(tt.timeout))
			}
			begin := time.Now()
			mgr := openManager(t, "", opts...)
			took := time.Since(begin)
			t.Logf("Open detected %s in %v", mgr.Kind(), took)
			if mgr.Kind() != tt.want {
				t.Errorf("Open detected %s, want %s", mgr.Kind(), tt.want)
			}
			if took > tt.wantQuick {
				t.Errorf("detection took %v, want under %v", took, tt.wantQuick)
			}
		})
	}
}

// TestOpenRefusesFallbackOnSystemdHost: when PID 1 is systemd but its bus
// does not answer, falling back to init scripts would find no engine to
// stop; Open must say so instead.
func TestOpenRefusesFallbackOnSystemdHost(t *testing.T) {
	noBus(t)
	marker := t.TempDir() // exists: "PID 1 is systemd"
	initDir := t.TempDir()
	_, err := services.Open(t.Context(), "", testLogger(t),
		services.WithSystemdBootedMarker(marker), services.WithInitDir(initDir))
	if err == nil || !strings.Contains(err.Error(), "--service-manager") {
		t.Fatalf("Open on a systemd host without a bus: %v, want an error suggesting --service-manager", err)
	}
	t.Log(err)
}

func TestOpenOverrideWins(t *testing.T) {
	startSystemd(t, nil)
	initDir := filepath.Join(t.TempDir(), "init.d") // does not exist: sysv is no detection
	for _, kind := range []services.Kind{services.KindNone, services.KindSysV, services.KindSystemd} {
		mgr := openManager(t, string(kind), services.WithInitDir(initDir))
		if mgr.Kind() != kind {
			t.Errorf("Open(%q) gave %s", kind, mgr.Kind())
		}
	}
	if _, err := services.Open(t.Context(), "upstart", nil); err == nil || !strings.Contains(err.Error(), "systemd, sysv or none") {
		t.Errorf("Open(upstart): %v, want an error listing the choices", err)
	}
}

func TestOpenSystemdOverrideWithoutBus(t *testing.T) {
	noBus(t)
	_, err := services.Open(t.Context(), "systemd", nil, noBootedMarker(t))
	if err == nil || !strings.Contains(err.Error(), "--service-manager sysv or none") {
		t.Fatalf("Open(systemd) without a bus: %v, want an error naming the alternatives", err)
	}
	t.Log(err)
}

func TestNone(t *testing.T) {
	mgr := openManager(t, "none")
	ctx := t.Context()
	st, err := mgr.Status(ctx, "ovirt-engine")
	if err != nil || st.Exists || st.Active || st.Enabled {
		t.Errorf("Status: %+v, %v; want not installed", st, err)
	}
	for what, call := range map[string]func() (services.Outcome, error){
		"Stop":    func() (services.Outcome, error) { return mgr.Stop(ctx, "ovirt-engine", time.Second) },
		"Disable": func() (services.Outcome, error) { return mgr.Disable(ctx, "ovirt-engine") },
	} {
		out, err := call()
		if err != nil || out.Result != services.ResultSkipped || !strings.Contains(out.Detail, "--service-manager none") {
			t.Errorf("%s: %v, %v; want skipped with the reason", what, out, err)
		}
	}
}
