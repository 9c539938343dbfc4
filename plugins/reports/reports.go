// Package reports is the built-in plugin that cleans oVirt Reports: the
// ovirt-engine-reportsd service, the reports database and Reports' records.
// The Reports web application files and PKI items are recorded in the
// uninstall manifests and cleaned with the host's other recorded files by
// the engine plugin. See README.md.
package reports

import (
	"bytes"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/component"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// New returns the reports plugin.
func New() sdk.Plugin {
	return component.NewDBComponent(component.Spec{
		Name:        "reports",
		Description: "oVirt Reports: ovirt-engine-reportsd, reports database and records",
		DependsOn:   []string{"dwh", "engine"},
		EnableKey:   "OVESETUP_REPORTS_CORE/enable",
		Services:    []string{records.ServiceReports},
		DropKey:     "reports.dropDatabase", DropAnswerKey: "OVESETUP_REPORTS_REMOVE/database",
		Database: component.Database{Component: "reports", Label: "Reports database", BackupLabel: "the Reports database",
			BackupDir: records.ReportsBackupDir, Prefix: records.ReportsDumpPrefix},
		// The Reports database is recorded in buildomatic's properties, not
		// in REPORTS_DB_* keys (see records.ReportsDatabaseCredentials).
		CredsRecord: records.ReportsBuildomaticProperties,
		ReadCreds: func(root string) (records.DBCreds, error) {
			data, err := records.ReadRecord(root, records.ReportsBuildomaticProperties)
			if err != nil {
				return records.DBCreds{}, err
			}
			return records.ReportsDatabaseCredentials(component.Shown(root, records.ReportsBuildomaticProperties), bytes.NewReader(data))
		},
		// The credentials (master.properties) go with the engine's forget,
		// after the post-install file.
		Records: []string{records.ReportsDatabaseConf},
	})
}
