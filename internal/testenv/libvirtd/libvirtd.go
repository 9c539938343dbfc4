//go:build cgo

package libvirtd

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

	"libvirt.org/go/libvirt"
)

const (
	// readyTimeout covers the qemu capability probe of a fresh daemon
	// (3.5 s alone) on a busy machine.
	readyTimeout = 90 * time.Second
	pollInterval = 20 * time.Millisecond
	stopTimeout  = 30 * time.Second
	// daemonUser runs the daemon when the test runs as root.
	daemonUser = "libvirt-qemu"
	// dirPrefix names the daemons' directories: lvd-<pid>-<random>.
	dirPrefix = "lvd-"
	// maxSocket is the room for a Unix socket path (sun_path, with NUL).
	maxSocket = 107

	packages = "apt-get install libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86 (or run scripts/setup.sh)"
)

// Daemon is a private libvirtd with the qemu driver.
type Daemon struct {
	dir      string
	uid, gid int
	uri      string
	// caps is the qemu capabilities cache kept between daemons.
	caps string

	proc    *os.Process
	exited  chan struct{} // closed once the daemon has been reaped
	waitErr error         // valid after exited is closed

	mu      sync.Mutex
	stopped bool
	stopErr error
}

// Start starts a daemon that is stopped, with every domain it holds, when
// the test ends. It skips the test when libvirt's daemon, its qemu driver
// or qemu is missing.
func Start(t testing.TB) *Daemon {
	t.Helper()
	begin := time.Now()
	d, err := StartDaemon()
	if errors.Is(err, ErrUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("libvirtd: daemon log (last lines):\n%s", tail(d.logPath(), 30))
		}
		if err := d.Stop(); err != nil {
			t.Errorf("libvirtd: %v", err)
		}
	})
	t.Logf("libvirtd: daemon %d ready in %v at %s", d.proc.Pid, time.Since(begin).Round(time.Millisecond), d.uri)
	return d
}

// tempBase is where daemon directories go: $TMPDIR when the daemon's user
// can reach it and the socket path fits, else /tmp.
func tempBase() string {
	base := os.TempDir()
	if len(base) > 40 {
		return "/tmp"
	}
	for p := base; p != "/" && p != "."; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return "/tmp"
		}
	}
	return base
}

func (d *Daemon) socket() string  { return filepath.Join(d.dir, "run", "libvirt", "libvirt-sock") }
func (d *Daemon) logPath() string { return filepath.Join(d.dir, "libvirtd.log") }

// URI is the connection URI of the daemon.
func (d *Daemon) URI() string { return d.uri }

// Dir is the daemon's directory.
func (d *Daemon) Dir() string { return d.dir }

// QemuDir is the qemu driver's state directory, which stands for both
// /etc/libvirt/qemu and /var/lib/libvirt/qemu of a system daemon.
func (d *Daemon) QemuDir() string { return filepath.Join(d.dir, "config", "libvirt", "qemu") }

// SaveDir holds managed-save images, <name>.save.
func (d *Daemon) SaveDir() string { return filepath.Join(d.QemuDir(), "save") }

// SnapshotDir holds snapshot metadata, <name>/<snapshot>.xml.
func (d *Daemon) SnapshotDir() string { return filepath.Join(d.QemuDir(), "snapshot") }

// CheckpointDir holds checkpoint metadata, <name>/<checkpoint>.xml.
func (d *Daemon) CheckpointDir() string { return filepath.Join(d.QemuDir(), "checkpoint") }

// DataDir is a directory the daemon's user owns, for the disk images and
// NVRAM files of the test's domains.
func (d *Daemon) DataDir() string { return filepath.Join(d.dir, "data") }

