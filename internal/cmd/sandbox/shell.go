package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// shell builds the site and runs $SHELL (else /bin/bash) in it, with its
// environment set, until the shell exits; then it tears the site down. It
// returns the shell's exit code, so that a script run with
// "sandbox shell <script" decides the sandbox's.
func shell(ctx context.Context, o options) (code int, err error) {
	// SIGINT aborts the build (bctx), but once the shell runs, ^C belongs
	// to the shell and what runs in it. It never kills the sandbox: ints
	// keeps it caught until the teardown is over (signal.Notify drops
	// what ints has no room for).
	ints := make(chan os.Signal, 1)
	signal.Notify(ints, os.Interrupt)
	defer signal.Stop(ints)
	bctx, stopInt := signal.NotifyContext(ctx, os.Interrupt)
	defer stopInt()

	times := newTimings()
	s, err := newSite(bctx, o, times)
	if s != nil {
		defer func() { err = errors.Join(err, s.teardown(o.keep)) }()
	}
	if err != nil {
		return 0, fmt.Errorf("build the sandbox: %w", err)
	}
	if err := bctx.Err(); err != nil {
		return 0, err
	}
	stopInt()
	if err := s.describe(); err != nil {
		return 0, err
	}
	vars := s.shellVars()
	fmt.Fprintf(s.out, "\n== environment of the shell\n")
	for _, kv := range vars {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(s.out, "%s=%s\n", k, shellQuote(v))
	}
	sh := os.Getenv("SHELL")
	if sh == "" {
		sh = "/bin/bash"
	}
	fmt.Fprintf(s.out, "\n== %s in the sandbox: try  engine-cleanup --root \"$ROOT\" --plugin-dir \"$PLUGIN_DIR\" --libvirt-uri \"$LIBVIRT_URI\" --dry-run\n", sh)
	fmt.Fprintf(s.out, "   exit the shell to tear everything down\n")

	cmd := exec.Command(sh)
	cmd.Env = append(s.env(), vars...)
	cmd.Dir = s.dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGHUP}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", sh, err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err = <-waited:
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGHUP)
		select {
		case err = <-waited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			err = <-waited
		}
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return 0, fmt.Errorf("run %s: %w", sh, err)
	}
	return cmd.ProcessState.ExitCode(), nil
}

// shellVars are the variables the shell gets on top of engine-cleanup's
// environment (DBUS_SYSTEM_BUS_ADDRESS). The DSNs carry no password: the
// components' passwords are in the host's records.
func (s *site) shellVars() []string {
	vars := []string{
		"ROOT=" + s.root,
		"SANDBOX_DIR=" + s.dir,
		"PLUGIN_DIR=" + s.pluginDir,
		"LIBVIRT_URI=" + s.libvirtURI,
		"PATH=" + s.binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"DBUS_SYSTEM_BUS_ADDRESS=" + s.manager.BusAddress(),
		// systemctl --user status ovirt-engine, in the shell.
		"XDG_RUNTIME_DIR=" + s.manager.RuntimeDir(),
		// psql as the superuser over the socket, where it is trusted.
		"PGHOST=" + s.cluster.SocketDir(),
		fmt.Sprintf("PGPORT=%d", s.cluster.Port()),
		"PGUSER=postgres",
		"PG_SUPERUSER_DSN=" + dsn(s.cluster.SocketDir(), s.cluster.Port(), "postgres", "postgres"),
	}
	for _, c := range s.comps {
		vars = append(vars, strings.ToUpper(c.name)+"_DB_DSN="+dsn(c.db.Host, c.db.Port, c.db.User, c.db.Database))
	}
	return vars
}

// dsn is a keyword/value connection string without a password, quoting
// only the values that need it, for people to read and copy.
func dsn(host string, port int, user, db string) string {
	kv := []string{"host", host, "port", strconv.Itoa(port), "user", user, "dbname", db, "sslmode", "disable"}
	var parts []string
	for i := 0; i < len(kv); i += 2 {
		v := kv[i+1]
		if v == "" || strings.ContainsAny(v, " '\\") {
			v = "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
		}
		parts = append(parts, kv[i]+"="+v)
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes v for a POSIX shell when it needs it.
func shellQuote(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\n'\"\\$`;&|<>()*?[]#~!{}") {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
