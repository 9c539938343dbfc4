package pgtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BinDir holds the PostgreSQL 15 server binaries on Debian.
const BinDir = "/usr/lib/postgresql/15/bin"

// Timeouts are generous because CI machines have 2 vCPUs and several test
// binaries start clusters at the same time.
const (
	readyTimeout = 60 * time.Second
	stopTimeout  = 60 * time.Second
	pollInterval = 10 * time.Millisecond
	// maxSocketPath is the size of sun_path minus its terminating NUL.
	maxSocketPath = 107
)

// Bin returns the path of a PostgreSQL 15 program, e.g. Bin("pg_dump").
// Use it instead of /usr/bin/pg_dump: Debian's pg_wrapper picks a version
// from the cluster configuration, which knows nothing of test clusters.
func Bin(name string) string { return filepath.Join(BinDir, name) }

// Option configures Start.
type Option func(*config)

type config struct {
	tcp           bool
	settings      []string
	templateName  string
	templateSetup func(t testing.TB, c *Cluster)
}

// WithTCP makes the server listen on 127.0.0.1 too. Host connections use
// scram-sha-256, so a role with a password must present it over TCP, while
// socket connections stay trusted.
func WithTCP() Option { return func(c *config) { c.tcp = true } }

// WithSetting passes "-c name=value" to the server, e.g.
// WithSetting("log_statement", "all").
func WithSetting(name, value string) Option {
	return func(c *config) { c.settings = append(c.settings, name+"="+value) }
}

// Cluster is a running PostgreSQL server private to one test.
type Cluster struct {
	dir     string // socket directory and parent of the data directory
	dataDir string
	port    int
	tcp     bool
	cred    *syscall.Credential // nil when the test does not run as root
	args    []string            // extra -c settings

	mu      sync.Mutex
	proc    *os.Process
	exited  chan struct{} // closed once the server process has been reaped
	waitErr error         // valid after exited is closed
}

// SkipIfUnavailable skips the test if PostgreSQL 15 is not installed.
// Start calls it; call it directly to skip before expensive setup.
func SkipIfUnavailable(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		t.Skip(err.Error())
	}
}

// Available reports why a cluster cannot be started here (PostgreSQL 15 or
// the "postgres" OS user missing), or nil: SkipIfUnavailable for programs
// that are not tests.
func Available() error {
	if _, err := os.Stat(Bin("initdb")); err != nil {
		return errors.New("PostgreSQL 15 not installed: apt-get install postgresql-15")
	}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			return errors.New("pgtest: no \"postgres\" OS user to run the server as (apt-get install postgresql-15)")
		}
	}
	return nil
}

