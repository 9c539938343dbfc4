// Command engine-cleanup returns an oVirt engine host to a state where
// engine-setup can run again. See README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/engine-cleanup/engine-cleanup/core/cli"
	"github.com/engine-cleanup/engine-cleanup/core/pluginhost"
	"github.com/engine-cleanup/engine-cleanup/internal/version"
	"github.com/engine-cleanup/engine-cleanup/plugins/dwh"
	"github.com/engine-cleanup/engine-cleanup/plugins/engine"
	"github.com/engine-cleanup/engine-cleanup/plugins/reports"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// builtinEntry is the hidden first argument with which the binary re-executes
// itself to serve one built-in plugin.
const builtinEntry = "__builtin-plugin"

// packagedPluginDir is set at build time from the install prefix.
var packagedPluginDir = cli.DefaultPackagedPluginDir

// libvirtPlugin is where the libvirt built-in is installed, set at build
// time; empty means next to this executable (a build tree).
var libvirtPlugin = ""

// libvirtPluginName is the libvirt built-in's executable.
const libvirtPluginName = "engine-cleanup-libvirt"

var builtins = []struct {
	name string
	new  func() sdk.Plugin
}{
	{"engine", engine.New},
	{"dwh", dwh.New},
	{"reports", reports.New},
}

func main() {
	if len(os.Args) >= 2 && os.Args[1] == builtinEntry {
		os.Exit(serveBuiltin(os.Args[2:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, program(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func program() cli.Program {
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	spec := pluginhost.Spec{Name: "built-ins", Path: self, Args: []string{builtinEntry}, BuiltIn: true}
	for _, b := range builtins {
		spec.Serves = append(spec.Serves, b.name)
	}
	// The libvirt built-in is its own executable (see its package comment).
	lv := libvirtPlugin
	if lv == "" {
		lv = filepath.Join(filepath.Dir(self), libvirtPluginName)
	}
	return cli.Program{Version: version.Version, PackagedPluginDir: packagedPluginDir,
		BuiltIns: []pluginhost.Spec{spec, {Name: "libvirt", Path: lv, BuiltIn: true}}}
}

// serveBuiltin serves every built-in plugin from this one process: one
// launch instead of four (see README, "Built-in plugins"). It reads no flags,
// no configuration, and only the environment the core passes, so a built-in
// cannot be steered by what the invoking shell exported.
func serveBuiltin(args []string) int {
	if os.Getenv(sdk.Handshake.MagicCookieKey) != sdk.Handshake.MagicCookieValue || len(args) != 0 {
		fmt.Fprintln(os.Stderr, "engine-cleanup: "+builtinEntry+" is how engine-cleanup runs its built-in plugins; "+
			"it is not meant to be run by hand. Run engine-cleanup --help.")
		return 2
	}
	var plugins []sdk.Plugin
	for _, b := range builtins {
		plugins = append(plugins, b.new())
	}
	sdk.ServeBundle(plugins...)
	return 0
}
