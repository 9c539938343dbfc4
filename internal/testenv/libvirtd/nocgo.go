//go:build !cgo

package libvirtd

import "testing"

// Daemon is a private libvirtd; without cgo there is no client for it.
type Daemon struct{}

// Start skips the test: the libvirt binding needs cgo.
func Start(t testing.TB) *Daemon {
	t.Helper()
	t.Skip("libvirtd: the libvirt client library binding needs cgo (CGO_ENABLED=1)")
	return nil
}

// DataDir is a directory the daemon's user owns.
func (d *Daemon) DataDir() string { return "" }
