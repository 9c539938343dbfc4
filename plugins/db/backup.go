package db

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
	"github.com/hashicorp/go-hclog"
)

// BackupOptions says where and under which name Backup writes.
type BackupOptions struct {
	// Dir receives the dump; it is created with mode 0700 if missing.
	Dir string
	// Prefix names the component: records.EngineDumpPrefix ("engine"),
	// DWHDumpPrefix ("dwh") or ReportsDumpPrefix ("reports").
	Prefix string
	// Stamp goes into the name as YYYYmmddHHMMSS, formatted in its own
	// location; the zero time means now. One run uses one stamp for all
	// its files, hence a parameter.
	Stamp time.Time
	// Progress, if set, is called with the number of bytes written so
	// far: once with 0 when pg_dump has started, then every
	// ProgressInterval while the size grows, and once with the final
	// size. It is called from another goroutine, never concurrently with
	// itself, and never after Backup returns.
	Progress func(written int64)
	// ProgressInterval defaults to 250 ms.
	ProgressInterval time.Duration
	// Log, if set, receives pg_dump's warnings and the outcome.
	Log hclog.Logger
}

const (
	defaultProgressInterval = 250 * time.Millisecond
	// stderrTail is how much of pg_dump's stderr an error keeps.
	stderrTail = 4096
	// killWait bounds how long Backup waits for pg_dump's pipes after
	// killing it.
	killWait = 10 * time.Second
)

var prefixPattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// DumpError is a pg_dump run that failed. No file was left under the final
// name, nor a temporary one.
type DumpError struct {
	Target string // user@host:port/db
	Tool   string // path of pg_dump
	Err    error  // how it ended (*exec.ExitError...)
	// Stderr is the end of pg_dump's error output.
	Stderr string
}

func (e *DumpError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = "no error output"
	}
	return fmt.Sprintf("backing up database %s with %s: %v: %s; no backup was written: correct the cause and run again",
		e.Target, e.Tool, e.Err, strings.ReplaceAll(msg, "\n", " | "))
}

func (e *DumpError) Unwrap() error { return e.Err }

