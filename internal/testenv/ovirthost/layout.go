package ovirthost

// Locations and names of oVirt's records. The authoritative list is
// plugins/internal/records/paths.go, which Go's internal-package rule keeps
// out of reach of this package; these mirror it, and
// TestLayoutMatchesTheRecordsPackage compares them with it.
const (
	pathEngineDefaults  = "/usr/share/ovirt-engine/services/ovirt-engine/ovirt-engine.conf"
	pathEngineConf      = "/etc/ovirt-engine/engine.conf"
	pathEngineConfD     = pathEngineConf + ".d"
	pathEngineDBConf    = pathEngineConfD + "/10-setup-database.conf"
	pathEngineDWHDBConf = pathEngineConfD + "/10-setup-dwh-database.conf"
	pathPKIConf         = pathEngineConfD + "/10-setup-pki.conf"
	pathPKIDir          = "/etc/pki/ovirt-engine"
	pathEngineBackups   = "/var/lib/ovirt-engine/backups"

	pathDWHDefaults = "/usr/share/ovirt-engine-dwh/services/ovirt-engine-dwhd/ovirt-engine-dwhd.conf"
	pathDWHConf     = "/etc/ovirt-engine-dwh/ovirt-engine-dwhd.conf"
	pathDWHConfD    = pathDWHConf + ".d"
	pathDWHDBConf   = pathDWHConfD + "/10-setup-database.conf"
	pathDWHUUIDConf = pathDWHConfD + "/10-setup-uuid.conf"
	pathDWHBackups  = "/var/lib/ovirt-engine-dwh/backups"

	pathReportsDefaults         = "/usr/share/ovirt-engine-reports/services/ovirt-engine-reportsd/ovirt-engine-reportsd.conf"
	pathReportsConf             = "/etc/ovirt-engine-reports/ovirt-engine-reports.conf"
	pathReportsConfD            = pathReportsConf + ".d"
	pathReportsDBConf           = pathReportsConfD + "/10-setup-database.conf"
	pathReportsMasterProperties = "/var/lib/ovirt-engine-reports/build-conf/master.properties"

	pathSetupConf    = "/etc/ovirt-engine-setup.conf"
	pathSetupConfD   = pathSetupConf + ".d"
	pathPostInstall  = pathSetupConfD + "/20-setup-ovirt-post.conf"
	pathUninstallDir = "/etc/ovirt-engine/uninstall.d"
	pathSetupLogs    = "/var/log/ovirt-engine/setup"

	dumpPrefixEngine = "engine"
	dumpPrefixDWH    = "dwh"
	dumpSuffix       = ".dump"

	pathLegacyPgpass  = "/etc/ovirt-engine/.pgpass"
	pathLegacySysctl  = "/etc/sysctl.d/00-ovirt-engine.conf"
	pathLegacyBackups = "/var/lib/ovirt-engine/backups"
	pathLegacyLogs    = "/var/log/ovirt-engine"

	prefixEngine = "ENGINE"
	prefixDWH    = "DWH"

	// Manifest sections.
	fileGroupPrefix    = "file_group_"
	unremovableSection = "unremovable"

	svcEngine         = "ovirt-engine"
	svcNotifier       = "ovirt-engine-notifier"
	svcWebSocketProxy = "ovirt-websocket-proxy"
	svcFenceKdump     = "ovirt-fence-kdump-listener"
	svcVMConsoleProxy = "ovirt-vmconsole-proxy-sshd"
	svcDWH            = "ovirt-engine-dwhd"
	svcReports        = "ovirt-engine-reportsd"
	svcLegacyNotifier = "engine-notifierd"
	svcLegacyJBossAS  = "jboss-as"
	svcLegacyJBossAS2 = "jbossas"
)

// legacyPKIFiles is records.LegacyPKIFiles: what legacy setup created in
// the PKI directory, relative to it.
func legacyPKIFiles() []string {
	return []string{"ca.pem", "apache-ca.pem", ".truststore", "keys/engine.p12", "keys/apache.p12",
		"keys/jboss.p12", "keys/apache.key.nopass", "keys/engine_id_rsa"}
}

