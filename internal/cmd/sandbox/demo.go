package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"
)

// Lines of engine-cleanup's closing summary that the demo looks for.
const (
	msgFinished       = "Finished cleanup, it is now safe to rerun engine-setup."
	msgNothingToClean = "Nothing to clean"
)

// demo builds the site, runs engine-cleanup on it twice and tears it down.
// A nil error means that everything went as expected.
func demo(ctx context.Context, o options) (err error) {
	times := newTimings()
	s, err := newSite(ctx, o, times)
	if s != nil {
		defer func() {
			err = errors.Join(err, s.teardown(o.keep))
			times.print(o.out)
		}()
	}
	if err != nil {
		return fmt.Errorf("build the sandbox: %w", err)
	}
	if err := s.describe(); err != nil {
		return err
	}

	objectsBefore, err := s.objects()
	if err != nil {
		return err
	}
	backupsBefore := s.backupFiles()
	interactive := term.IsTerminal(int(os.Stdin.Fd()))
	var args []string
	if interactive {
		fmt.Fprintf(s.out, "\n== engine-cleanup (interactive: answer its questions; the defaults drop the databases)\n")
	} else {
		args = []string{"-u"}
		fmt.Fprintf(s.out, "\n== engine-cleanup -u (stdin is not a terminal: unattended)\n")
	}
	first, err := s.runCleanup(ctx, o, interactive, "first run", args...)
	if err != nil {
		return err
	}

	var problems []string
	if first.code != 0 {
		problems = append(problems, fmt.Sprintf("the first run exited %d, want 0", first.code))
	} else if !interactive && !strings.Contains(first.stdout, msgFinished) {
		problems = append(problems, fmt.Sprintf("the first run did not print %q", msgFinished))
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	problems = append(problems, s.showOutcome(objectsBefore, backupsBefore, !interactive)...)
	if first.code != 0 {
		return explain(problems)
	}

	fmt.Fprintf(s.out, "\n== engine-cleanup -u again: nothing left to do\n")
	second, err := s.runCleanup(ctx, o, false, "second run", "-u")
	if err != nil {
		return err
	}
	switch {
	case second.code != 0:
		problems = append(problems, fmt.Sprintf("the second run exited %d, want 0", second.code))
	case !strings.Contains(second.stdout, msgNothingToClean):
		problems = append(problems, fmt.Sprintf("the second run did not say %q", msgNothingToClean))
	}
	if err := explain(problems); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "\n== the demo went as expected: the host was cleaned, and a second run found nothing to clean\n")
	return nil
}

// explain turns the problems found into the demo's error.
func explain(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("the demo did not go as expected:\n  - %s", strings.Join(problems, "\n  - "))
}

// result is how a run of engine-cleanup ended.
type result struct {
	code   int
	stdout string // empty for an interactive run, whose output is not captured
}