func newConfig(opts []Option) config {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// Start returns a running cluster that is stopped and removed when the test
// ends.
func Start(t testing.TB, opts ...Option) *Cluster {
	t.Helper()
	SkipIfUnavailable(t)
	cfg := newConfig(opts)
	begin := time.Now()
	cred, err := serverCredential()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	tmpl, root, err := template(t, cfg, cred)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	c, times, err := launch(cfg, cred, tmpl, root)
	if c != nil {
		// Registered before failing so that a half-made cluster is cleaned
		// up too.
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("pgtest: server log of %s:\n%s", c.dir, c.logTail(40))
			}
			if err := c.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Logf("pgtest: cluster %s port %d pid %d ready (template %v, copy %v, start %v)", c.dir, c.port, c.proc.Pid,
		times.copyStart.Sub(begin).Round(time.Millisecond), times.serverStart.Sub(times.copyStart).Round(time.Millisecond),
		time.Since(times.serverStart).Round(time.Millisecond))
	return c
}

// StartCluster is Start for programs that are not tests, such as the
// sandbox: it returns a running cluster that the caller stops and removes
// with Close, and should call RemoveTemplate once it needs no more
// clusters. WithTemplate, whose setup needs a test, is refused.
func StartCluster(opts ...Option) (*Cluster, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	cfg := newConfig(opts)
	if cfg.templateSetup != nil {
		return nil, fmt.Errorf("pgtest: WithTemplate(%q) needs a test: use Start", cfg.templateName)
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	tmpl, root, err := baseTemplate(cred)
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	c, _, err := launch(cfg, cred, tmpl, root)
	if err != nil {
		if c != nil {
			err = errors.Join(fmt.Errorf("pgtest: %w", err), c.Close())
		} else {
			err = fmt.Errorf("pgtest: %w", err)
		}
		return nil, err
	}
	return c, nil
}

// launchTimes are when launch started copying the template and starting
// the server, for Start's log line.
type launchTimes struct{ copyStart, serverStart time.Time }

// launch makes a cluster directory under root, copies the template tmpl
// into it and starts the server. The cluster is non-nil, even on error,
// once its directory exists: the caller then owns it and must Close it.
func launch(cfg config, cred *syscall.Credential, tmpl, root string) (*Cluster, launchTimes, error) {
	var times launchTimes
	// The directory name carries our PID so that a later test binary can
	// tell leftovers of a killed binary from clusters still in use.
	dir, err := os.MkdirTemp(root, fmt.Sprintf("pgc-%d-", os.Getpid()))
	if err != nil {
		return nil, times, fmt.Errorf("create cluster dir: %w", err)
	}
	c := &Cluster{dir: dir, dataDir: filepath.Join(dir, "data"), tcp: cfg.tcp, cred: cred, args: cfg.settings}
	if err := ownDir(dir, cred); err != nil {
		return c, times, err
	}
	times.copyStart = time.Now()
	if err := copyDataDir(filepath.Join(tmpl, "data"), c.dataDir); err != nil {
		return c, times, err
	}
	times.serverStart = time.Now()
	if err := c.startFreePort(); err != nil {
		return c, times, err
	}
	return c, times, nil
}

// Close stops the server (as Stop does) and removes the cluster's
// directory, data included. Start registers it with t.Cleanup; programs
// that used StartCluster call it themselves. It is idempotent.
func (c *Cluster) Close() error {
	c.Stop()
	if err := os.RemoveAll(c.dir); err != nil {
		return fmt.Errorf("pgtest: remove %s: %w", c.dir, err)
	}
	return nil
}

// ServerLogPath is the server's log file, in the cluster's directory.
func (c *Cluster) ServerLogPath() string { return c.logPath() }

// SocketDir is the directory holding the server's Unix socket; use it as
// the host in a DSN or PGHOST.
func (c *Cluster) SocketDir() string { return c.dir }

// DataDir is the cluster's data directory (owned by the postgres OS user).
func (c *Cluster) DataDir() string { return c.dataDir }

// Port is the server port, used both for TCP and in the socket's name.
func (c *Cluster) Port() int { return c.port }

// TCP reports whether the cluster was started WithTCP.
func (c *Cluster) TCP() bool { return c.tcp }

// Host is "127.0.0.1" for a cluster started WithTCP, else the socket
// directory.
func (c *Cluster) Host() string {
	if c.tcp {
		return "127.0.0.1"
	}
	return c.dir
}

// SuperDSN is a DSN for the superuser "postgres" over the Unix socket.
func (c *Cluster) SuperDSN(db string) string { return c.SocketDSN("postgres", db) }

// SocketDSN is a DSN for role over the Unix socket, where no password is
// needed.
func (c *Cluster) SocketDSN(role, db string) string {
	return DSN("host", c.dir, "port", strconv.Itoa(c.port), "user", role, "dbname", db, "sslmode", "disable")
}

// TCPDSN is a DSN for role with password over 127.0.0.1; the cluster must
// have been started WithTCP.
func (c *Cluster) TCPDSN(role, password, db string) string {
	return DSN("host", "127.0.0.1", "port", strconv.Itoa(c.port), "user", role, "password", password,
		"dbname", db, "sslmode", "disable")
}

// DSN builds a keyword/value connection string, quoting every value.
func DSN(keyValues ...string) string {
	if len(keyValues)%2 != 0 {
		panic("pgtest.DSN: odd number of arguments")
	}
	quote := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	var b strings.Builder
	for i := 0; i < len(keyValues); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s='%s'", keyValues[i], quote.Replace(keyValues[i+1]))
	}
	return b.String()
}

// Stop shuts the server down (SIGINT: fast shutdown, open sessions are
// terminated) and waits for it. It is idempotent and safe to call from
// several goroutines.
func (c *Cluster) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopLocked()
}

// Restart stops the server and starts it again on the same port and data
// directory (about 0.1 s).
func (c *Cluster) Restart(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopLocked()
	if err := c.startLocked(); err != nil {
		t.Fatalf("pgtest: restart: %v", err)
	}
}

// PID is the postmaster's PID, or 0 when the server is stopped.
func (c *Cluster) PID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil {
		return 0
	}
	return c.proc.Pid
}

func (c *Cluster) stopLocked() {
	if c.proc == nil {
		return
	}
	select {
	case <-c.exited:
	default:
		_ = c.proc.Signal(syscall.SIGINT)
		select {
		case <-c.exited:
		case <-time.After(stopTimeout):
			_ = c.proc.Kill()
			<-c.exited
		}
	}
	c.proc = nil
}

