package db

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

// ovirtDumpName is oVirt's dump name pattern (reference/ovirt.md §1.6).
var ovirtDumpName = regexp.MustCompile(`^engine-[0-9]{14}\.[a-z0-9]{8}\.dump$`)

func dumpTool(t *testing.T) DumpTool {
	t.Helper()
	tool, err := CheckDumpTool(ctxFor(t), 15)
	if err != nil {
		t.Fatal(err)
	}
	return tool
}

// dumpSpy records, from Backup's progress callback, what the running
// pg_dump was given.
type dumpSpy struct {
	mu      sync.Mutex
	calls   []int64
	pid     int
	cmdline []string
	environ []string
	pgpass  string
	// pgpassOK: pg_dump had the file open, a regular 0600 file holding
	// the password, already unlinked.
	pgpassOK     bool
	pgpassTarget string
}

// pgpassFiles lists pgpass files of ours that have a name in the
// temporary directory.
func pgpassFiles(t *testing.T) []string {
	m, err := filepath.Glob(filepath.Join(os.TempDir(), "engine-cleanup-pgpass-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (s *dumpSpy) progress(t *testing.T) func(int64) {
	return func(n int64) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.calls = append(s.calls, n)
		if s.pid != 0 {
			return
		}
		pids := childDumps(t)
		if len(pids) != 1 {
			return
		}
		s.pid = pids[0]
		s.cmdline = procStrings(s.pid, "cmdline")
		s.environ = procStrings(s.pid, "environ")
		for _, kv := range s.environ {
			if v, ok := strings.CutPrefix(kv, "PGPASSFILE="); ok {
				s.pgpass = v
			}
		}
		// PGPASSFILE is /dev/fd/N of pg_dump: look at that descriptor.
		if n, ok := strings.CutPrefix(s.pgpass, "/dev/fd/"); ok {
			fd := filepath.Join("/proc", strconv.Itoa(s.pid), "fd", n)
			target, _ := os.Readlink(fd)
			info, err := os.Stat(fd)
			content, _ := os.ReadFile(fd)
			s.pgpassTarget = target
			s.pgpassOK = err == nil && info.Mode().IsRegular() && info.Mode().Perm() == 0o600 &&
				strings.HasSuffix(target, " (deleted)") && strings.HasSuffix(string(content), ":"+enginePW+"\n")
		}
	}
}

func TestBackupWritesAPrivateOVirtNamedDumpAtomically(t *testing.T) {
	c := fullCluster(t)
	tg := remoteTarget(c, engineDB)
	dir := filepath.Join(t.TempDir(), "var", "lib", "ovirt-engine", "backups")
	spy := &dumpSpy{}
	stamp := time.Date(2024, 3, 5, 14, 7, 9, 0, time.UTC)

	path, err := Backup(ctxFor(t), tg, dumpTool(t), BackupOptions{
		Dir: dir, Prefix: records.EngineDumpPrefix, Stamp: stamp, Log: testLogger(t),
		Progress: spy.progress(t), ProgressInterval: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}

	if filepath.Dir(path) != dir || !ovirtDumpName.MatchString(filepath.Base(path)) ||
		!strings.HasPrefix(filepath.Base(path), "engine-20240305140709.") {
		t.Errorf("dump written as %s, want %s/engine-20240305140709.<8 random>.dump", path, dir)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 || info.Size() < 100_000 {
		t.Errorf("dump mode %v size %d, want 0600 and a full dump", info.Mode().Perm(), info.Size())
	}
	if d, err := os.Stat(dir); err != nil || d.Mode().Perm() != 0o700 {
		t.Errorf("backup directory created with mode %v (%v), want 0700", d.Mode().Perm(), err)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{filepath.Base(path)}) {
		t.Errorf("backup directory holds %q, want the dump alone (no temporary file)", names)
	}

	if spy.pid == 0 {
		t.Fatal("no pg_dump child seen during the backup")
	}
	if !processGone(spy.pid) {
		t.Errorf("pg_dump %d still exists after Backup returned", spy.pid)
	}
	for _, s := range append(append([]string{}, spy.cmdline...), spy.environ...) {
		if strings.Contains(s, enginePW) {
			t.Errorf("pg_dump's command line or environment holds the password: %q", s)
		}
		if strings.HasPrefix(s, "PGPASSWORD=") {
			t.Errorf("pg_dump's environment has %s", s)
		}
	}
	if !slices.Contains(spy.cmdline, "--format=custom") {
		t.Errorf("pg_dump command line %q lacks --format=custom", spy.cmdline)
	}
	if spy.pgpass != pgpassFD || !spy.pgpassOK {
		t.Errorf("pg_dump did not read the password from an unlinked 0600 file: PGPASSFILE %q -> %q", spy.pgpass, spy.pgpassTarget)
	}
	if left := pgpassFiles(t); len(left) != 0 {
		t.Errorf("pgpass files left: %q", left)
	}
	if len(spy.calls) < 2 || spy.calls[0] != 0 || spy.calls[len(spy.calls)-1] != info.Size() ||
		!slices.IsSorted(spy.calls) {
		t.Errorf("progress calls %v, want 0 first, growing, the final size %d last", spy.calls, info.Size())
	}
}

func TestBackupFailuresLeaveNoFile(t *testing.T) {
	c := smallCluster(t)
	// A table of the superuser that the role may not read makes pg_dump
	// itself fail, after it connected.
	c.Exec(t, engineDB, "CREATE TABLE public.secret_dba (x int)")
	for _, tc := range []struct {
		name   string
		target func() Target
		tool   func(DumpTool) DumpTool
		check  func(t *testing.T, err error)
	}{
		{"a wrong password is an authentication error", func() Target {
			tg := remoteTarget(c, "engine")
			tg.Password = secretPW
			return tg
		}, nil, func(t *testing.T, err error) {
			if !errors.Is(err, ErrAuthentication) || strings.Contains(err.Error(), secretPW) {
				t.Fatalf("Backup: %v, want an authentication error without the password", err)
			}
		}},
		{"a database that is gone is reported missing", func() Target {
			return remoteTarget(c, "gone")
		}, nil, func(t *testing.T, err error) {
			if !errors.Is(err, ErrDatabaseMissing) {
				t.Fatalf("Backup: %v, want ErrDatabaseMissing", err)
			}
		}},
		{"pg_dump failing leaves its error output in the error", func() Target {
			return remoteTarget(c, "engine")
		}, nil, func(t *testing.T, err error) {
			var de *DumpError
			if !errors.As(err, &de) || !strings.Contains(de.Stderr, "permission denied") || !strings.Contains(err.Error(), "secret_dba") {
				t.Fatalf("Backup: %v, want a *DumpError with pg_dump's message", err)
			}
		}},
		{"a pg_dump older than the server is reported as such", func() Target {
			return remoteTarget(c, "engine")
		}, func(d DumpTool) DumpTool {
			// What pg_dump 14 prints for a 15 server.
			script := filepath.Join(t.TempDir(), "pg_dump")
			os.WriteFile(script, []byte("#!/bin/sh\necho 'pg_dump: error: server version: 15.0; pg_dump version: 14.0' >&2\n"+
				"echo 'pg_dump: error: aborting because of server version mismatch' >&2\nexit 1\n"), 0o755)
			return DumpTool{Path: script, Version: "14.0", Major: 14}
		}, func(t *testing.T, err error) {
			if !errors.Is(err, ErrNoDumpTool) || !strings.Contains(err.Error(), "version mismatch") {
				t.Fatalf("Backup: %v, want ErrNoDumpTool with pg_dump's message", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tool := dumpTool(t)
			if tc.tool != nil {
				tool = tc.tool(tool)
			}
			path, err := Backup(ctxFor(t), tc.target(), tool, BackupOptions{Dir: dir, Prefix: "engine"})
			if err == nil {
				t.Fatalf("Backup succeeded: %s", path)
			}
			t.Log(err)
			tc.check(t, err)
			if names := dirNames(t, dir); len(names) != 0 {
				t.Fatalf("failed Backup left %q", names)
			}
		})
	}
}

func TestCancellingBackupKillsPgDumpAndRemovesItsFiles(t *testing.T) {
	c := fullCluster(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(ctxFor(t))
	defer cancel()
	spy := &dumpSpy{}
	record := spy.progress(t)
	var cancelledAt int64 = -1
	progress := func(n int64) {
		record(n)
		// Cancel once pg_dump has begun writing: mid-dump.
		if n > 0 && cancelledAt < 0 {
			cancelledAt = n
			cancel()
		}
	}

	_, err := Backup(ctx, remoteTarget(c, engineDB), dumpTool(t), BackupOptions{
		Dir: dir, Prefix: "engine", Progress: progress, ProgressInterval: 2 * time.Millisecond,
	})
	if cancelledAt < 0 {
		t.Fatalf("pg_dump finished before it was seen writing (err %v); the test could not cancel mid-dump", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Backup: %v, want context.Canceled", err)
	}
	if spy.pid == 0 || !processGone(spy.pid) {
		t.Fatalf("pg_dump (pid %d) was not killed and reaped", spy.pid)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Fatalf("cancelled Backup (at %d bytes) left %q", cancelledAt, names)
	}
	if left := pgpassFiles(t); !spy.pgpassOK || len(left) != 0 {
		t.Fatalf("pgpass file: read by pg_dump %v; left after cancel: %q", spy.pgpassOK, left)
	}
}

func TestBackupRemovesOnlyTheLeftoversOfDeadRuns(t *testing.T) {
	c := smallCluster(t)
	dir := t.TempDir()
	dead := deadPID(t)
	files := map[string]bool{ // name: should survive
		".engine-20240101000000.abcd1234.dump." + strconv.Itoa(dead) + ".tmp":        false,
		".engine-20240101000000.abcd1234.dump." + strconv.Itoa(os.Getpid()) + ".tmp": true, // a live run
		".dwh-20240101000000.abcd1234.dump." + strconv.Itoa(dead) + ".tmp":           true, // another component's
		"engine-20240101000000.abcd1234.dump":                                        true, // a backup
		".engine-20240101000000.abcd1234.dump.tmp":                                   true, // not ours
		"notes.txt": true,
	}
	for name := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path, err := Backup(ctxFor(t), remoteTarget(c, engineDB), dumpTool(t), BackupOptions{Dir: dir, Prefix: "engine"})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for name, keep := range files {
		if keep {
			want = append(want, name)
		}
	}
	want = append(want, filepath.Base(path))
	slices.Sort(want)
	if got := dirNames(t, dir); !slices.Equal(got, want) {
		t.Fatalf("directory holds %q, want %q", got, want)
	}
}

// deadPID returns a PID that no process has.
func deadPID(t *testing.T) int {
	for pid := 4_000_000; pid > 100_000; pid -= 7919 {
		if !processExists(pid) {
			return pid
		}
	}
	t.Fatal("no free PID found")
	return 0
}

func TestCheckDumpToolNeedsAPgDumpAtLeastAsNewAsTheServer(t *testing.T) {
	for _, tc := range []struct {
		name        string
		serverMajor int
		wantErr     bool
	}{
		{"a 15 server gets the installed pg_dump 15", 15, false},
		{"a 9.x server gets it too", 9, false},
		{"a server newer than every pg_dump is refused with what to install", 99, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tool, err := CheckDumpTool(ctxFor(t), tc.serverMajor)
			if tc.wantErr {
				if !errors.Is(err, ErrNoDumpTool) {
					t.Fatalf("CheckDumpTool(99) = %v, %v; want ErrNoDumpTool", tool, err)
				}
				for _, want := range []string{"PostgreSQL 99", "15.", "postgresql-client-99", "postgresql99"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error lacks %q: %v", want, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tool.Major < tc.serverMajor || !strings.HasSuffix(tool.Path, "/pg_dump") || filepath.Base(filepath.Dir(filepath.Dir(tool.Path))) == "" {
				t.Fatalf("CheckDumpTool(%d) = %+v", tc.serverMajor, tool)
			}
			if info, err := os.Stat(tool.Path); err != nil || info.Mode()&0o111 == 0 {
				t.Fatalf("%s is not an executable: %v", tool.Path, err)
			}
		})
	}
}

func TestAZombieCountsAsGoneForTheSweep(t *testing.T) {
	// A child that exits and is not reaped stays a zombie.
	cmd := exec.Command("/bin/true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	deadline := time.Now().Add(5 * time.Second)
	for {
		stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if strings.Contains(string(stat), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the child never became a zombie")
		}
		time.Sleep(5 * time.Millisecond)
	}
	defer cmd.Wait()
	if processExists(pid) {
		t.Errorf("zombie %d counts as a live process: its partial dump would never be swept", pid)
	}
	if !processExists(os.Getpid()) {
		t.Error("the test's own process counts as gone")
	}
}