// runCleanup runs engine-cleanup on the site. Interactive, it gets the
// sandbox's standard streams; otherwise its standard input is /dev/null
// and its output is shown and captured. A signal to the sandbox reaches
// it as SIGTERM (engine-cleanup then stops and exits 130), and so does
// the sandbox's death (Pdeathsig).
func (s *site) runCleanup(ctx context.Context, o options, interactive bool, name string, args ...string) (result, error) {
	done := s.times.start("engine-cleanup, " + name)
	defer done()
	full := append(s.cleanupArgs(), args...)
	cmd := exec.CommandContext(ctx, filepath.Join(s.binDir, "engine-cleanup"), full...)
	cmd.Env = s.env()
	var stdout bytes.Buffer
	if interactive {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	} else {
		cmd.Stdout, cmd.Stderr = io.MultiWriter(s.out, &stdout), o.errOut
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return result{}, fmt.Errorf("run engine-cleanup (%s): %w", name, err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String()}, nil
}

// cleanupArgs are the options of every engine-cleanup run on the site.
func (s *site) cleanupArgs() []string {
	return []string{"--root", s.root, "--plugin-dir", s.pluginDir, "--libvirt-uri", s.libvirtURI}
}

// describe prints what the host holds and where, without any password.
func (s *site) describe() error {
	h := s.host
	w := s.out
	fmt.Fprintf(w, "\n== the sandboxed host\n")
	fmt.Fprintf(w, "root         %s\n", s.root)
	fmt.Fprintf(w, "installed    oVirt engine %s (%s era), FQDN %s\n", h.InstalledVersion, h.Opts.Era, h.Opts.FQDN)
	fmt.Fprintf(w, "PostgreSQL   15, port %d: TCP 127.0.0.1 (scram-sha-256) and socket %s (postgres trusted)\n",
		s.cluster.Port(), s.cluster.SocketDir())
	for _, c := range s.comps {
		sch := c.schema
		fmt.Fprintf(w, "  %-10s database %s owned by role %s (LOGIN, NOCREATEDB, password): %d tables, %d functions, %d views, %d rows\n",
			c.name, c.db.Database, c.db.User, sch.Tables, sch.Functions, sch.Views+sch.MaterializedViews, sch.Rows)
	}
	fmt.Fprintf(w, "systemd      private manager %d, bus %s\n", s.manager.PID(), s.manager.BusAddress())
	for _, u := range s.units {
		state, pid, err := s.unitState(u)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %-30s %s (pid %s), enabled at runtime, running %s\n", u+".service", state, pid, serviceExec)
	}
	fmt.Fprintf(w, "records      %s\n", describeRecords(h.Records))
	if len(h.Manifests) > 0 {
		fmt.Fprintf(w, "manifests    %d uninstall manifests: %d files and %d symlinks recorded\n",
			len(h.Manifests), len(h.RecordedFiles), len(h.RecordedSymlinks))
	}
	if len(h.LineEdits) > 0 {
		fmt.Fprintf(w, "line edits   %s\n", strings.Join(sortedKeys(h.LineEdits), ", "))
	}
	fmt.Fprintf(w, "PKI          %d tracked files, %d untracked (host certificates, CA database...)\n",
		len(h.PKIFiles), len(h.UntrackedPKI))
	if h.ISOExport != "" {
		fmt.Fprintf(w, "ISO export   %s (NFS; must survive)\n", h.ISOExport)
	}
	fmt.Fprintf(w, "must survive %d paths: user files, setup logs and answers, package files, the ISO export...\n",
		len(h.MustSurvive()))
	s.describeLibvirt(w)
	tags := "no build tags"
	if s.buildTags != "" {
		tags = "-tags " + s.buildTags
	}
	fmt.Fprintf(w, "binaries     %s (%s)\n", filepath.Join(s.binDir, "engine-cleanup"), tags)
	fmt.Fprintf(w, "             %s (found with --plugin-dir)\n", filepath.Join(s.pluginDir, exampleBinary))
	return nil
}

// showOutcome prints what the first run did to the databases, the units,
// the backup directories and the tree, and returns what differs from a
// full cleanup. strict is for an unattended run, which must have dropped
// the databases' contents and written their backups; an interactive user
// may have chosen to keep them.
func (s *site) showOutcome(objectsBefore map[string]int, backupsBefore map[string]bool, strict bool) []string {
	w := s.out
	var problems []string
	fmt.Fprintf(w, "\n== outcome\n")
	fmt.Fprintf(w, "databases (objects owned by the role, before -> after):\n")
	after, err := s.objects()
	if err != nil {
		return append(problems, err.Error())
	}
	for _, c := range s.comps {
		kept := "database and role kept"
		if ok, err := s.ownsDatabase(c.db.User, c.db.Database); err != nil {
			problems = append(problems, err.Error())
		} else if !ok {
			kept = "DATABASE OR ROLE GONE"
			problems = append(problems, fmt.Sprintf("the %s database or role was dropped", c.name))
		}
		fmt.Fprintf(w, "  %-10s %5d -> %d (%s)\n", c.name, objectsBefore[c.name], after[c.name], kept)
		if strict && after[c.name] != 0 {
			problems = append(problems, fmt.Sprintf("the %s database still holds %d objects", c.name, after[c.name]))
		}
	}

	fmt.Fprintf(w, "units:\n")
	for _, u := range s.units {
		state, _, err := s.unitState(u)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		fmt.Fprintf(w, "  %-30s %s\n", u+".service", state)
		if state != "inactive" {
			problems = append(problems, fmt.Sprintf("%s.service is %s, want inactive", u, state))
		}
	}

	fmt.Fprintf(w, "backups (new ones marked +):\n")
	newIn := map[string]int{}
	for _, dir := range s.backupDirs() {
		files := s.listFiles(dir)
		fmt.Fprintf(w, "  %s/\n", dir)
		if len(files) == 0 {
			fmt.Fprintf(w, "    (empty)\n")
		}
		for _, f := range files {
			mark := " "
			if !backupsBefore[f.path] {
				mark = "+"
				newIn[dir]++
			}
			fmt.Fprintf(w, "    %s %-56s %9d bytes\n", mark, strings.TrimPrefix(f.path, dir+"/"), f.size)
		}
	}
	if strict {
		for _, c := range s.comps {
			if newIn[c.backupDir] == 0 {
				problems = append(problems, fmt.Sprintf("no new backup in %s", c.backupDir))
			}
		}
	}

	problems = append(problems, s.libvirtOutcome(backupsBefore, strict)...)

	var notRemoved, lost []string
	for _, p := range s.host.MustBeRemoved() {
		if _, err := os.Lstat(s.host.Path(p)); err == nil {
			notRemoved = append(notRemoved, p)
		}
	}
	for _, p := range s.host.MustSurvive() {
		if _, err := os.Lstat(s.host.Path(p)); err != nil {
			lost = append(lost, p)
		}
	}
	fmt.Fprintf(w, "files:\n  %d of %d recorded files, symlinks and records removed; %d of %d paths that must survive are there\n",
		len(s.host.MustBeRemoved())-len(notRemoved), len(s.host.MustBeRemoved()),
		len(s.host.MustSurvive())-len(lost), len(s.host.MustSurvive()))
	if len(notRemoved) > 0 {
		problems = append(problems, fmt.Sprintf("%d files not removed, e.g. %s", len(notRemoved), notRemoved[0]))
	}
	if len(lost) > 0 {
		problems = append(problems, fmt.Sprintf("%d files that must survive are gone, e.g. %s", len(lost), lost[0]))
	}
	return problems
}

// ownsDatabase reports whether role exists and owns database db.
func (s *site) ownsDatabase(role, db string) (bool, error) {
	rows, err := s.cluster.QueryStringsErr("postgres", `SELECT d.datname::text FROM pg_database d
		JOIN pg_roles r ON r.oid = d.datdba WHERE r.rolname = $1 AND d.datname = $2`, role, db)
	return len(rows) == 1, err
}

// backupDirs are the components' backup directories, as recorded.
func (s *site) backupDirs() []string {
	var dirs []string
	for _, c := range s.comps {
		if !slices.Contains(dirs, c.backupDir) {
			dirs = append(dirs, c.backupDir)
		}
	}
	return dirs
}

// backupFiles is the set of files in the backup directories now.
func (s *site) backupFiles() map[string]bool {
	set := map[string]bool{}
	for _, dir := range s.backupDirs() {
		for _, f := range s.listFiles(dir) {
			set[f.path] = true
		}
	}
	return set
}

type file struct {
	path string // as on the host
	size int64
}

// listFiles lists the regular files under a recorded directory, sorted.
func (s *site) listFiles(dir string) []file {
	var files []file
	base := s.host.Path(dir)
	_ = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(base, p)
		files = append(files, file{path: dir + "/" + filepath.ToSlash(rel), size: info.Size()})
		return nil
	})
	return files
}

// describeRecords names the records by file name, with a count for names
// that several components share (10-setup-database.conf).
func describeRecords(paths []string) string {
	count := map[string]int{}
	var names []string
	for _, p := range paths {
		n := filepath.Base(p)
		if count[n] == 0 {
			names = append(names, n)
		}
		count[n]++
	}
	for i, n := range names {
		if count[n] > 1 {
			names[i] = fmt.Sprintf("%s (%d)", n, count[n])
		}
	}
	return strings.Join(names, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
