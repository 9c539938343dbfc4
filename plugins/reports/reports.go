// Package reports is the built-in plugin that cleans oVirt Reports: the
// ovirt-engine-reportsd service, the reports database, its web application
// and records.
package reports

import (
	"github.com/engine-cleanup/engine-cleanup/internal/version"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/pending"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// New returns the reports plugin.
func New() sdk.Plugin {
	return pending.New(pending.Component{
		Name: "reports", Version: version.Version, DependsOn: []string{"dwh", "engine"},
		Description: "oVirt Reports: ovirt-engine-reportsd, reports database, web application and records",
		AnswerKeys:  []string{"OVESETUP_REPORTS_REMOVE/reportsDatabase"},
		Records:     []string{"/etc/ovirt-engine-reports/ovirt-engine-reports.conf.d/10-setup-database.conf"},
	})
}
