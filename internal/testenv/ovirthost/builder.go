package ovirthost

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/engine-cleanup/engine-cleanup/sdk/otopi"
)

// builder replays the history of one host into a state, then describes the
// result in a Host.
type builder struct {
	o  Options
	v  version
	st *state
	h  *Host

	org           string
	storePassword string
	ovnSecret     string
	ssoSecret     string

	runs      []*setupRun
	manifests []string
	userFiles []string
	preserved []string
	records   []string // records that no manifest lists
	passwords []string
	originals map[string]string // shared files before setup
}

// otopiStorePassword protects the keystores of otopi-era hosts. oVirt's
// default is "mypass"; this one exercises the escaping of 10-setup-pki.conf
// (", $, \, a space and #).
const otopiStorePassword = `St0re "pa$$\w0rd:k#1`

// legacyStorePassword is 3.2's CONST_KEY_PASS, which it never recorded
// outside engine.conf.defaults.
const legacyStorePassword = "mypass"

func newBuilder(root string, o Options) *builder {
	v := mustVersion(o.EngineVersion)
	b := &builder{
		o:         o,
		v:         v,
		st:        newState(root),
		org:       domainOf(o.FQDN),
		ovnSecret: fakeSecret("ovn:"+o.FQDN, 32),
		ssoSecret: fakeSecret("sso:"+o.FQDN, 32),
		originals: map[string]string{},
	}
	b.h = &Host{
		Root:             root,
		Opts:             o,
		LineEdits:        map[string]Edit{},
		KeptLineEdits:    map[string]Edit{},
		InstalledVersion: v.String(),
		recordedAdded:    map[string][]string{},
	}
	return b
}

// system puts the shared files as the distribution and the administrator
// left them before any setup.
func (b *builder) system() {
	b.h.pkg = packagesFor(b.o, b.v)
	b.h.pkg.install(b.st)
	for p, content := range map[string]string{
		pathSSLConf:        sslConfOriginal,
		pathYumVersionlock: versionlockOriginal,
		pathExports:        exportsOriginal,
	} {
		b.st.put(p, []byte(content), 0o644)
		b.originals[p] = content
	}
	b.st.put(pathNotes, []byte("Engine host of the lab cluster.\nDo not reboot during backups (02:00).\n"), 0o600)
	b.userFiles = append(b.userFiles, pathNotes)
}

func (b *builder) buildOtopi() error {
	b.system()
	b.st.put(pathCustomConf, []byte("# Local tuning, see OPS-4711.\nENGINE_HEAP_MIN=\"4g\"\nENGINE_HEAP_MAX=\"4g\"\n"), 0o644)
	b.userFiles = append(b.userFiles, pathCustomConf)
	if b.o.Engine == nil {
		return nil
	}
	b.storePassword = otopiStorePassword
	pki, err := buildPKI(pkiSpec{fqdn: b.o.FQDN, org: b.org, storePassword: b.storePassword, qemu: b.v.atLeast(4, 4)})
	if err != nil {
		return err
	}

	// A first setup, then an upgrade to the version asked for. Before 4.0
	// the upgrade is a respin of the same version (same post-install file,
	// new versionlock lines).
	first := b.v
	if b.v.atLeast(4, 0) {
		first = version{3, 6, 7}
	}
	a := newRun(b.st, first, tsFirstSetup)
	b.otopiRun(a, true, pki)
	u := newRun(b.st, b.v, tsUpgrade)
	if first == b.v {
		u.release = "2"
	}
	b.otopiRun(u, false, pki)

	b.afterOtopiSetup(pki)
	return nil
}

