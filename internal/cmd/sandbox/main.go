// Command sandbox builds a complete, realistic oVirt engine host under a
// temporary directory and runs engine-cleanup on it: the demo behind "make
// demo", and a shell for development and tests.
//
//	go run ./internal/cmd/sandbox demo [--legacy] [--keep]
//	go run ./internal/cmd/sandbox shell [--legacy] [--keep]
//
// The host is real where it matters: a throwaway PostgreSQL 15 cluster
// (pgtest) holding the engine, DWH and Reports databases with an
// engine-like schema, owned by NOCREATEDB roles that log in with passwords
// over TCP; the records, PKI, user files and NFS ISO export of an otopi-era
// host (ovirthost; --legacy: a 3.2 host with its engine only); and a
// private systemd manager (systemdtest) running ovirt-engine,
// ovirt-engine-notifier, ovirt-websocket-proxy, ovirt-engine-dwhd and
// ovirt-engine-reportsd as real units, enabled at runtime, which
// engine-cleanup reaches through DBUS_SYSTEM_BUS_ADDRESS; and, when libvirtd
// can run here, a private libvirtd (internal/testenv/libvirtd) holding TCG
// domains with snapshot trees, one recorded by UUID (with a managed save),
// one tagged and one unrelated that must survive, which engine-cleanup
// reaches through --libvirt-uri.
//
// demo builds engine-cleanup and the example plugin, describes the host,
// runs "engine-cleanup --root ROOT" (interactively when stdin is a
// terminal, otherwise with -u), shows the outcome (database objects, unit
// states, backups), runs it again with -u to show that nothing is left to
// clean, and tears everything down. It exits 0 when all of that went as
// expected, 1 otherwise (saying why), 130 when interrupted.
//
// shell builds the same site, prints its environment and runs $SHELL in
// it; the site is torn down when the shell exits, and the sandbox exits
// with the shell's code.
//
// Teardown stops the units, shuts the manager down, stops PostgreSQL,
// removes the cgroup, runtime and cluster directories and the temporary
// directory; --keep keeps the temporary directory (the host tree, the
// binaries and the logs) but still stops every process. SIGINT, SIGTERM and
// SIGHUP tear down too. It must run as root, like the harnesses it uses,
// from within this repository (it builds the binaries with "go build").
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: sandbox demo [--legacy] [--keep]
       sandbox shell [--legacy] [--keep]

demo   build a sandboxed oVirt engine host, run engine-cleanup on it (interactively
       when stdin is a terminal, otherwise with -u), show the outcome, run it again
       to show there is nothing left to clean, and tear everything down
shell  build the same host and run $SHELL inside it; tear down when it exits

  --legacy  a legacy-era (3.2) host with its engine only, instead of an otopi-era
            4.5 host with engine, DWH and Reports
  --keep    keep the temporary directory (host tree, binaries, logs); processes
            are stopped anyway
`

// Exit codes.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, args := args[0], args[1:]
	if cmd == "-h" || cmd == "--help" || cmd == "help" {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	if cmd != "demo" && cmd != "shell" {
		fmt.Fprintf(stderr, "sandbox: unknown command %q\n%s", cmd, usage)
		return exitUsage
	}
	fs := flag.NewFlagSet("sandbox "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	var o options
	fs.BoolVar(&o.legacy, "legacy", false, "a legacy-era (3.2) host, engine only")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sandbox %s: unexpected argument %q\n%s", cmd, fs.Arg(0), usage)
		return exitUsage
	}
	o.out, o.errOut = stdout, stderr

	// Signals are caught until the very end, teardown included: a second
	// ^C must not kill the sandbox half way through stopping what it
	// started. shell handles SIGINT itself: it belongs to the shell.
	sigs := []os.Signal{syscall.SIGTERM, syscall.SIGHUP}
	if cmd == "demo" {
		sigs = append(sigs, os.Interrupt)
	}
	ctx, stop := signal.NotifyContext(context.Background(), sigs...)
	defer stop()

	var err error
	code := exitOK
	if cmd == "demo" {
		err = demo(ctx, o)
	} else {
		code, err = shell(ctx, o)
	}
	switch {
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "sandbox %s: interrupted; everything it started was stopped\n", cmd)
		if err := withoutCancellation(err); err != nil {
			fmt.Fprintf(stderr, "sandbox %s: %v\n", cmd, err)
		}
		return exitInterrupted
	case err != nil:
		fmt.Fprintf(stderr, "sandbox %s: %v\n", cmd, err)
		return exitFailed
	}
	return code
}

// options are the command-line options shared by demo and shell.
type options struct {
	legacy bool
	keep   bool
	out    io.Writer // progress, descriptions, engine-cleanup's output
	errOut io.Writer // engine-cleanup's standard error
}

// withoutCancellation drops from a tree of joined errors those that only
// say the work was cancelled, which the interruption message says better;
// what remains (a teardown failure) is worth printing.
func withoutCancellation(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var kept []error
		for _, e := range j.Unwrap() {
			if e = withoutCancellation(e); e != nil {
				kept = append(kept, e)
			}
		}
		return errors.Join(kept...)
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
