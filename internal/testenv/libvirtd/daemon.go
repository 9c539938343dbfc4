//go:build cgo

package libvirtd

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"libvirt.org/go/libvirt"
)

// StartDaemon is Start for programs that are not tests, such as the
// sandbox: it returns a running daemon that the caller stops, with every
// domain it holds, with Close. Where Start skips the test, StartDaemon
// returns an error wrapping ErrUnavailable.
//
// It shares prepare, seedCaps, start, waitReady and Stop with Start; the
// parts of Start that report through the test (finding the binaries, the
// daemon's user, sweeping stale directories) are repeated here returning
// errors, since Start's helpers take a testing.TB.
func StartDaemon() (*Daemon, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	uid, gid, err := daemonIDsErr()
	if err != nil {
		return nil, err
	}
	base := tempBase()
	sweepStaleQuiet(base)
	dir, err := os.MkdirTemp(base, fmt.Sprintf("%s%d-", dirPrefix, os.Getpid()))
	if err != nil {
		return nil, fmt.Errorf("libvirtd: create directory: %w", err)
	}
	d := &Daemon{dir: dir, uid: uid, gid: gid}
	d.uri = "qemu:///session?socket=" + d.socket()
	fail := func(err error) (*Daemon, error) {
		return nil, errors.Join(fmt.Errorf("libvirtd: %w", err), d.Stop())
	}
	if len(d.socket()) > maxSocket {
		return fail(fmt.Errorf("socket path %s is longer than %d bytes: set TMPDIR to a shorter directory", d.socket(), maxSocket))
	}
	if err := d.prepare(); err != nil {
		return fail(err)
	}
	d.caps = filepath.Join(base, fmt.Sprintf("%scapscache-%d", dirPrefix, uid))
	_ = d.seedCaps() // only a cache: the daemon probes again without it
	if err := d.start(bin); err != nil {
		return fail(err)
	}
	if err := d.waitReady(); err != nil {
		if strings.Contains(err.Error(), "no connection driver available") {
			return fail(fmt.Errorf("%w: the qemu driver is not installed (%s): %v", ErrUnavailable, packages, err))
		}
		return fail(fmt.Errorf("%w\ndaemon log:\n%s", err, tail(d.logPath(), 30)))
	}
	return d, nil
}

// ErrUnavailable is wrapped by StartDaemon's error when libvirtd, its
// qemu driver, qemu or the daemon's user is missing.
var ErrUnavailable = errors.New("libvirtd unavailable")

// Close is Stop, for programs that used StartDaemon: it removes every
// domain, stops the daemon by PID, kills any qemu it left and removes its
// directory. It is idempotent.
func (d *Daemon) Close() error { return d.Stop() }

// ConnectErr opens a connection to the daemon; the caller closes it.
func (d *Daemon) ConnectErr() (*libvirt.Connect, error) {
	c, err := libvirt.NewConnect(d.uri)
	if err != nil {
		return nil, fmt.Errorf("libvirtd: connect to %s: %w", d.uri, err)
	}
	return c, nil
}

// LogPath is the daemon's log file, in its directory.
func (d *Daemon) LogPath() string { return d.logPath() }

// findBinaries is skipIfUnavailable returning an error.
func findBinaries() (string, error) {
	bin, err := exec.LookPath("libvirtd")
	if err != nil {
		bin = ""
		for _, p := range []string{"/usr/sbin/libvirtd", "/usr/local/sbin/libvirtd"} {
			if _, err := os.Stat(p); err == nil {
				bin = p
			}
		}
	}
	if bin == "" {
		return "", fmt.Errorf("%w: libvirtd not found (%s)", ErrUnavailable, packages)
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		return "", fmt.Errorf("%w: qemu-system-x86_64 not found (%s)", ErrUnavailable, packages)
	}
	return bin, nil
}

// daemonIDsErr is daemonIDs returning an error.
func daemonIDsErr() (int, int, error) {
	if os.Geteuid() != 0 {
		return os.Geteuid(), os.Getegid(), nil
	}
	u, err := user.Lookup(daemonUser)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: user %s not found: as root, the private daemon runs as %s (scripts/setup.sh)",
			ErrUnavailable, daemonUser, daemonUser)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return uid, gid, nil
}

// sweepStaleQuiet is sweepStale without the test's log.
func sweepStaleQuiet(base string) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), dirPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		head, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(head)
		if err != nil || pid == os.Getpid() || syscall.Kill(pid, 0) == nil {
			continue
		}
		dir := filepath.Join(base, e.Name())
		killNaming(dir)
		_ = os.RemoveAll(dir)
	}
}