// errPortInUse means another process took the port between freePort and
// the server's bind; the caller retries with another port.
var errPortInUse = errors.New("port in use")

func (c *Cluster) startFreePort() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if c.port, err = freePort(); err != nil {
			return err
		}
		if err = c.startLocked(); !errors.Is(err, errPortInUse) {
			return err
		}
	}
	return err
}

func (c *Cluster) startLocked() error {
	listen := ""
	if c.tcp {
		listen = "127.0.0.1"
	}
	args := []string{"-D", c.dataDir, "-k", c.dir, "-p", strconv.Itoa(c.port),
		"-c", "listen_addresses=" + listen,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		// The default, which initdb --wal-segsize=1 lowered to 64 MB: that
		// made loading a full engine schema checkpoint every few seconds.
		"-c", "max_wal_size=1GB"}
	for _, s := range c.args {
		args = append(args, "-c", s)
	}
	if n := len(filepath.Join(c.dir, ".s.PGSQL."+strconv.Itoa(c.port)+".lock")); n > maxSocketPath {
		return fmt.Errorf("socket path in %s is %d bytes, over the %d-byte limit: set TMPDIR shorter", c.dir, n, maxSocketPath)
	}
	logFile, err := os.OpenFile(c.logPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open server log: %w", err)
	}
	defer logFile.Close()
	logStart, _ := logFile.Seek(0, 2)

	cmd := exec.Command(Bin("postgres"), args...)
	cmd.Dir = c.dir
	cmd.Env = serverEnv()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr(c.cred)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		c.waitErr = err // read only after exited is closed
		close(exited)
	}()
	c.proc, c.exited = cmd.Process, exited

	deadline := time.Now().Add(readyTimeout)
	for {
		if c.ready(cmd.Process.Pid) {
			return nil
		}
		select {
		case <-exited:
			c.proc = nil
			log := c.logSince(logStart)
			if strings.Contains(log, "could not bind") || strings.Contains(log, "already in use") {
				return fmt.Errorf("start postgres on port %d: %w", c.port, errPortInUse)
			}
			return fmt.Errorf("postgres exited before becoming ready (%v):\n%s", c.waitErr, log)
		case <-time.After(pollInterval):
		}
		if time.Now().After(deadline) {
			c.stopLocked()
			return fmt.Errorf("postgres not ready after %v:\n%s", readyTimeout, c.logSince(logStart))
		}
	}
}

// ready reads the status line of postmaster.pid, as pg_ctl -w does: cheaper
// than a test connection, and the PID check rules out a stale file.
func (c *Cluster) ready(pid int) bool {
	b, err := os.ReadFile(filepath.Join(c.dataDir, "postmaster.pid"))
	if err != nil {
		return false
	}
	lines := strings.Split(string(b), "\n")
	return len(lines) >= 8 && strings.TrimSpace(lines[0]) == strconv.Itoa(pid) &&
		strings.TrimSpace(lines[7]) == "ready"
}

func (c *Cluster) logPath() string { return filepath.Join(c.dir, "server.log") }

func (c *Cluster) logSince(off int64) string {
	b, err := os.ReadFile(c.logPath())
	if err != nil || off > int64(len(b)) {
		return ""
	}
	return string(b[off:])
}

func (c *Cluster) logTail(lines int) string {
	b, _ := os.ReadFile(c.logPath())
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// serverCredential returns the identity to run initdb and postgres as: the
// postgres OS user when we are root (both refuse to run as root), nil
// (ourselves) otherwise.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("look up postgres user: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres gid %q: %w", u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// sysProcAttr makes the child die with the test binary (SIGKILL: the data
// is throwaway, no need for a clean shutdown) and puts it in its own
// process group so that a ^C on the terminal reaches only the test binary.
//
// Pdeathsig fires when the OS thread that forked the child exits, not the
// process; the Go runtime keeps its threads unless a goroutine exits while
// locked to one, which the harness never does.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// serverEnv is a minimal environment: the test's PG* variables must not
// leak into the server, and LANG fixes the messages' language.
func serverEnv() []string {
	return []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8"}
}

func ownDir(dir string, cred *syscall.Credential) error {
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("chown %s to postgres: %w", dir, err)
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("chmod %s: %w", dir, err)
	}
	return nil
}

// tempRoot is the fallback for dataRoot, kept short: the socket path must
// fit in 107 bytes.
func tempRoot() string {
	if d := os.TempDir(); len(d) <= 40 {
		return d
	}
	return "/tmp"
}

