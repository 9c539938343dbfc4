// Package services stops and disables the services of an oVirt component
// (engine, DWH, Reports) through whatever manages services on the host:
// systemd over D-Bus, SysV init scripts, or nothing at all. The engine, DWH
// and Reports plugins build their "stop" and "disable" actions on it.
//
// # Choosing a manager
//
// Open returns a Manager. An override ("systemd", "sysv" or "none", the
// value of --service-manager) always wins. Without one, Open detects, in
// this order, within DefaultDetectTimeout and without changing anything:
//
//  1. systemd, when the system bus answers (DBUS_SYSTEM_BUS_ADDRESS, else
//     /run/dbus/system_bus_socket, as every D-Bus client reads it) and
//     systemd's manager object on it answers a read of SystemState. Tests
//     point DBUS_SYSTEM_BUS_ADDRESS at a private "systemd --user" manager;
//     production code has no test switch.
//  2. If that fails although PID 1 is systemd (/run/systemd/system exists,
//     sd_booted(3)), Open returns an error rather than fall back: init
//     scripts on a systemd host do not cover ovirt-engine, so a fallback
//     would "find" nothing to stop and leave the engine running while its
//     database is cleared.
//  3. sysv, when the init script directory (/etc/init.d) exists: hosts
//     without systemd, such as EL6 engines of the legacy era.
//  4. none: nothing manages services; every unit is reported as not
//     installed.
//
// # What Stop, Disable and Status guarantee
//
// Stop returns only once the unit is inactive, or with a *StopTimeoutError
// that names the unit and the command to stop it by hand. A unit that is
// already inactive or does not exist is not an error: the Outcome says
// what was found. Disable removes the enablement that setup made
// (systemctl enable, chkconfig on). Both are idempotent, so a re-run
// converges. Status only reads.
//
// Unit names may be given without a suffix: "ovirt-engine" is
// "ovirt-engine.service" to systemd and /etc/init.d/ovirt-engine to SysV.
//
// # The live host, even under --root
//
// Services are processes of the running system, so every Manager acts on
// the live host's service manager and on /etc/init.d of the live host, also
// when engine-cleanup runs with --root on a mounted image. A caller that
// cleans an image which is not the running system should pass "none".
// WithInitDir exists for tests.
//
// A Manager is safe for concurrent use: one D-Bus connection (two sockets,
// as go-systemd opens them) serves every call, and SysV calls share no
// state.
package services