// otopiRun replays one engine-setup run, plugin by plugin, in the order
// otopi runs them, and ends with its manifest.
func (b *builder) otopiRun(r *setupRun, first bool, pki *pkiTree) {
	b.runs = append(b.runs, r)
	o := b.o
	v := r.version

	caPKI := r.group("ca_pki", "PKI keys", true)
	caConfig := r.group("ca_config", "PKI configuration", true)
	var isoG, exportfsG, dwhG, reportsG *fileGroup
	if !v.atLeast(4, 3) {
		isoG = r.group("iso_domain", "ISO domain layout", true)
		exportfsG = r.group("exportfs", "NFS exports configuration", true)
	}
	if o.DWH != nil {
		dwhG = r.group("ovirt_dwh_files", "DWH files", true)
	}
	if o.Reports != nil {
		reportsG = r.group("ovirt_reports_files", "Reports files", true)
	}

	// system/sysctl.py (3.x): only when shmmax was too low, which the
	// first run fixed for good.
	if first && !v.atLeast(4, 0) {
		r.writeText(pathOtopiSysctl, sysctlConf, 0o644, false, nil)
		r.unremovable = append(r.unremovable, pathOtopiSysctl)
	}

	// pki/ca.py: templates on every run, the CA and keystores once.
	caAIA := aiaURL(o.FQDN, "ca-certificate")
	r.writeText(pathPKIDir+"/cacert.template", caCertTemplate, 0o644, false, caPKI)
	r.writeText(pathPKIDir+"/cert.template", certTemplate(caAIA), 0o644, false, caPKI)
	if v.atLeast(4, 0) {
		r.writeText(pathPKIDir+"/cacert.conf", caCertTemplate, 0o644, false, caPKI)
		r.writeText(pathPKIDir+"/cert.conf", certTemplate(caAIA), 0o644, false, caPKI)
	}
	if first {
		b.enroll(r, pki, caPKI)
	}
	if v.atLeast(4, 4) && !b.st.exists(pathPKIDir+"/qemu-ca.pem") {
		qemuAIA := aiaURL(o.FQDN, "qemu-ca-certificate")
		r.writeText(pathPKIDir+"/qemu-cacert.template", caCertTemplate, 0o644, false, caPKI)
		r.writeText(pathPKIDir+"/qemu-cert.template", certTemplate(qemuAIA), 0o644, false, caPKI)
		r.writeText(pathPKIDir+"/qemu-cacert.conf", caCertTemplate, 0o644, false, caPKI)
		r.writeText(pathPKIDir+"/qemu-cert.conf", certTemplate(qemuAIA), 0o644, false, caPKI)
		r.write(pathPKIDir+"/qemu-ca.pem", pki.files["qemu-ca.pem"], 0o644, false, caPKI)
		r.write(pathPKIDir+"/private/qemu-ca.pem", pki.files["private/qemu-ca.pem"], 0o640, false, caPKI)
		b.st.put(pathPKIDir+"/certs/qemu-ca.der", pki.files["certs/qemu-ca.der"], 0o644)
	}

	// config/ca.py.
	r.writeText(pathPKIConf, pkiConf(b.storePassword), 0o640, true, caConfig)

	// config/database.py and the other engine configuration files, all
	// in otopi's MODIFIED_FILES.
	style := defaultStyle(v)
	if !first {
		// The file as the host has it now.
		style = o.PasswordStyle
	}
	dbMode := fs.FileMode(0o640) // root:ovirt since 4.0; the engine user's before
	if !v.atLeast(4, 0) {
		dbMode = 0o600
	}
	r.writeText(pathEngineDBConf, databaseConf(style, prefixEngine, *o.Engine), dbMode, true, nil)
	r.writeText(pathProtocolsConf, protocolsConf(o.FQDN), 0o644, false, nil)
	r.writeText(pathJBossConf, jbossConf(v), 0o644, false, nil)
	r.writeText(pathNotifierJBoss, jbossConf(v), 0o644, false, nil)
	r.writeText(pathJavaConf, javaConf, 0o644, false, nil)
	r.writeText(pathHTTPDProxy, proxyConf(), 0o644, false, nil)
	r.writeText(pathHTTPDRoot, rootRedirectTemplate, 0o644, false, nil)
	if v.atLeast(4, 0) {
		r.writeText(pathSSOConf, ssoConf(b.ssoSecret), 0o640, true, nil)
		r.writeText(pathAAAInternal, aaaInternalProperties(*o.Engine, jdbcURL(*o.Engine)), 0o600, true, nil)
		r.writeText(pathAuthn, authnProperties, 0o644, false, nil)
		r.writeText(pathAuthz, authzProperties, 0o644, false, nil)
		if o.DWH != nil {
			// ovirt-dwh core/dwh_database.py, since 2016.
			r.writeText(pathEngineDWHDBConf, databaseConf(style, prefixDWH, *o.DWH), 0o600, true, nil)
		}
	}

	// apache/ssl.py: only the first run finds ssl.conf unconfigured.
	if first {
		ssl := r.group("ssl", "Apache SSL configuration", true)
		cur, _ := b.st.get(pathSSLConf)
		lines, changes := editConfigContent(splitLines(string(cur)), [][2]string{
			{"SSLCertificateFile", pathPKIDir + "/certs/apache.cer"},
			{"SSLCertificateKeyFile", pathPKIDir + "/keys/apache.key.nopass"},
			{"SSLCACertificateFile", pathPKIDir + "/apache-ca.pem"},
		})
		r.writeLines(pathSSLConf, lines, 0o644, false, r.unrecorded)
		ssl.addLines(pathSSLConf, changes...)
		r.unremovable = append(r.unremovable, pathSSLConf)
		for _, c := range changes {
			b.h.recordedAdded[pathSSLConf] = append(b.h.recordedAdded[pathSSLConf], c.added)
		}
	}

	b.versionlock(r)

	// config/iso_domain.py and system/exportfs.py (until 4.3).
	if isoG != nil {
		r.unremovable = append(r.unremovable, pathExports)
		if first {
			b.isoDomain(r, isoG, exportfsG)
		}
	}

	// ovirt-dwh core/config.py, single_etl.py, scale.py.
	if dwhG != nil {
		dwhConf := databaseConf(style, prefixEngine, *o.Engine) + databaseConf(style, prefixDWH, *o.DWH)
		r.writeText(pathDWHDBConf, dwhConf, 0o600, true, dwhG)
		r.writeText(pathDWHUUIDConf, "DWH_UUID="+fakeUUID("dwh:"+o.FQDN), 0o644, false, dwhG)
		if v.atLeast(4, 0) {
			r.writeText(pathDWHScale, dwhScaleConf, 0o600, true, dwhG)
		}
	}

	// ovirt-engine-reports (3.x): its copy of the DWH credentials, the
	// proxy, and jasper's master.properties, which no group records.
	if reportsG != nil && first {
		r.writeText(pathReportsDBConf, reportsDWHConf(*o.DWH), 0o600, true, reportsG)
		r.writeText(pathHTTPDReports, strings.ReplaceAll(proxyConfTemplate, "@JBOSS_AJP_PORT@", "8704"), 0o644, false, reportsG)
		b.st.put(pathReportsMasterProperties, []byte(masterProperties(*o.Reports)), 0o600)
		b.records = append(b.records, pathReportsMasterProperties)
	}

	// core/postinstall.py, last of the run.
	r.write(pathPostInstall, answerFile("", b.postInstall(r, first)), 0o644, false, nil)

	// core/answerfile.py and the log, which nothing records.
	answers := path.Join(pathSetupAnswers, r.ts+"-setup.conf")
	b.st.put(answers, answerFile("", b.setupAnswers(r)), 0o600)
	log := path.Join(pathSetupLogs, fmt.Sprintf("ovirt-engine-setup-%s-%s.log", r.ts, fakeSecret("log:"+r.ts, 6)))
	b.st.put(log, []byte(setupLog(r)), 0o600)
	b.userFiles = append(b.userFiles, answers, log)

	if m := r.finish(); m != "" {
		b.manifests = append(b.manifests, m)
	}
	b.userFiles = append(b.userFiles, r.backups...)
}

