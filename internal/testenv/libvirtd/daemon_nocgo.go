//go:build !cgo

package libvirtd

import "errors"

// ErrUnavailable is wrapped by StartDaemon's error when no daemon can run.
var ErrUnavailable = errors.New("libvirtd unavailable")

// StartDaemon fails: the libvirt binding needs cgo.
func StartDaemon() (*Daemon, error) {
	return nil, errors.Join(ErrUnavailable, errors.New("libvirtd: the libvirt client library binding needs cgo (CGO_ENABLED=1)"))
}

// Close does nothing: no daemon runs without cgo.
func (d *Daemon) Close() error { return nil }
