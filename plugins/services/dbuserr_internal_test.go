package services

import (
	"testing"

	sdbus "github.com/coreos/go-systemd/v22/dbus"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/systemdtest"
)

// TestDBusErrorNameOfMissingUnit pins the typed error that Stop and
// Disable rely on when a unit vanishes between their check and their call.
func TestDBusErrorNameOfMissingUnit(t *testing.T) {
	m := systemdtest.Start(t)
	m.UseAsSystemBus(t)
	ctx := t.Context()
	conn, err := sdbus.NewSystemConnectionContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	_, err = conn.StopUnitContext(ctx, "ovirt-engine.service", "replace", make(chan string, 1))
	if got := dbusErrorName(err); got != dbusErrNoSuchUnit {
		t.Errorf("StopUnit of a missing unit: %v (name %q), want %s", err, got, dbusErrNoSuchUnit)
	}
	_, err = conn.DisableUnitFilesContext(ctx, []string{"ovirt-engine.service"}, false)
	if got := dbusErrorName(err); got != dbusErrNoSuchUnit {
		t.Errorf("DisableUnitFiles of a missing unit: %v (name %q), want %s", err, got, dbusErrNoSuchUnit)
	}
}
