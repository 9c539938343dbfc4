package sdk

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/engine-cleanup/engine-cleanup/sdk/proto/pluginv1"
)

// ProtocolVersion is the plugin protocol this SDK speaks. It changes only
// with an incompatible protocol, together with the proto package name.
const ProtocolVersion = 1

// PluginKey is the name under which the cleanup plugin is dispensed.
const PluginKey = "cleanup"

// Handshake is shared by the core and every plugin. The cookie never changes:
// it only tells a plugin binary run by hand that it is not a command.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "ENGINE_CLEANUP_PLUGIN",
	MagicCookieValue: "6c1e3f0a-oVirt-engine-cleanup-plugin",
}

// MaxMessageSize bounds one protocol message (plans of thousands of actions
// and long problem lists fit easily).
const MaxMessageSize = 256 << 20

// VersionedPlugins is the go-plugin plugin set of every protocol version this
// SDK speaks; impl is nil on the core's side.
func VersionedPlugins(impl Plugin) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {PluginKey: &GRPCPlugin{Impl: impl}},
	}
}

// GRPCPlugin is the go-plugin glue: it serves Impl (or every plugin of
// Bundle) in a plugin process and returns a *Client in the core.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Plugin
	// Bundle are several plugins served by one process, told apart by the
	// MetadataKey of each call. Used instead of Impl.
	Bundle []Plugin

	// logger and redact are the plugin process's runtime, set by Serve.
	logger hclog.Logger
	redact *Redactor
}

var _ plugin.GRPCPlugin = (*GRPCPlugin)(nil)

// GRPCServer registers the server adapter of Impl, or of every plugin of
// Bundle behind one router.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	impls := p.Bundle
	if p.Impl != nil {
		impls = append(impls, p.Impl)
	}
	servers := map[string]*server{}
	for _, impl := range impls {
		info, err := impl.Info(context.Background(), InfoRequest{})
		if err != nil {
			return fmt.Errorf("asking a plugin for its name: %w", err)
		}
		if _, dup := servers[info.Name]; dup {
			return fmt.Errorf("two plugins named %q in one process", info.Name)
		}
		srv := newServer(impl)
		if p.logger != nil {
			srv.logger, srv.redact = p.logger, p.redact
			if len(impls) > 1 {
				srv.logger = p.logger.Named(info.Name)
			}
		}
		servers[info.Name] = srv
	}
	pluginv1.RegisterPluginServer(s, newRouter(servers))
	return nil
}

// GRPCClient returns the client adapter, a *Client.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return &Client{rpc: pluginv1.NewPluginClient(c)}, nil
}

// grpcServer raises the receive limit that go-plugin's default server
// keeps at 4 MiB.
func grpcServer(opts []grpc.ServerOption) *grpc.Server {
	opts = append(opts, grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize))
	return grpc.NewServer(opts...)
}

// DialOptions are the gRPC options the core uses to reach a plugin.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithDefaultCallOptions(
		grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize))}
}