// enroll is what pki/ca.py does on the first run: the CA, the keystores
// (recorded), the files the enrolment scripts leave (not recorded), the
// apache-ca.pem symlink and pki/ssh.py's engine_id_rsa.
func (b *builder) enroll(r *setupRun, pki *pkiTree, caPKI *fileGroup) {
	pk := func(rel string) string { return pathPKIDir + "/" + rel }
	// pki-create-ca.sh: the CA files it makes, of which ca.py records the
	// certificate, the key and the truststore.
	for _, rel := range []string{"certs/ca.der", "requests/ca.csr", "database.txt", "database.txt.attr", "serial.txt"} {
		b.st.put(pk(rel), pki.files[rel], 0o644)
	}
	for rel, data := range pki.files {
		if strings.HasPrefix(rel, "certs/") && strings.HasSuffix(rel, ".pem") {
			b.st.put(pk(rel), data, 0o644) // openssl ca's copy of each certificate
		}
	}
	b.st.put(pk("ca.pem"), pki.files["ca.pem"], 0o644)
	b.st.put(pk("private/ca.pem"), pki.files["private/ca.pem"], 0o640)
	b.st.put(pk(".truststore"), pki.files[".truststore"], 0o644)
	caPKI.files = append(caPKI.files, pk("ca.pem"), pk("private/ca.pem"), pk(".truststore"))

	b.st.symlink(pk("apache-ca.pem"), pk("ca.pem"))
	caPKI.files = append(caPKI.files, pk("apache-ca.pem"))

	for _, e := range otopiEntities() {
		// pki-enroll-pkcs12.sh: request, certificate, keystore.
		b.st.put(pk("requests/"+e.name+".req"), pki.files["requests/"+e.name+".req"], 0o644)
		b.st.put(pk("certs/"+e.name+".cer"), pki.files["certs/"+e.name+".cer"], 0o644)
		b.st.put(pk("keys/"+e.name+".p12"), pki.files["keys/"+e.name+".p12"], 0o600)
		caPKI.files = append(caPKI.files, pk("keys/"+e.name+".p12"))
		if e.extract {
			// _expandPKCS12 writes what openssl prints through
			// FileTransaction, which records both files and keeps the
			// script's certificate as certs/<name>.cer.<ts>.
			r.write(pk("certs/"+e.name+".cer"), pki.extracted["certs/"+e.name+".cer"], 0o644, false, caPKI)
			r.write(pk("keys/"+e.name+".key.nopass"), pki.extracted["keys/"+e.name+".key.nopass"], 0o600, false, caPKI)
		}
	}
	r.write(pk("keys/engine_id_rsa"), pki.files["keys/engine_id_rsa"], 0o600, true, nil)
}

