// Package systemdtest starts a private "systemd --user" manager for one
// test, so that code which manages services over D-Bus (go-systemd) or with
// systemctl can be tested against a real systemd on a host whose PID 1 is
// not systemd, without touching the host's services.
//
// The manager is started per the recipe of /work/shared/TESTING.md (b):
//
//   - A systemd manager adopts the cgroup it starts in and moves every
//     process of that cgroup into its init.scope. Started in the root
//     cgroup, it would capture every process of the machine. The launching
//     shell therefore first moves itself into a new cgroup of its own,
//     /sys/fs/cgroup/{systemd,unified}/sdu-<pid>-<random> on a hybrid host
//     (/sys/fs/cgroup/sdu-... on a pure cgroup2 host), checks that the move
//     took, and only then execs systemd.
//   - systemd refuses to run as a user instance unless /run/systemd/system
//     exists; the shell runs in a private mount namespace (unshare --mount
//     --propagation private) with a tmpfs on /run/systemd holding that
//     marker, invisible to the host.
//   - Everything else lives in a short runtime directory,
//     /tmp/sdu-<pid>-<random> ($XDG_RUNTIME_DIR of the manager): unit files
//     in $RT/systemd/user, the manager's private socket, and the user bus
//     $RT/bus, on which dbus-user-session's dbus.socket starts a
//     dbus-daemon on demand.
//
// Production code that connects with dbus.NewSystemConnectionContext talks
// to the private manager once DBUS_SYSTEM_BUS_ADDRESS is set to
// BusAddress() (UseAsSystemBus does it with t.Setenv); command-line tools
// run with Env() and "systemctl --user" (Systemctl).
//
// The manager and its units run as root in the host's PID and network
// namespaces. There is no journald: a unit's output is lost unless it goes
// to a file (SimpleServiceUnit writes it to $RT/<unit>.log).
//
// Costs on the 2-vCPU reference machine while other test suites ran: Start
// 0.2 to 0.7 s (median 0.3 s), the first bus connection 30 to 80 ms (the
// dbus-daemon starts on demand), Shutdown 30 to 120 ms, plus the stop time
// of units that are slow to stop.
//
// Programs that are not tests (the sandbox of internal/cmd/sandbox) use
// StartManager, which returns an error where Start would fail or skip the
// test, then InstallUnitErr and SystemctlErr, and finally Shutdown, which
// Start otherwise registers with t.Cleanup.
//
// When the test ends the manager gets SIGTERM, stops its units and exits;
// then its cgroup directories and runtime directory are removed. If the
// test binary is killed, the manager gets SIGTERM through Pdeathsig but
// the directories stay: Start sweeps those of dead test binaries.
package systemdtest