// Backup dumps the target database with pg_dump --format=custom (and -E
// UTF8 --disable-dollar-quoting --disable-triggers, as oVirt does) into
// opts.Dir as <prefix>-<YYYYmmddHHMMSS>.<8 random>.dump, mode 0600, and
// returns the file's path. When pg_dump fails, Backup connects itself to
// say why: a *ConnectError (ErrAuthentication...), an error matching
// ErrNoDumpTool for a server newer than the tool, or else a *DumpError
// with pg_dump's own message. When the target has an AltPassword, Backup
// first connects once to learn which password the server takes.
//
// The dump is written to a hidden temporary file in the same directory
// (".<name>.<pid>.tmp", mode 0600 from the start), fsynced, and only then
// given its final name, without ever replacing an existing file: a failed,
// cancelled or killed run never leaves a truncated dump under a final
// name. Temporary files of earlier runs that were killed (their process is
// gone) are removed; nothing else in the directory is touched.
//
// The password reaches pg_dump only through a temporary 0600 pgpass file
// named by PGPASSFILE, which is unlinked before pg_dump starts and read
// through an inherited descriptor (/dev/fd/3), so that it is gone even if
// engine-cleanup is killed; never on the command line or in an
// environment value, and PGPASSWORD is unset. pg_dump runs
// in its own process group, dies with the calling thread (Pdeathsig) and
// is killed when ctx ends.
func Backup(ctx context.Context, t Target, tool DumpTool, opts BackupOptions) (string, error) {
	log := opts.Log
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if err := opts.check(); err != nil {
		return "", err
	}
	if tool.Path == "" {
		return "", fmt.Errorf("backing up database %s: no pg_dump given: call CheckDumpTool first", t)
	}
	if err := t.validate(); err != nil {
		return "", err
	}
	used := t
	if !t.AltPassword.IsZero() && t.AltPassword != t.Password {
		// A pgpass file gives pg_dump one password: ask the server
		// which one it takes first.
		conn, u, err := connect(ctx, t, map[string]string{"default_transaction_read_only": "on"})
		if err != nil {
			return "", err
		}
		closeQuietly(conn)
		used = u
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return "", fmt.Errorf("backing up database %s: creating backup directory: %w", t, err)
	}
	sweepTemps(opts.Dir, opts.Prefix, log)

	stamp := opts.Stamp
	if stamp.IsZero() {
		stamp = time.Now()
	}
	tmp, tmpPath, name, err := createTemp(opts.Dir, opts.Prefix, stamp)
	if err != nil {
		return "", fmt.Errorf("backing up database %s: %w", t, err)
	}
	ok := false
	defer func() {
		tmp.Close()
		if !ok {
			os.Remove(tmpPath)
		}
	}()

	pgpass, err := writePgpass(used)
	if err != nil {
		return "", fmt.Errorf("backing up database %s: %w", t, err)
	}
	defer pgpass.Close() // the last reference: the file is gone with it

	start := time.Now()
	if err := runDump(ctx, used, tool, tmp, tmpPath, pgpass, opts, log); err != nil {
		var de *DumpError
		if errors.As(err, &de) {
			return "", diagnose(ctx, used, tool, de)
		}
		return "", err
	}
	// The data must be on disk before the name says the dump is complete.
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("backing up database %s: flushing %s to disk: %w", t, tmpPath, err)
	}
	info, err := tmp.Stat()
	if err != nil {
		return "", fmt.Errorf("backing up database %s: %w", t, err)
	}
	if info.Size() == 0 {
		return "", fmt.Errorf("backing up database %s: %s exited successfully but wrote nothing; no backup was written", t, tool.Path)
	}
	final, err := publish(tmpPath, opts.Dir, name, opts.Prefix, stamp)
	if err != nil {
		return "", fmt.Errorf("backing up database %s: %w", t, err)
	}
	ok = true
	os.Remove(tmpPath) // the dump lives on under final (a hard link)
	if err := syncDir(opts.Dir); err != nil {
		return final, fmt.Errorf("backing up database %s: the dump is complete at %s, but recording its name on disk failed: %w", t, final, err)
	}
	if opts.Progress != nil {
		opts.Progress(info.Size())
	}
	log.Info("database backed up", "database", t.String(), "file", final, "bytes", info.Size(),
		"duration", time.Since(start).Round(time.Millisecond))
	return final, nil
}

func (o BackupOptions) check() error {
	if o.Dir == "" {
		return errors.New("backup options: no directory given")
	}
	if !prefixPattern.MatchString(o.Prefix) {
		return fmt.Errorf("backup options: prefix %q is not a lowercase name such as %q", o.Prefix, records.EngineDumpPrefix)
	}
	return nil
}

// diagnose explains a failed pg_dump run by connecting as pg_dump did:
// a connection failure becomes the *ConnectError that says what to do
// (pg_dump's text does not classify), and a server newer than the tool
// an error matching ErrNoDumpTool. Doing this only after a failure keeps
// a successful Backup at the cost of pg_dump alone.
func diagnose(ctx context.Context, t Target, tool DumpTool, de *DumpError) error {
	if ctx.Err() != nil {
		return de
	}
	conn, _, err := connect(ctx, t, map[string]string{"default_transaction_read_only": "on"})
	if err != nil {
		return err
	}
	defer closeQuietly(conn)
	var version string
	var num int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version'), current_setting('server_version_num')::int").Scan(&version, &num); err != nil {
		return de
	}
	if majorOf(num) > tool.Major {
		return fmt.Errorf("backing up database %s: %w: the server runs PostgreSQL %s, newer than %s, which cannot dump it "+
			"(pg_dump said: %s); install a pg_dump of version %d or later (see CheckDumpTool)",
			t, ErrNoDumpTool, version, tool, strings.ReplaceAll(strings.TrimSpace(de.Stderr), "\n", " | "), majorOf(num))
	}
	return de
}