// dataRoot chooses where templates and clusters live. /dev/shm when it is
// a tmpfs with room to spare: copying a data directory there takes 70 ms
// against 0.4 to 1 s on the ext4 /tmp of the reference machine, which made
// the copy most of Start's time. Containers often have a 64 MB /dev/shm,
// hence the free space check. PGTEST_ROOT overrides the choice.
func dataRoot() string {
	if d := os.Getenv("PGTEST_ROOT"); d != "" {
		return d
	}
	var st syscall.Statfs_t
	if syscall.Statfs("/dev/shm", &st) == nil && st.Type == tmpfsMagic &&
		st.Bavail*uint64(st.Bsize) >= 2<<30 && syscall.Access("/dev/shm", 2 /* W_OK */) == nil {
		return "/dev/shm"
	}
	return tempRoot()
}

const tmpfsMagic = 0x01021994 // linux/magic.h

// candidateRoots are the directories earlier test binaries may have used.
func candidateRoots() []string {
	roots := []string{"/dev/shm", tempRoot()}
	if d := os.Getenv("PGTEST_ROOT"); d != "" {
		roots = append(roots, d)
	}
	return roots
}

// templates guards the per-process template clusters: the base one made by
// initdb (key "") and those made by WithTemplate. It is the package's only
// mutable state.
var templates struct {
	mu      sync.Mutex
	entries map[string]*templateEntry
	// root is dataRoot() as chosen when the base template was made; it
	// must not change afterwards (free space on /dev/shm does).
	root string
}

type templateEntry struct {
	once sync.Once
	dir  string // holds data/, the data directory to copy
	err  error
}

func templateEntryFor(name string) (entry *templateEntry, index int) {
	templates.mu.Lock()
	defer templates.mu.Unlock()
	if templates.entries == nil {
		templates.entries = map[string]*templateEntry{}
	}
	e, ok := templates.entries[name]
	if !ok {
		e = &templateEntry{}
		templates.entries[name] = e
	}
	return e, len(templates.entries)
}

// templateRoot holds all of this process's templates.
func templateRoot(dataRoot string) string {
	return filepath.Join(dataRoot, fmt.Sprintf("pgt-%d", os.Getpid()))
}

// baseTemplate returns the directory of the initdb'ed template, creating it
// on first use, and the directory where clusters go.
func baseTemplate(cred *syscall.Credential) (dir, root string, err error) {
	e, _ := templateEntryFor("")
	e.once.Do(func() {
		sweepStale()
		root := dataRoot()
		e.dir, e.err = initTemplate(root, cred)
		templates.mu.Lock()
		templates.root = root
		templates.mu.Unlock()
	})
	templates.mu.Lock()
	defer templates.mu.Unlock()
	return e.dir, templates.root, e.err
}

func initTemplate(dataRoot string, cred *syscall.Credential) (string, error) {
	root := templateRoot(dataRoot)
	// A directory of this name is a leftover of an earlier process that had
	// our PID: it cannot be in use.
	if err := os.RemoveAll(root); err != nil {
		return "", fmt.Errorf("remove stale template %s: %w", root, err)
	}
	if err := os.Mkdir(root, 0o700); err != nil {
		return "", fmt.Errorf("create template dir: %w", err)
	}
	dir := filepath.Join(root, "base")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", fmt.Errorf("create template dir: %w", err)
	}
	for _, d := range []string{root, dir} {
		if err := ownDir(d, cred); err != nil {
			return "", err
		}
	}
	cmd := exec.Command(Bin("initdb"), "-D", filepath.Join(dir, "data"),
		"--auth-local=trust", "--auth-host=scram-sha-256", "-U", "postgres",
		"-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions",
		// 1 MB WAL segments instead of 16 MB: the per-test copy shrinks from
		// 39 to 28 MB, which is what most of Start's time is spent on.
		// initdb then also scales max_wal_size down to 64 MB, which the
		// server's command line sets back to 1 GB.
		"--wal-segsize=1")
	cmd.Dir = dir // initdb fails if it cannot read its working directory
	cmd.Env = serverEnv()
	cmd.SysProcAttr = sysProcAttr(cred)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		_ = os.RemoveAll(root)
		return "", fmt.Errorf("initdb template: %w: %s", err, out.String())
	}
	return dir, nil
}