// Leftovers lists what the daemon keeps on disk for a domain name: its
// definition, managed-save image, snapshot and checkpoint directories. An
// undefined domain leaves none.
func (d *Daemon) Leftovers(name string) []string {
	var out []string
	for _, p := range []string{
		filepath.Join(d.QemuDir(), name+".xml"),
		filepath.Join(d.SaveDir(), name+".save"),
		filepath.Join(d.SnapshotDir(), name),
		filepath.Join(d.CheckpointDir(), name),
	} {
		if _, err := os.Lstat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func (d *Daemon) prepare() error {
	for _, sub := range []string{"config/libvirt", "cache", "run", "home", "data"} {
		if err := os.MkdirAll(filepath.Join(d.dir, sub), 0o700); err != nil {
			return fmt.Errorf("create directory: %w", err)
		}
	}
	conf := map[string]string{
		"config/libvirt/libvirtd.conf": "# private test daemon: defaults (session mode: sockets under $XDG_RUNTIME_DIR)\n",
		"config/libvirt/qemu.conf":     "stdio_handler = \"file\"\nsecurity_driver = \"none\"\n",
	}
	for name, content := range conf {
		if err := os.WriteFile(filepath.Join(d.dir, name), []byte(content), 0o600); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	// A dummy UEFI loader: defining a domain with NVRAM needs one, and
	// the domains of the tests never start from it.
	if err := os.WriteFile(filepath.Join(d.DataDir(), "loader.fd"), make([]byte, 4096), 0o600); err != nil {
		return err
	}
	return filepath.Walk(d.dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, d.uid, d.gid)
	})
}

func (d *Daemon) start(bin string) error {
	logFile, err := os.OpenFile(d.logPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open daemon log: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "--config", filepath.Join(d.dir, "config/libvirt/libvirtd.conf"),
		"--pid-file", filepath.Join(d.dir, "run", "libvirtd.pid"))
	cmd.Dir = d.dir
	cmd.Env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"LANG=C.UTF-8",
		"HOME=" + filepath.Join(d.dir, "home"),
		"XDG_CONFIG_HOME=" + filepath.Join(d.dir, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(d.dir, "cache"),
		"XDG_RUNTIME_DIR=" + filepath.Join(d.dir, "run"),
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Setsid: off the test's terminal. Pdeathsig: the daemon goes with the
	// test binary (it follows the forking OS thread, which the runtime
	// keeps while no goroutine exits locked to it).
	attr := &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGTERM}
	if d.uid != os.Geteuid() {
		attr.Credential = &syscall.Credential{Uid: uint32(d.uid), Gid: uint32(d.gid), NoSetGroups: false, Groups: []uint32{}}
	}
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	d.proc, d.exited = cmd.Process, make(chan struct{})
	go func() {
		err := cmd.Wait()
		d.waitErr = err
		close(d.exited)
	}()
	return nil
}

// waitReady connects until the daemon answers, and makes the qemu driver
// probe its capabilities now, not in the middle of a test.
func (d *Daemon) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	var last error
	for {
		select {
		case <-d.exited:
			return fmt.Errorf("daemon exited before becoming ready: %v", d.waitErr)
		default:
		}
		if _, err := os.Stat(d.socket()); err == nil {
			c, err := libvirt.NewConnect(d.uri)
			if err == nil {
				_, err = c.GetCapabilities()
				c.Close()
				if err == nil {
					return nil
				}
			}
			last = err
			var le libvirt.Error
			if errors.As(err, &le) && le.Code == libvirt.ERR_NO_CONNECT {
				return err
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("daemon not ready after %v: %v", readyTimeout, last)
		}
		time.Sleep(pollInterval)
	}
}

// Connect opens a connection to the daemon, closed when the test ends.
func (d *Daemon) Connect(t testing.TB) *libvirt.Connect {
	t.Helper()
	c, err := libvirt.NewConnect(d.uri)
	if err != nil {
		t.Fatalf("libvirtd: connect to %s: %v", d.uri, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Chown gives a file or directory the test made to the daemon's user, so
// that the daemon can read and remove it.
func (d *Daemon) Chown(t testing.TB, path string) {
	t.Helper()
	if err := os.Lchown(path, d.uid, d.gid); err != nil {
		t.Fatalf("libvirtd: %v", err)
	}
}

// PID is the daemon's process ID.
func (d *Daemon) PID() int { return d.proc.Pid }

// Stop removes every domain of the daemon, stops it, kills any qemu it
// left and removes its directory. It is idempotent; Start registers it
// with t.Cleanup.
func (d *Daemon) Stop() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return d.stopErr
	}
	d.stopped = true
	var errs []error
	if d.proc != nil {
		select {
		case <-d.exited:
		default:
			if err := d.removeDomains(); err != nil {
				errs = append(errs, err)
			}
			_ = d.proc.Signal(syscall.SIGTERM)
			select {
			case <-d.exited:
			case <-time.After(stopTimeout):
				errs = append(errs, fmt.Errorf("daemon %d still running %v after SIGTERM: killed", d.proc.Pid, stopTimeout))
				_ = d.proc.Kill()
				<-d.exited
			}
		}
	}
	if pids := killNaming(d.dir); len(pids) > 0 {
		errs = append(errs, fmt.Errorf("killed processes %v left by the daemon", pids))
	}
	d.saveCaps()
	if err := os.RemoveAll(d.dir); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", d.dir, err))
	}
	d.stopErr = errors.Join(errs...)
	return d.stopErr
}

// removeDomains destroys and undefines every domain, with every flag.
func (d *Daemon) removeDomains() error {
	c, err := libvirt.NewConnect(d.uri)
	if err != nil {
		return fmt.Errorf("connect to remove the domains: %w", err)
	}
	defer c.Close()
	doms, err := c.ListAllDomains(0)
	if err != nil {
		return fmt.Errorf("list the domains to remove: %w", err)
	}
	var errs []error
	for i := range doms {
		dom := &doms[i]
		if active, _ := dom.IsActive(); active {
			_ = dom.Destroy()
		}
		if persistent, _ := dom.IsPersistent(); persistent {
			err := dom.UndefineFlags(libvirt.DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
				libvirt.DOMAIN_UNDEFINE_CHECKPOINTS_METADATA | libvirt.DOMAIN_UNDEFINE_NVRAM)
			if err != nil {
				name, _ := dom.GetName()
				errs = append(errs, fmt.Errorf("undefine %s: %w", name, err))
			}
		}
		dom.Free()
	}
	return errors.Join(errs...)
}

// killNaming kills, by PID, the processes whose command line names dir:
// the qemu processes and the daemon of a test that did not stop them.
func killNaming(dir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var killed []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte(dir+"/")) {
			continue
		}
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed = append(killed, pid)
		}
	}
	return killed
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// capsSubdir is where the qemu driver caches the capabilities it probed
// from each qemu binary (3.5 s of work), under $XDG_CACHE_HOME. libvirt
// checks each entry against the binary and its own version, and probes
// again when one is stale.
const capsSubdir = "libvirt/qemu/cache/capabilities"

