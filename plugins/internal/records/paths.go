package records

// Every oVirt location and naming rule that engine-cleanup depends on is in
// this file. Paths are as engine-setup records them (absolute, as on the
// host); Resolve maps them under --root. Lists are returned by functions so
// that no caller can change them for everybody.

// otopi era (3.3 and later): engine.
const (
	// EngineConfigDefaults and EngineConfig are the bases of the engine's
	// configuration layers; each is followed by the *.conf files of its
	// ".d" directory (see ConfigLayerPaths).
	EngineConfigDefaults = "/usr/share/ovirt-engine/services/ovirt-engine/ovirt-engine.conf"
	EngineConfig         = "/etc/ovirt-engine/engine.conf"
	EngineConfigDir      = EngineConfig + ".d"

	// EngineDatabaseConf holds ENGINE_DB_* (the engine's own database).
	EngineDatabaseConf = EngineConfigDir + "/10-setup-database.conf"
	// EngineDWHDatabaseConf holds DWH_DB_*: the engine's copy of the DWH
	// credentials, written since 2016 so the engine can reach the history
	// database.
	EngineDWHDatabaseConf = EngineConfigDir + "/10-setup-dwh-database.conf"
	// PKIConf holds ENGINE_PKI_* including the keystore passwords.
	PKIConf = EngineConfigDir + "/10-setup-pki.conf"

	// PKIDir is the engine CA and keystore tree.
	PKIDir = "/etc/pki/ovirt-engine"

	// EngineBackupDir receives engine database dumps and PKI archives.
	EngineBackupDir = "/var/lib/ovirt-engine/backups"
)

// otopi era: data warehouse.
const (
	DWHConfigDefaults = "/usr/share/ovirt-engine-dwh/services/ovirt-engine-dwhd/ovirt-engine-dwhd.conf"
	DWHConfig         = "/etc/ovirt-engine-dwh/ovirt-engine-dwhd.conf"
	DWHConfigDir      = DWHConfig + ".d"
	// DWHDatabaseConf holds DWH_DB_* (the history database).
	DWHDatabaseConf = DWHConfigDir + "/10-setup-database.conf"
	// DWHUUIDConf holds DWH_UUID, the identity DWH registers in the engine
	// database.
	DWHUUIDConf  = DWHConfigDir + "/10-setup-uuid.conf"
	DWHBackupDir = "/var/lib/ovirt-engine-dwh/backups"
)

// otopi era: Reports (oVirt 3.3 to 3.6).
const (
	ReportsConfigDefaults = "/usr/share/ovirt-engine-reports/services/ovirt-engine-reportsd/ovirt-engine-reportsd.conf"
	ReportsConfig         = "/etc/ovirt-engine-reports/ovirt-engine-reports.conf"
	ReportsConfigDir      = ReportsConfig + ".d"
	// ReportsDatabaseConf holds DWH_DB_*, not REPORTS_DB_*: it is how the
	// Reports server reads the history database. The Reports server's own
	// database is recorded in ReportsBuildomaticProperties.
	ReportsDatabaseConf = ReportsConfigDir + "/10-setup-database.conf"
	// ReportsBuildomaticProperties holds the Reports database credentials
	// (dbHost, dbPort, dbUsername, dbPassword, js.dbName); see
	// ReportsDatabaseCredentials.
	ReportsBuildomaticProperties = "/var/lib/ovirt-engine-reports/build-conf/master.properties"
	ReportsBackupDir             = "/var/lib/ovirt-engine-reports/backups"
)

// Prefixes of the KEY_DB_* families in the configuration files.
const (
	PrefixEngine = "ENGINE"
	PrefixDWH    = "DWH"
	// PrefixReports is accepted by DatabaseCredentials for symmetry, but no
	// engine-setup release writes REPORTS_DB_* keys: use
	// ReportsDatabaseCredentials for the Reports database.
	PrefixReports = "REPORTS"
)

// otopi era: setup state.
const (
	// SetupConfig and SetupConfigDir are otopi's answer-file layers
	// (parsed by sdk/otopi).
	SetupConfig    = "/etc/ovirt-engine-setup.conf"
	SetupConfigDir = SetupConfig + ".d"
	// PostInstallFile proves a completed setup. It is answer-file syntax
	// (sdk/otopi) and is not owned by the rpm, so it survives yum remove.
	PostInstallFile = SetupConfigDir + "/20-setup-ovirt-post.conf"

	// UninstallDir holds one manifest per setup run, named
	// <YYYYmmddHHMMSS>-uninstall.conf; ManifestGlob selects them.
	UninstallDir = "/etc/ovirt-engine/uninstall.d"
	ManifestGlob = "*.conf"

	// AnswersDir receives <YYYYmmddHHMMSS>-cleanup.conf answer files, 0600.
	AnswersDir        = "/var/lib/ovirt-engine/setup/answers"
	AnswerFileSuffix  = "-cleanup.conf"
	AnswerFileMode    = 0o600
	SetupLogDir       = "/var/log/ovirt-engine/setup"
	RemoveLogPrefix   = "ovirt-engine-remove" // <prefix>-<ts>-<6 random>.log
	BackupFileMode    = 0o600
	PKIBackupPrefix   = "engine-pki" // <prefix>-<ts><8 random>.tar.gz in EngineBackupDir
	EngineDumpPrefix  = "engine"     // <prefix>-<ts>.<8 random>.dump
	DWHDumpPrefix     = "dwh"
	ReportsDumpPrefix = "reports"
	DumpSuffix        = ".dump"
	LegacyDumpSuffix  = ".sql" // 3.0 to 3.3.0 wrote plain SQL
	PKIBackupSuffix   = ".tar.gz"
)

