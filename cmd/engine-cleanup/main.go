// Command engine-cleanup returns an oVirt engine host to a state where
// engine-setup can run again. See README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/engine-cleanup/engine-cleanup/core/cli"
	"github.com/engine-cleanup/engine-cleanup/core/pluginhost"
	"github.com/engine-cleanup/engine-cleanup/internal/version"
	"github.com/engine-cleanup/engine-cleanup/plugins/dwh"
	"github.com/engine-cleanup/engine-cleanup/plugins/engine"
	"github.com/engine-cleanup/engine-cleanup/plugins/libvirt"
	"github.com/engine-cleanup/engine-cleanup/plugins/reports"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// builtinEntry is the hidden first argument with which the binary re-executes
// itself to serve one built-in plugin.
const builtinEntry = "__builtin-plugin"

// packagedPluginDir is set at build time from the install prefix.
var packagedPluginDir = cli.DefaultPackagedPluginDir

var builtins = []struct {
	name string
	new  func() sdk.Plugin
}{
	{"engine", engine.New},
	{"dwh", dwh.New},
	{"reports", reports.New},
	{"libvirt", libvirt.New},
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
	prog := cli.Program{Version: version.Version, PackagedPluginDir: packagedPluginDir}
	for _, b := range builtins {
		prog.BuiltIns = append(prog.BuiltIns, pluginhost.Spec{Name: b.name, Path: self,
			Args: []string{builtinEntry, b.name}, BuiltIn: true})
	}
	return prog
}

// serveBuiltin serves one built-in plugin. It reads nothing but its name:
// no flags, no configuration, and only the environment the core passes, so
// a built-in cannot be steered by what the invoking shell exported.
func serveBuiltin(args []string) int {
	if os.Getenv(sdk.Handshake.MagicCookieKey) != sdk.Handshake.MagicCookieValue || len(args) != 1 {
		fmt.Fprintln(os.Stderr, "engine-cleanup: "+builtinEntry+" is how engine-cleanup runs its built-in plugins; "+
			"it is not meant to be run by hand. Run engine-cleanup --help.")
		return 2
	}
	for _, b := range builtins {
		if b.name == args[0] {
			sdk.Serve(b.new())
			return 0
		}
	}
	fmt.Fprintf(os.Stderr, "engine-cleanup: no built-in plugin %q\n", args[0])
	return 2
}