// versionlock replays distro-rpm/packages.py VersionLockTransaction: the
// lines of the packages' older versions are filtered out (the file is
// renamed to <file>.<ts> first), the new "rpm -q" lines appended, and the
// added lines recorded; the file is unremovable.
func (b *builder) versionlock(r *setupRun) {
	g := r.group("versionlock", "YUM version locking configuration", false)
	names := []string{"ovirt-engine", "ovirt-engine-backend", "ovirt-engine-dbscripts", "ovirt-engine-restapi",
		"ovirt-engine-tools", "ovirt-engine-tools-backup", "ovirt-engine-webadmin-portal"}
	if b.o.DWH != nil {
		names = append(names, "ovirt-engine-dwh")
	}
	if b.o.Reports != nil && !r.version.atLeast(4, 0) {
		names = append(names, "ovirt-engine-reports")
	}
	slices.Sort(names)
	var lock []string
	for _, n := range names {
		lock = append(lock, fmt.Sprintf("%s-%s-%s.%s.noarch", n, r.version, r.release, rpmDist(r.version)))
	}
	cur, ok := b.st.files[pathYumVersionlock]
	if !ok {
		return
	}
	var kept []string
	filtered := false
	for _, l := range splitLines(string(cur.data)) {
		if slices.ContainsFunc(names, func(n string) bool { return strings.Contains(l, n) }) {
			filtered = true
			continue
		}
		if l != "" {
			kept = append(kept, l)
		}
	}
	if filtered {
		backup := pathYumVersionlock + "." + r.ts
		b.st.put(backup, cur.data, cur.mode)
		r.backups = append(r.backups, backup)
	}
	content := strings.Join(append(kept, lock...), "\n") + "\n"
	b.st.put(pathYumVersionlock, []byte(content), cur.mode)
	for _, l := range lock {
		g.addLines(pathYumVersionlock, added(l))
	}
	r.unremovable = append(r.unremovable, pathYumVersionlock)
	b.h.recordedAdded[pathYumVersionlock] = append(b.h.recordedAdded[pathYumVersionlock], lock...)
}

// isoDomain replays config/iso_domain.py _prepare_new_domain and
// system/exportfs.py on an EL6-style host without /etc/exports.d: the
// domain layout (recorded in iso_domain), and /etc/exports with the export
// line appended (the file recorded in exportfs, the line too).
func (b *builder) isoDomain(r *setupRun, isoG, exportfsG *fileGroup) {
	sd := fakeUUID("iso:" + b.o.FQDN)
	base := path.Join(pathISOExport, sd)
	b.st.dir(pathISOExport, 0o755)
	r.write(path.Join(base, "images", isoImagesUUID, ".keep"), nil, 0o644, false, isoG)
	for _, n := range []string{"ids", "inbox", "outbox"} {
		r.write(path.Join(base, "dom_md", n), nil, 0o660, false, isoG)
	}
	r.write(path.Join(base, "dom_md", "leases"), make([]byte, 512), 0o660, false, isoG)
	r.writeLines(path.Join(base, "dom_md", "metadata"), isoMetadata(b.o.FQDN, sd), 0o644, false, isoG)

	line := pathISOExport + "\t" + isoACL
	cur, _ := b.st.get(pathExports)
	r.writeLines(pathExports, append(splitLines(string(cur)), line), 0o644, false, exportfsG)
	exportfsG.addLines(pathExports, added(line))
	b.h.recordedAdded[pathExports] = append(b.h.recordedAdded[pathExports], line)
}