func engineServices() []string {
	return []string{svcEngine, svcFenceKdump, svcWebSocketProxy, svcVMConsoleProxy, svcNotifier}
}

func legacyEngineServices() []string {
	return []string{svcEngine, svcLegacyJBossAS, svcLegacyJBossAS2, svcLegacyNotifier}
}

// hashAlgo and hash are records.HashAlgo and records.Hash.
type hashAlgo string

const (
	algoSHA256 hashAlgo = "sha256"
	algoMD5    hashAlgo = "md5"
)

type hash struct {
	Algo hashAlgo
	Hex  string
}

// Locations that engine-setup and rpm use and that the records package does
// not need.
const (
	pathSSLConf          = "/etc/httpd/conf.d/ssl.conf"
	pathYumVersionlock   = "/etc/yum/pluginconf.d/versionlock.list"
	pathDNFVersionlock   = "/etc/dnf/plugins/versionlock.list"
	pathExports          = "/etc/exports"
	pathISOExport        = "/var/lib/exports/iso"
	isoImagesUUID        = "11111111-1111-1111-1111-111111111111"
	isoACL               = "0.0.0.0/0.0.0.0(rw)"
	pathHTTPDProxy       = "/etc/httpd/conf.d/z-ovirt-engine-proxy.conf"
	pathHTTPDRoot        = "/etc/httpd/conf.d/ovirt-engine-root-redirect.conf"
	pathHTTPDReports     = "/etc/httpd/conf.d/z-ovirt-engine-reports-proxy.conf"
	pathOtopiSysctl      = "/etc/sysctl.d/ovirt-engine.conf"
	pathProtocolsConf    = pathEngineConfD + "/10-setup-protocols.conf"
	pathJBossConf        = pathEngineConfD + "/10-setup-jboss.conf"
	pathJavaConf         = pathEngineConfD + "/10-setup-java.conf"
	pathSSOConf          = pathEngineConfD + "/11-setup-sso.conf"
	pathJBossOverlay     = pathEngineConfD + "/20-setup-jboss-overlay.conf" // rpm-owned despite its name
	pathEngineConfReadme = pathEngineConfD + "/README"
	pathCustomConf       = pathEngineConfD + "/99-custom.conf"
	pathNotifierJBoss    = "/etc/ovirt-engine/notifier/notifier.conf.d/10-setup-jboss.conf"
	pathAAAInternal      = "/etc/ovirt-engine/aaa/internal.properties"
	pathAuthn            = "/etc/ovirt-engine/extensions.d/internal-authn.properties"
	pathAuthz            = "/etc/ovirt-engine/extensions.d/internal-authz.properties"
	pathDWHScale         = pathDWHConfD + "/10-setup-scale.conf"
	pathPackagingConf    = pathSetupConfD + "/10-packaging.conf"
	pathPackagingJBoss   = pathSetupConfD + "/10-packaging-jboss.conf"
	pathSetupAnswers     = "/var/lib/ovirt-engine/setup/answers"
	pathNotes            = "/root/notes.txt"
	pathEngineCache      = "/var/cache/ovirt-engine"
	pathPKIBackups       = "/etc/pki/ovirt-engine-backups"
	pathUnits            = "/usr/lib/systemd/system"
	pathWants            = "/etc/systemd/system/multi-user.target.wants"
	pathSetupConfigPy    = "/usr/share/ovirt-engine/setup/ovirt_engine_setup/config.py"

	// Legacy (3.2).
	pathLegacySysconfig = "/etc/sysconfig/ovirt-engine"
	pathLegacyDefaults  = "/usr/share/ovirt-engine/conf/engine.conf.defaults"
	pathLegacyHTTPD     = "/etc/httpd/conf.d/ovirt-engine.conf"
)

// Times of the setup runs Build replays, fixed so that a host is the same
// every time it is built. An upgrade on New Year's night is unusual, but it
// gives otopi's copies a recognisable name
// (10-setup-database.conf.20240101000000).
const (
	tsFirstSetup  = "20160315102030"
	tsUpgrade     = "20240101000000"
	tsLegacySetup = "2013_04_22_14_05_31"
)
