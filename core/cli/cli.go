// Package cli is the engine-cleanup command line: it parses flags, builds
// the run's configuration, and is the one place that turns errors into exit
// codes and text for the administrator.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/engine-cleanup/engine-cleanup/core/exitcode"
	"github.com/engine-cleanup/engine-cleanup/core/orchestrator"
	"github.com/engine-cleanup/engine-cleanup/core/pluginhost"
)

// Defaults of the plugin search path. The packaged directory is set at build
// time from the install prefix.
const (
	DefaultAdminPluginDir    = "/usr/local/lib/engine-cleanup/plugins"
	DefaultPackagedPluginDir = "/usr/lib/engine-cleanup/plugins"
)

// Program is what cmd wires in: the version and the built-in plugins.
type Program struct {
	Version           string
	BuiltIns          []pluginhost.Spec
	PackagedPluginDir string
}

type options struct {
	unattended, dontDropDB, help, helpAll, listPlugins, dryRun, json, version bool
	root, logFile, serviceManager, libvirtURI                                 string
	pluginDirs, answerFiles                                                   []string
	startTimeout, phaseTimeout, actionTimeout                                 time.Duration
}

func newFlagSet(o *options, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("engine-cleanup", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.BoolVarP(&o.unattended, "unattended", "u", false, "unattended: ask nothing, take the defaults (the database is dropped)")
	fs.BoolVarP(&o.dontDropDB, "dont-drop-db", "d", false, "keep the databases (engine, DWH, Reports); clean everything else")
	fs.BoolVarP(&o.help, "help", "h", false, "show this help")
	hidden := []struct {
		name string
		add  func()
	}{
		{"help-all", func() { fs.BoolVar(&o.helpAll, "help-all", false, "show every option and the exit codes") }},
		{"list-plugins", func() {
			fs.BoolVar(&o.listPlugins, "list-plugins", false, "list every plugin found, built-in and external")
		}},
		{"root", func() { fs.StringVar(&o.root, "root", "", "treat `DIR` as / for every file path") }},
		{"plugin-dir", func() {
			fs.StringArrayVar(&o.pluginDirs, "plugin-dir", nil, "also search `DIR` for external plugins (repeatable, searched first)")
		}},
		{"dry-run", func() { fs.BoolVar(&o.dryRun, "dry-run", false, "show the plan, change nothing") }},
		{"json", func() { fs.BoolVar(&o.json, "json", false, "print one JSON document describing the run on stdout") }},
		{"config-append", func() {
			fs.StringArrayVar(&o.answerFiles, "config-append", nil, "read answers from the otopi answer `FILE` (repeatable)")
		}},
		{"log", func() { fs.StringVar(&o.logFile, "log", "", "write the log to `FILE` instead of the default") }},
		{"service-manager", func() {
			fs.StringVar(&o.serviceManager, "service-manager", "", "use `MANAGER` (systemd, sysv or none) instead of detecting it")
		}},
		{"libvirt-uri", func() {
			fs.StringVar(&o.libvirtURI, "libvirt-uri", "", "connect to libvirt at `URI` instead of the default")
		}},
		{"plugin-start-timeout", func() {
			fs.DurationVar(&o.startTimeout, "plugin-start-timeout", 20*time.Second, "give up on a plugin that does not start within `DURATION`")
		}},
		{"phase-timeout", func() {
			fs.DurationVar(&o.phaseTimeout, "phase-timeout", 5*time.Minute, "give up on a plugin that does not answer a phase within `DURATION`")
		}},
		{"action-timeout", func() {
			fs.DurationVar(&o.actionTimeout, "action-timeout", 12*time.Hour, "give up on a cleanup action that runs longer than `DURATION` (0: no limit)")
		}},
		{"version", func() { fs.BoolVar(&o.version, "version", false, "print the version") }},
	}
	for _, h := range hidden {
		h.add()
		_ = fs.MarkHidden(h.name)
	}
	return fs
}

const usageHead = `Usage: engine-cleanup [-u|--unattended] [-d|--dont-drop-db] [-h|--help]

Returns this host to a state where engine-setup can run again: stops the
engine, Reports and DWH services, backs up and clears their databases,
removes the PKI keystore, the files setup created and leftover libvirt
domains, and finally the setup records. Backups are written first.

`

// Run is the whole command. It never calls os.Exit.
func Run(ctx context.Context, prog Program, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o options
	fs := newFlagSet(&o, stderr)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			printHelp(stdout, fs, false)
			return exitcode.OK
		}
		fmt.Fprintf(stderr, "engine-cleanup: %v\nRun engine-cleanup --help for usage.\n", err)
		return exitcode.Usage
	}
	switch {
	case o.help:
		printHelp(stdout, fs, false)
		return exitcode.OK
	case o.helpAll:
		printHelp(stdout, fs, true)
		return exitcode.OK
	case o.version:
		fmt.Fprintf(stdout, "engine-cleanup %s\n", prog.Version)
		return exitcode.OK
	}
	cfg, err := o.config(prog, fs.Args())
	if err != nil {
		return fail(stderr, exitcode.New(exitcode.Usage, err))
	}
	iop := orchestrator.IO{In: stdin, Out: stdout, Err: stderr, InTerminal: isTerminal(stdin),
		OutTerminal: isTerminal(stdout), NoColor: os.Getenv("NO_COLOR") != ""}
	if cfg.JSON {
		iop.OutTerminal = isTerminal(stderr)
	}
	if o.listPlugins {
		return fail(stderr, orchestrator.ListPlugins(ctx, cfg, iop, nil))
	}
	return fail(stderr, orchestrator.Run(ctx, cfg, iop))
}

