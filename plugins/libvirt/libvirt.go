// Package libvirt is the built-in plugin that removes libvirt domains the
// installation left behind, with their managed-save images and snapshot
// and checkpoint metadata.
package libvirt

import (
	"github.com/engine-cleanup/engine-cleanup/internal/version"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/pending"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// New returns the libvirt plugin.
func New() sdk.Plugin {
	return pending.New(pending.Component{
		Name: "libvirt", Version: version.Version,
		Description: "libvirt domains left by the installation, with managed saves and snapshot metadata",
		Records:     []string{"/etc/ovirt-engine/engine-cleanup.d/libvirt-domains.conf"},
	})
}
