package sdk

import (
	"context"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// Serve runs p as a plugin process and returns only when the core is done
// with it. A plugin's main is usually just:
//
//	func main() { sdk.Serve(&myPlugin{}) }
//
// Serve logs in hclog's JSON format on stderr, which the core re-emits into
// its log file under the plugin's name; it never writes to stdout except for
// the go-plugin handshake. If the core dies, the plugin exits too.
func Serve(p Plugin) { serve(&GRPCPlugin{Impl: p}) }

// ServeBundle serves several plugins from one process: one launch instead
// of several, for plugins shipped together (the built-ins). Each call names
// its plugin in the MetadataKey metadata; a panic in one plugin's phase is
// reported as that plugin's failure and leaves the others serving.
func ServeBundle(plugins ...Plugin) { serve(&GRPCPlugin{Bundle: plugins}) }

func serve(gp *GRPCPlugin) {
	redact := NewRedactor()
	// Created before plugin.Serve swaps os.Stderr, so the lines reach the
	// core's log rather than go-plugin's discarded copy.
	logger := hclog.New(&hclog.LoggerOptions{
		Level:      hclog.Debug,
		Output:     redact.Writer(os.Stderr),
		JSONFormat: true,
	})
	go exitWithParent(os.Getppid())
	gp.logger, gp.redact = logger, redact
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{ProtocolVersion: {PluginKey: gp}},
		GRPCServer:       grpcServer,
		Logger:           logger,
	})
}

// exitWithParent ends the plugin when its parent, the core, is gone: the core
// may have been killed with SIGKILL, which leaves it no chance to clean up.
// The core also sets a parent-death signal; this catches what that misses
// (it fires when the forking thread exits, not the process).
func exitWithParent(parent int) {
	for range time.Tick(250 * time.Millisecond) {
		if os.Getppid() != parent {
			os.Exit(3)
		}
	}
}

// Logger returns the plugin's logger inside a phase call.
func Logger(ctx context.Context) hclog.Logger { return hclog.FromContext(ctx) }

type redactorKey struct{}

// Redact registers secrets (passwords read from records, say) so that they
// are masked in every log line the plugin writes from now on.
func Redact(ctx context.Context, secrets ...string) {
	if r, ok := ctx.Value(redactorKey{}).(*Redactor); ok {
		r.Add(secrets...)
	}
}