// runDump runs pg_dump into tmpPath and reports progress from tmp's size.
func runDump(ctx context.Context, t Target, tool DumpTool, tmp *os.File, tmpPath string, pgpass *os.File, opts BackupOptions, log hclog.Logger) error {
	conninfo := t.conninfo() + fmt.Sprintf(" application_name='%s' connect_timeout='%d'", ApplicationName, int(connectTimeout.Seconds()))
	cmd := exec.CommandContext(ctx, tool.Path,
		"--format=custom", "--encoding=UTF8", "--disable-dollar-quoting", "--disable-triggers",
		"--no-password", "--file="+tmpPath, "--dbname="+conninfo)
	cmd.Env = dumpEnv(os.Environ(), pgpassFD)
	cmd.ExtraFiles = []*os.File{pgpass} // fd 3, hence pgpassFD
	cmd.Dir = "/"
	stderr := &tailBuffer{max: stderrTail}
	cmd.Stderr = stderr
	// Own process group: a ^C on the terminal reaches us, not pg_dump
	// behind our back; Pdeathsig: pg_dump never outlives us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = killWait

	if err := cmd.Start(); err != nil {
		return fmt.Errorf("backing up database %s: starting %s: %w", t, tool.Path, err)
	}
	log.Debug("pg_dump started", "database", t.String(), "pid", cmd.Process.Pid, "file", tmpPath)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	if opts.Progress != nil {
		interval := opts.ProgressInterval
		if interval <= 0 {
			interval = defaultProgressInterval
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			opts.Progress(0)
			tick := time.NewTicker(interval)
			defer tick.Stop()
			var last int64
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if info, err := tmp.Stat(); err == nil && info.Size() != last {
						last = info.Size()
						opts.Progress(last)
					}
				}
			}
		}()
	}
	err := cmd.Wait()
	close(stop)
	wg.Wait()

	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if line != "" && err == nil {
			log.Warn("pg_dump", "database", t.String(), "message", line)
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("backing up database %s: %w; pg_dump was stopped and its partial output removed", t, ctx.Err())
	}
	if err != nil {
		return &DumpError{Target: t.String(), Tool: tool.Path, Err: err, Stderr: stderr.String()}
	}
	return nil
}

// pgpassFD is where pg_dump finds the pgpass file: the first of
// exec.Cmd.ExtraFiles is the child's fd 3. libpq stats and opens the path
// like any pgpass file (a regular file, mode 0600).
const pgpassFD = "/dev/fd/3"

// dumpEnv is our environment without what would steer or authenticate
// pg_dump's connection behind the target's back (PGPASSWORD above all),
// plus PGPASSFILE. TLS client settings (PGSSLROOTCERT...) stay, as for
// our own connections.
func dumpEnv(environ []string, pgpass string) []string {
	drop := map[string]bool{
		"PGPASSWORD": true, "PGPASSFILE": true, "PGHOST": true, "PGHOSTADDR": true, "PGPORT": true,
		"PGDATABASE": true, "PGUSER": true, "PGSERVICE": true, "PGSERVICEFILE": true, "PGOPTIONS": true,
		"PGAPPNAME": true, "PGSSLMODE": true, "PGREQUIRESSL": true, "PGCONNECT_TIMEOUT": true,
		"PGTARGETSESSIONATTRS": true, "PGCLUSTER": true, "PGCHANNELBINDING": true, "PGREQUIREAUTH": true,
	}
	env := make([]string, 0, len(environ)+1)
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			env = append(env, kv)
		}
	}
	return append(env, "PGPASSFILE="+pgpass)
}

