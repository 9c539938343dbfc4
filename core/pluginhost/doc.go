// Package pluginhost starts plugin processes and talks to them.
//
// Built-in and external plugins go through the same path: a process started
// with go-plugin over gRPC, in its own process group, with a parent-death
// signal, a trimmed environment and a start timeout. Every call runs under a
// timeout, and any failure — a crash, a hang, a failed handshake, another
// protocol version — becomes a *Error naming the plugin and the phase, with
// the last lines the plugin wrote on stderr.
package pluginhost
