// Package dwh is the built-in plugin that cleans the oVirt data warehouse:
// the ovirt-engine-dwhd service, the history database and its records.
package dwh

import (
	"github.com/engine-cleanup/engine-cleanup/internal/version"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/pending"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// New returns the dwh plugin.
func New() sdk.Plugin {
	return pending.New(pending.Component{
		Name: "dwh", Version: version.Version, DependsOn: []string{"engine"},
		Description: "oVirt data warehouse: ovirt-engine-dwhd, history database, files and records",
		AnswerKeys:  []string{"OVESETUP_DWH_REMOVE/dwhDatabase"},
		Records: []string{"/etc/ovirt-engine-dwh/ovirt-engine-dwhd.conf.d/10-setup-database.conf",
			"/etc/ovirt-engine/engine.conf.d/10-setup-dwh-database.conf"},
	})
}