// pgpassEscape escapes a pgpass field: \ and : are backslash-escaped.
var pgpassEscape = strings.NewReplacer(`\`, `\\`, `:`, `\:`)

// pgpassLine renders the target's credentials as a pgpass line. A socket
// target matches any host: libpq looks a socket connection up as
// "localhost" when the directory is its compiled-in default and by the
// directory otherwise, and the file serves this one connection only.
func pgpassLine(t Target) (string, error) {
	fields := []string{t.Host, strconv.Itoa(t.port()), t.Database, t.User, t.Password.Reveal()}
	for _, f := range fields {
		if strings.ContainsAny(f, "\r\n") {
			return "", fmt.Errorf("the credentials of %s hold a line break, which a pgpass file cannot carry: pg_dump cannot be given them", t)
		}
	}
	for i, f := range fields {
		fields[i] = pgpassEscape.Replace(f)
	}
	if t.socket() {
		fields[0] = "*"
	}
	return strings.Join(fields, ":") + "\n", nil
}

// writePgpass writes the pgpass line to a new 0600 file in the temporary
// directory (never into the backup directory), unlinks it at once and
// returns it open: pg_dump reads it through the inherited descriptor.
// The password thus has no name on disk while pg_dump runs, and nothing is
// left behind even if engine-cleanup is killed (the kernel frees the file
// with its last descriptor).
func writePgpass(t Target) (*os.File, error) {
	line, err := pgpassLine(t)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "engine-cleanup-pgpass-*")
	if err != nil {
		return nil, fmt.Errorf("creating the pgpass file for pg_dump: %w", err)
	}
	// Unlinked before anything is written to it.
	rmErr := os.Remove(f.Name())
	// CreateTemp makes the file 0600; make sure, since libpq ignores a
	// pgpass file that others may read.
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.WriteString(line)
	}
	if err == nil {
		err = rmErr
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("writing the pgpass file for pg_dump: %w", err)
	}
	return f, nil
}

// dumpName is the final name, as oVirt names dumps.
func dumpName(prefix string, stamp time.Time, random string) string {
	return prefix + "-" + stamp.Format(records.TimestampLayout) + "." + random + records.DumpSuffix
}

// tempName is the temporary name of a dump in progress: hidden, and
// carrying our PID so that a later run can tell a dead run's leftover from
// a live one's file.
func tempName(final string) string {
	return "." + final + "." + strconv.Itoa(os.Getpid()) + ".tmp"
}

func tempPattern(prefix string) *regexp.Regexp {
	return regexp.MustCompile(`^\.` + regexp.QuoteMeta(prefix) + `-[0-9]{14}\.[a-z0-9]{8}` +
		regexp.QuoteMeta(records.DumpSuffix) + `\.([0-9]+)\.tmp$`)
}

// sweepTemps removes temporary dumps of prefix left by runs whose process
// is gone. Files of live processes (a concurrent run) and every other
// file are left alone.
func sweepTemps(dir, prefix string, log hclog.Logger) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	pattern := tempPattern(prefix)
	for _, e := range entries {
		m := pattern.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid == os.Getpid() || processExists(pid) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if err := os.Remove(path); err == nil {
			log.Info("removed the partial dump of an interrupted run", "file", path)
		}
	}
}

func processExists(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	// A killed run's process may linger as a zombie until its new parent
	// reaps it, and signal 0 still reaches a zombie: it is dead all the same.
	if stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat")); err == nil {
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return false
		}
	}
	return true
}

// createTemp creates the temporary dump file, 0600 from the start: pg_dump
// opens it by name and truncates it, which keeps the mode. It returns the
// file, its path and the final name it is meant for.
func createTemp(dir, prefix string, stamp time.Time) (*os.File, string, string, error) {
	for attempt := 0; ; attempt++ {
		name := dumpName(prefix, stamp, randomSuffix())
		path := filepath.Join(dir, tempName(name))
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			return f, path, name, nil
		}
		if !errors.Is(err, fs.ErrExist) || attempt == 10 {
			return nil, "", "", fmt.Errorf("creating a temporary file in %s: %w", dir, err)
		}
	}
}

// publish gives the complete dump its final name with a hard link, which,
// unlike rename, never replaces an existing file; should name be taken
// already, another random part is tried.
func publish(tmpPath, dir, name, prefix string, stamp time.Time) (string, error) {
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			name = dumpName(prefix, stamp, randomSuffix())
		}
		final := filepath.Join(dir, name)
		err := os.Link(tmpPath, final)
		if err == nil {
			return final, nil
		}
		if errors.Is(err, fs.ErrExist) && attempt < 10 {
			continue
		}
		// A file system without hard links: rename, having checked that
		// the name is free (the random part makes a race implausible).
		if !errors.Is(err, fs.ErrExist) {
			if _, statErr := os.Lstat(final); errors.Is(statErr, fs.ErrNotExist) {
				if err = os.Rename(tmpPath, final); err == nil {
					return final, nil
				}
			}
		}
		return "", fmt.Errorf("giving the dump its final name %s: %w", final, err)
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// randomSuffix is 8 random lowercase letters and digits, as in oVirt's
// names.
func randomSuffix() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	rand.Read(b) // never fails on Linux
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
		if i := bytes.IndexByte(t.buf, '\n'); i >= 0 && i < len(t.buf)-1 {
			t.buf = t.buf[i+1:] // start at a line
		}
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