func (o *options) config(prog Program, rest []string) (orchestrator.Config, error) {
	if len(rest) > 0 {
		return orchestrator.Config{}, fmt.Errorf("unexpected argument %q: engine-cleanup takes only options", rest[0])
	}
	switch o.serviceManager {
	case "", "systemd", "sysv", "none":
	default:
		return orchestrator.Config{}, fmt.Errorf("--service-manager %q: use systemd, sysv or none", o.serviceManager)
	}
	root := "/"
	if o.root != "" {
		abs, err := filepath.Abs(o.root)
		if err != nil {
			return orchestrator.Config{}, fmt.Errorf("--root %s: %w", o.root, err)
		}
		fi, err := os.Stat(abs)
		if err != nil || !fi.IsDir() {
			return orchestrator.Config{}, fmt.Errorf("--root %s: not a directory", o.root)
		}
		root = abs
	}
	packaged := prog.PackagedPluginDir
	if packaged == "" {
		packaged = DefaultPackagedPluginDir
	}
	for _, t := range []struct {
		name string
		d    time.Duration
	}{{"--plugin-start-timeout", o.startTimeout}, {"--phase-timeout", o.phaseTimeout}, {"--action-timeout", o.actionTimeout}} {
		if t.d < 0 {
			return orchestrator.Config{}, fmt.Errorf("%s must not be negative", t.name)
		}
	}
	return orchestrator.Config{
		Version: prog.Version, Root: root, PluginDirs: o.pluginDirs, AdminPluginDir: DefaultAdminPluginDir,
		PackagedPluginDir: packaged, BuiltIns: prog.BuiltIns, UID: os.Geteuid(),
		Unattended: o.unattended, DontDropDB: o.dontDropDB, DryRun: o.dryRun, JSON: o.json,
		AnswerFiles: o.answerFiles, LogFile: o.logFile, ServiceManager: o.serviceManager, LibvirtURI: o.libvirtURI,
		StartTimeout: o.startTimeout, PhaseTimeout: o.phaseTimeout, ActionTimeout: o.actionTimeout,
	}, nil
}

// fail prints err for the administrator and returns its exit code.
func fail(stderr io.Writer, err error) int {
	code := exitcode.Of(err)
	if err != nil {
		fmt.Fprintf(stderr, "engine-cleanup: %v\n", err)
	}
	return code
}

func isTerminal(v interface{}) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func printHelp(w io.Writer, fs *pflag.FlagSet, all bool) {
	fmt.Fprint(w, usageHead)
	fmt.Fprintln(w, "Options:")
	fmt.Fprint(w, fs.FlagUsages())
	if !all {
		return
	}
	fmt.Fprintln(w, "\nOptions for diagnostics, automation and tests:")
	var b strings.Builder
	fs.VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			return
		}
		name, usage := pflag.UnquoteUsage(f)
		arg := "--" + f.Name
		if name != "" {
			arg += " " + name
		}
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" {
			def = " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(&b, "      %-30s %s%s\n", arg, usage, def)
	})
	fmt.Fprint(w, b.String())
	fmt.Fprint(w, helpAllTail)
}

const helpAllTail = `
Answer files (--config-append) use otopi's format:
  [environment:default]
  OVESETUP_CORE/remove=bool:True
  OVESETUP_CORE/engineStop=bool:True
  OVESETUP_REMOVE/engineDatabase=bool:False
  DIALOG/autoAcceptDefault=bool:True
The answers a run used are saved under /var/lib/ovirt-engine/setup/answers.

Plugin search path, earlier directories first: every --plugin-dir, then
/usr/local/lib/engine-cleanup/plugins (admin), then the packaged directory.
External plugins are executables named engine-cleanup-plugin-<name>.

Exit codes:
  0    success, including "nothing to clean" and --dry-run
  1    cleanup failed part way (the summary says what was done; fix the cause and run again),
       or --list-plugins found a broken plugin
  2    usage error: bad option, bad answer file, interactive without a terminal
  3    refused: validation found a blocking problem; nothing was changed
  4    aborted by the user at a question; nothing was changed
  130  interrupted (SIGINT/SIGTERM); safe to run again
`