// WithTemplate starts the cluster from a template prepared once per test
// binary: the first Start with a given name copies the base template,
// starts it, runs setup on it, stops it and keeps its data directory; every
// Start with that name, including the first, then gets a copy. Use it for
// expensive fixtures such as a full engine schema (loading it takes
// seconds, copying it a fraction of that). Roles are part of the copy.
//
// setup runs within the first test that asks for the template, with that
// test's t: a failure fails that test, and later tests asking for the
// template fail with "template setup failed". Cleanups that setup registers
// run when that test ends, after the template cluster has been stopped.
// The template cluster runs with the same options (WithTCP...) as the
// cluster being started; the name must identify the setup, as the first
// setup of a name wins.
func WithTemplate(name string, setup func(t testing.TB, c *Cluster)) Option {
	return func(c *config) { c.templateName, c.templateSetup = name, setup }
}

// template returns the directory holding the data directory to copy and
// the directory where clusters go.
func template(t testing.TB, cfg config, cred *syscall.Credential) (dir, root string, err error) {
	base, root, err := baseTemplate(cred)
	if err != nil || cfg.templateSetup == nil {
		return base, root, err
	}
	e, index := templateEntryFor("named:" + cfg.templateName)
	e.once.Do(func() {
		e.err = fmt.Errorf("template %q: setup failed in %s", cfg.templateName, t.Name())
		dir := filepath.Join(templateRoot(root), fmt.Sprintf("t%d", index))
		c := &Cluster{dir: dir, dataDir: filepath.Join(dir, "data"), tcp: cfg.tcp, cred: cred, args: cfg.settings}
		// Runs also when setup calls t.FailNow (runtime.Goexit).
		defer c.Stop()
		if err := os.Mkdir(dir, 0o700); err != nil {
			e.err = fmt.Errorf("template %q: %w", cfg.templateName, err)
			return
		}
		if err := ownDir(dir, cred); err != nil {
			e.err = fmt.Errorf("template %q: %w", cfg.templateName, err)
			return
		}
		if err := copyDataDir(filepath.Join(base, "data"), c.dataDir); err != nil {
			e.err = fmt.Errorf("template %q: %w", cfg.templateName, err)
			return
		}
		if err := c.startFreePort(); err != nil {
			e.err = fmt.Errorf("template %q: %w", cfg.templateName, err)
			return
		}
		start, failedBefore := time.Now(), t.Failed()
		cfg.templateSetup(t, c)
		c.Stop()
		if t.Failed() && !failedBefore {
			return
		}
		t.Logf("pgtest: template %q set up in %v", cfg.templateName, time.Since(start).Round(time.Millisecond))
		e.dir, e.err = dir, nil
	})
	return e.dir, root, e.err
}

// copyDataDir copies a stopped cluster's data directory. --reflink=auto
// makes the copy nearly free on XFS/Btrfs and is a plain copy elsewhere; -a
// keeps the postgres ownership and 0700 modes.
func copyDataDir(from, to string) error {
	if out, err := exec.Command("cp", "-a", "--reflink=auto", from, to).CombinedOutput(); err != nil {
		return fmt.Errorf("copy %s: %w: %s", from, err, out)
	}
	return nil
}

// RemoveTemplate deletes this process's template clusters. Call it after
// m.Run in TestMain (Main does); the next test binary sweeps it otherwise.
func RemoveTemplate() error {
	templates.mu.Lock()
	root := templates.root
	templates.mu.Unlock()
	if root == "" {
		return nil // no template was made
	}
	if err := os.RemoveAll(templateRoot(root)); err != nil {
		return fmt.Errorf("remove pgtest template: %w", err)
	}
	return nil
}

// Main runs the tests and removes the template: func TestMain(m
// *testing.M) { pgtest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	if err := RemoveTemplate(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// sweepStale removes template and cluster directories left by test binaries
// that were killed (their servers died with them through Pdeathsig). Only
// names carrying the PID of a process that no longer exists are touched.
func sweepStale() {
	for _, root := range candidateRoots() {
		entries, err := os.ReadDir(root)
		if err != nil {
			continue
		}
		for _, e := range entries {
			pid, ok := ownerPID(e.Name())
			if !ok || !e.IsDir() || pid == os.Getpid() || processExists(pid) {
				continue
			}
			_ = os.RemoveAll(filepath.Join(root, e.Name()))
		}
	}
}

// ownerPID parses "pgt-<pid>" and "pgc-<pid>-<random>".
func ownerPID(name string) (int, bool) {
	var rest string
	switch {
	case strings.HasPrefix(name, "pgt-"):
		rest = name[len("pgt-"):]
	case strings.HasPrefix(name, "pgc-"):
		rest, _, _ = strings.Cut(name[len("pgc-"):], "-")
	default:
		return 0, false
	}
	pid, err := strconv.Atoi(rest)
	return pid, err == nil && pid > 0
}

func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