// postInstall is the environment core/postinstall.py writes: the keys
// marked postinstallfile=True that the run's version knows.
func (b *builder) postInstall(r *setupRun, first bool) otopi.Env {
	v := r.version
	o := b.o
	env := otopi.Env{
		"OVESETUP_CORE/generatedByVersion":   otopi.Str(v.String()),
		"OVESETUP_CONFIG/sanWipeAfterDelete": otopi.Bool(false),
		"OVESETUP_CONFIG/fqdn":               otopi.Str(o.FQDN),
		"OVESETUP_CONFIG/firewallManager":    otopi.None(),
		"OVESETUP_ENGINE_CORE/enable":        otopi.Bool(true),
		"OVESETUP_PKI/country":               otopi.Str("US"),
		"OVESETUP_PKI/organization":          otopi.Str(b.org),
		"OVESETUP_DWH_CORE/enable":           otopi.Bool(o.DWH != nil),
	}
	if o.Reports != nil || !v.atLeast(4, 0) {
		env["OVESETUP_REPORTS_CORE/enable"] = otopi.Bool(o.Reports != nil)
	}
	if v.atLeast(3, 6) {
		env["OVESETUP_CONFIG/websocketProxyConfig"] = otopi.Bool(true)
		env["OVESETUP_VMCONSOLE_PROXY_CONFIG/vmconsoleProxyConfig"] = otopi.Bool(true)
	}
	if v.atLeast(4, 0) {
		env["OVESETUP_CONFIG/adminUser"] = otopi.Str("admin@internal")
		env["OVESETUP_CONFIG/adminUserAuthzType"] = otopi.Str("ovirt-engine-extension-aaa-jdbc")
		env["OVESETUP_CONFIG/adminUserAuthzName"] = otopi.Str("internal-authz")
		env["OVESETUP_CONFIG/adminUserNamespace"] = otopi.Str("*")
		env["OVESETUP_CONFIG/adminUserId"] = otopi.Str(fakeUUID("admin:" + o.FQDN))
		if o.DWH != nil {
			env["OVESETUP_DWH_CONFIG/scale"] = otopi.Str("1")
			env["OVESETUP_DWH_CONFIG/remoteEngineConfigured"] = otopi.Bool(false)
		}
	}
	if v.atLeast(4, 2) {
		env["OVESETUP_OVN/ovirtProviderOvn"] = otopi.Bool(true)
		env["OVESETUP_OVN/ovirtProviderOvnId"] = otopi.Str(fakeUUID("ovn:" + o.FQDN))
	}
	if v.atLeast(4, 4) {
		env["OVESETUP_CL_DB/enable"] = otopi.Bool(false)
		env["OVESETUP_MB_DB/enable"] = otopi.Bool(false)
		env["OVESETUP_GRAFANA_CORE/enable"] = otopi.Bool(o.DWH != nil)
	}
	if v.atLeast(4, 5) {
		env["OVESETUP_ENGINE_CONFIG/fqdn"] = otopi.Str(o.FQDN)
	}
	if v.atLeastPatch(4, 5, 6) {
		env["OVESETUP_OVN/ovirtProviderOvnSecret"] = otopi.Str(b.ovnSecret)
	}
	// The ISO domain keys were written until 4.4 (commit 0b65dba removed
	// automatic ISO domain creation).
	if !v.atLeast(4, 5) {
		sd := fakeUUID("iso:" + o.FQDN)
		env["OVESETUP_SYSTEM/nfsConfigEnabled_legacyInPostInstall"] = otopi.Bool(true)
		env["OVESETUP_CONFIG/isoDomainExists"] = otopi.Bool(!first)
		env["OVESETUP_CONFIG/isoDomainMountPoint"] = otopi.Str(pathISOExport)
		env["OVESETUP_CONFIG/isoDomainName"] = otopi.Str("ISO_DOMAIN")
		env["OVESETUP_CONFIG/isoDomainSdUuid"] = otopi.Str(sd)
		env["OVESETUP_CONFIG/isoDomainStorageDir"] = otopi.Str(path.Join(pathISOExport, sd, "images", isoImagesUUID))
	}
	return env
}

