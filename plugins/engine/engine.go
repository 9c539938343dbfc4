// Package engine is the built-in plugin that cleans the oVirt engine: its
// services, database, PKI, files and setup records.
package engine

import (
	"github.com/engine-cleanup/engine-cleanup/internal/version"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/pending"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// New returns the engine plugin.
func New() sdk.Plugin {
	return pending.New(pending.Component{
		Name: "engine", Version: version.Version,
		Description: "oVirt engine: services, database, PKI, files and setup records",
		AnswerKeys: []string{"OVESETUP_CORE/engineStop", "OVESETUP_REMOVE/engineDatabase",
			"OVESETUP_REMOVE/removeChanged", "OVESETUP_REMOVE/removeEngine", "OVESETUP_REMOVE/removeWsp"},
		Records: []string{"/etc/ovirt-engine-setup.conf.d/20-setup-ovirt-post.conf",
			"/etc/ovirt-engine/engine.conf.d/10-setup-database.conf", "/etc/ovirt-engine/.pgpass",
			"/etc/ovirt-engine/uninstall.d", "/etc/pki/ovirt-engine/ca.pem"},
	})
}