// seedCaps copies the capabilities cache of an earlier daemon, if any, into
// this daemon's cache.
func (d *Daemon) seedCaps() error {
	if d.caps == "" {
		return nil
	}
	names, err := filepath.Glob(filepath.Join(d.caps, "*.xml"))
	if err != nil || len(names) == 0 {
		return err
	}
	dst := filepath.Join(d.dir, "cache", capsSubdir)
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(n)), data, 0o600); err != nil {
			return err
		}
	}
	return filepath.Walk(filepath.Join(d.dir, "cache"), func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, d.uid, d.gid)
	})
}

// saveCaps keeps this daemon's capabilities cache for the next daemon,
// unless one is kept already: written aside and renamed into place, so a
// concurrent daemon never reads half of it.
func (d *Daemon) saveCaps() {
	if d.caps == "" {
		return
	}
	if _, err := os.Stat(d.caps); err == nil {
		return
	}
	names, _ := filepath.Glob(filepath.Join(d.dir, "cache", capsSubdir, "*.xml"))
	if len(names) == 0 {
		return
	}
	tmp, err := os.MkdirTemp(filepath.Dir(d.caps), filepath.Base(d.caps)+".tmp")
	if err != nil {
		return
	}
	defer os.RemoveAll(tmp)
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil || os.WriteFile(filepath.Join(tmp, filepath.Base(n)), data, 0o600) != nil {
			return
		}
	}
	_ = os.Rename(tmp, d.caps)
}