// setupAnswers is the answer file engine-setup leaves for the run: it
// holds the database passwords in clear, as the real ones do.
func (b *builder) setupAnswers(r *setupRun) otopi.Env {
	o := b.o
	env := otopi.Env{
		"OVESETUP_CONFIG/fqdn":            otopi.Str(o.FQDN),
		"OVESETUP_ENGINE_CORE/enable":     otopi.Bool(true),
		"OVESETUP_PKI/organization":       otopi.Str(b.org),
		"OVESETUP_CORE/engineStop":        otopi.None(),
		"OVESETUP_DIALOG/confirmSettings": otopi.Bool(true),
		"OVESETUP_DWH_CORE/enable":        otopi.Bool(o.DWH != nil),
	}
	addDB := func(section string, db DB) {
		env[section+"/host"] = otopi.Str(db.Host)
		env[section+"/port"] = otopi.Int(int64(db.Port))
		env[section+"/user"] = otopi.Str(db.User)
		env[section+"/password"] = otopi.Str(db.Password)
		env[section+"/database"] = otopi.Str(db.Database)
		env[section+"/secured"] = otopi.Bool(db.Secured)
		env[section+"/securedHostValidation"] = otopi.Bool(false)
	}
	addDB("OVESETUP_DB", *o.Engine)
	if o.DWH != nil {
		addDB("OVESETUP_DWH_DB", *o.DWH)
	}
	if o.Reports != nil && !r.version.atLeast(4, 0) {
		addDB("OVESETUP_REPORTS_DB", *o.Reports)
	}
	return env
}

// setupLog is the head of an otopi log: secrets appear filtered, as otopi
// writes them.
func setupLog(r *setupRun) string {
	day := r.ts[0:4] + "-" + r.ts[4:6] + "-" + r.ts[6:8] + " " + r.ts[8:10] + ":" + r.ts[10:12] + ":" + r.ts[12:14]
	return fmt.Sprintf(`%[1]s DEBUG otopi.context context._executeMethod:127 Stage boot METHOD otopi.plugins.otopi.dialog.human.Plugin._init
%[1]s DEBUG otopi.context context.dumpEnvironment:775 ENV OVESETUP_CORE/generatedByVersion=NoneType:'None'
%[1]s DEBUG otopi.context context.dumpEnvironment:775 ENV OVESETUP_DB/password=str:'**FILTERED**'
%[1]s INFO otopi.plugins.ovirt_engine_setup.ovirt_engine.core.misc misc._closeup:165 Execution of setup completed successfully
`, day)
}

// afterOtopiSetup is what happened on the host after the last run: the
// engine enrolled a host, the administrator uploaded an ISO image and
// changed the proxy configuration, and the upgrade left its database
// backups.
func (b *builder) afterOtopiSetup(pki *pkiTree) {
	pk := func(rel string) string { return pathPKIDir + "/" + rel }
	b.st.put(pk(pki.hostCert), pki.files[pki.hostCert], 0o644)
	b.st.put(pk(pki.hostReq), pki.files[pki.hostReq], 0o644)

	if len(b.st.under(pathISOExport)) > 0 {
		sd := fakeUUID("iso:" + b.o.FQDN)
		b.st.put(path.Join(pathISOExport, sd, "images", isoImagesUUID, "virtio-win.iso"), isoImage(), 0o644)
	}

	cur, _ := b.st.get(pathHTTPDProxy)
	b.st.put(pathHTTPDProxy, append(cur[:len(cur):len(cur)], proxyConfAdminChange...), 0o644)
	b.h.ChangedFiles = append(b.h.ChangedFiles, pathHTTPDProxy)

	rnd := fakeSecret("dump:"+b.o.FQDN, 8)
	dump := path.Join(pathEngineBackups, fmt.Sprintf("%s-%s.%s%s", dumpPrefixEngine, tsUpgrade, rnd, dumpSuffix))
	b.st.put(dump, pgDump(b.o.Engine.Database), 0o600)
	b.userFiles = append(b.userFiles, dump)
	if b.o.DWH != nil {
		d := path.Join(pathDWHBackups, fmt.Sprintf("%s-%s.%s%s", dumpPrefixDWH, tsUpgrade, rnd, dumpSuffix))
		b.st.put(d, pgDump(b.o.DWH.Database), 0o600)
		b.userFiles = append(b.userFiles, d)
	}
}

func (v version) atLeastPatch(major, minor, patch int) bool {
	return v.atLeast(major, minor+1) || v[0] == major && v[1] == minor && v[2] >= patch
}