// TimestampLayout is the YYYYmmddHHMMSS stamp of every oVirt file name, as a
// Go time layout.
const TimestampLayout = "20060102150405"

// Legacy era (3.0 to 3.2).
const (
	// LegacyPgpass is the 3.2 credentials file. 3.2's engine-upgrade copied
	// LegacyRootPgpass here unchanged, so it may carry 3.1's markers.
	LegacyPgpass     = "/etc/ovirt-engine/.pgpass"
	LegacyRootPgpass = "/root/.pgpass"

	LegacyDefaultDBHost  = "localhost"
	LegacyDefaultDBPort  = 5432
	LegacyDefaultDBAdmin = "postgres"
	LegacyDefaultDBUser  = "engine"
	LegacyDefaultDBName  = "engine"

	LegacyDBBackupDir  = "/var/lib/ovirt-engine/backups"
	LegacyPKIBackupDir = "/etc/pki/ovirt-engine-backups" // ovirt-engine-<ts> copies
	LegacyLogDir       = "/var/log/ovirt-engine"         // engine-cleanup_YYYY_MM_DD_HH_MM_SS.log

	// LegacySysctlConf was deleted by legacy engine-cleanup, which killed
	// PostgreSQL at the next reboot (BZ 1026926); engine-cleanup keeps it.
	LegacySysctlConf = "/etc/sysctl.d/00-ovirt-engine.conf"
)

// LegacyPKIFiles are the PKI files legacy engine-setup created, relative to
// PKIDir; legacy setup kept no manifest, so this list is the record.
func LegacyPKIFiles() []string {
	return []string{
		"ca.pem",
		"apache-ca.pem",
		".truststore",
		"keys/engine.p12",
		"keys/apache.p12",
		"keys/jboss.p12",
		"keys/apache.key.nopass",
		"keys/engine_id_rsa",
	}
}

// Service names.
const (
	// ServiceEngine was already the engine's name in 3.1 and 3.2.
	ServiceEngine         = "ovirt-engine"
	ServiceNotifier       = "ovirt-engine-notifier"
	ServiceWebSocketProxy = "ovirt-websocket-proxy"
	ServiceFenceKdump     = "ovirt-fence-kdump-listener"
	ServiceVMConsoleProxy = "ovirt-vmconsole-proxy-sshd"
	ServiceDWH            = "ovirt-engine-dwhd"
	ServiceReports        = "ovirt-engine-reportsd"
	LegacyServiceNotifier = "engine-notifierd"
	// 3.0 ran the engine inside the distribution's JBoss AS service.
	LegacyServiceJBossAS    = "jboss-as"
	LegacyServiceJBossASAlt = "jbossas"
)

// EngineServices are the engine's services in the otopi era, in stop order.
func EngineServices() []string {
	return []string{ServiceEngine, ServiceFenceKdump, ServiceWebSocketProxy, ServiceVMConsoleProxy, ServiceNotifier}
}

// LegacyEngineServices are the engine's services in the legacy era; only
// those that exist on the host are meant to be acted on.
func LegacyEngineServices() []string {
	return []string{ServiceEngine, LegacyServiceJBossAS, LegacyServiceJBossASAlt, LegacyServiceNotifier}
}

// EngineConfigBases, DWHConfigBases and ReportsConfigBases are the layer
// bases in load order, for ConfigLayerPaths and LoadConfig.
func EngineConfigBases() []string  { return []string{EngineConfigDefaults, EngineConfig} }
func DWHConfigBases() []string     { return []string{DWHConfigDefaults, DWHConfig} }
func ReportsConfigBases() []string { return []string{ReportsConfigDefaults, ReportsConfig} }

// Limits on hostile input.
const (
	MaxRecordSize = 1 << 20 // bytes per file
	MaxLineLength = 64 << 10
	// maxSymlinks bounds symlink resolution in WithinRoot, as Linux does.
	maxSymlinks = 40
)
