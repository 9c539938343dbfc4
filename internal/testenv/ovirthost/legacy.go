package ovirthost

import (
	"io/fs"
	"path"
	"strings"
)

// buildLegacy replays a 3.2 engine-setup (packaging/fedora/setup/
// engine-setup.py): no manifest and no post-install file; what setup did
// is known only from the .pgpass block, the fixed PKI list and the files'
// names.
func (b *builder) buildLegacy() error {
	b.system()
	if b.o.Engine == nil {
		return nil
	}
	db := *b.o.Engine
	b.storePassword = legacyStorePassword
	pki, err := buildPKI(pkiSpec{fqdn: b.o.FQDN, org: b.org, storePassword: b.storePassword, legacy: true})
	if err != nil {
		return err
	}

	// _createDbPassFile, 0600.
	b.st.put(pathLegacyPgpass, []byte(legacyPgpass(db)), 0o600)
	b.records = append(b.records, pathLegacyPgpass)

	// editEngineSysconfig and configEncryptedPass append to the rpm's
	// %config file.
	encrypted := legacyEncryptedPassword(db.Password)
	b.st.put(pathLegacySysconfig, []byte(legacySysconfig(db, b.o.FQDN, encrypted)), 0o644)
	b.passwords = append(b.passwords, encrypted)

	// installCA.sh and _createCA: CA, keystores, extracted keys, the
	// relative apache-ca.pem link.
	pk := func(rel string) string { return pathPKIDir + "/" + rel }
	for rel, data := range pki.files {
		if rel == "certs/ca.der" {
			continue // a later otopi addition
		}
		mode := fs.FileMode(0o644)
		switch {
		case strings.HasPrefix(rel, "private/"):
			mode = 0o640
		case strings.HasPrefix(rel, "keys/") || rel == ".keystore":
			mode = 0o600
		}
		b.st.put(pk(rel), data, mode)
	}
	b.st.put(pk("keys/apache.key.nopass"), pki.extracted["keys/apache.key.nopass"], 0o600)
	b.st.put(pk("keys/engine_id_rsa"), pki.extracted["keys/engine.key.nopass"], 0o600)
	b.st.symlink(pk("apache-ca.pem"), "ca.pem")
	b.st.put(pk(pki.hostCert), pki.files[pki.hostCert], 0o644)
	b.st.put(pk(pki.hostReq), pki.files[pki.hostReq], 0o644)

	// _configureSysctl: the shmmax PostgreSQL needs (BZ 1026926: keep it).
	b.st.put(pathLegacySysctl, []byte(legacySysctlConf), 0o644)
	// _redirectUrl: the proxy configuration from the template.
	b.st.put(pathLegacyHTTPD, []byte(proxyConf()), 0o644)
	// _configureHttpdSslKeys: TextConfigFileHandler.editParam replaces
	// the values in place and appends what is missing; nothing records it.
	ssl, _ := b.st.get(pathSSLConf)
	edited := strings.NewReplacer(
		"SSLCertificateFile /etc/pki/tls/certs/localhost.crt", "SSLCertificateFile "+pk("certs/apache.cer"),
		"SSLCertificateKeyFile /etc/pki/tls/private/localhost.key", "SSLCertificateKeyFile "+pk("keys/apache.key.nopass"),
	).Replace(string(ssl)) + "SSLCertificateChainFile " + pk("apache-ca.pem") + "\n"
	b.st.put(pathSSLConf, []byte(edited), 0o644)
	b.preserved = append(b.preserved, pathLegacySysctl, pathLegacySysconfig, pathLegacyHTTPD, pathSSLConf)

	// RPM_LOCK_LIST, appended.
	vl, _ := b.st.get(pathYumVersionlock)
	var lock strings.Builder
	lock.Write(vl)
	for _, n := range []string{"ovirt-engine", "ovirt-engine-backend", "ovirt-engine-config", "ovirt-engine-dbscripts",
		"ovirt-engine-genericapi", "ovirt-engine-notification-service", "ovirt-engine-restapi", "ovirt-engine-tools-common",
		"ovirt-engine-userportal", "ovirt-engine-webadmin-portal"} {
		lock.WriteString(n + "-" + b.v.String() + "-4.fc18.noarch\n")
	}
	b.st.put(pathYumVersionlock, []byte(lock.String()), 0o644)
	b.preserved = append(b.preserved, pathYumVersionlock)

	// _configNfsShare: the ISO domain and its export line.
	sd := fakeUUID("iso:" + b.o.FQDN)
	base := path.Join(pathISOExport, sd)
	b.st.dir(pathISOExport, 0o755)
	b.st.put(path.Join(base, "images", isoImagesUUID, ".keep"), nil, 0o644)
	for _, n := range []string{"ids", "inbox", "outbox"} {
		b.st.put(path.Join(base, "dom_md", n), nil, 0o660)
	}
	b.st.put(path.Join(base, "dom_md", "leases"), make([]byte, 512), 0o660)
	b.st.put(path.Join(base, "dom_md", "metadata"), []byte(strings.Join(isoMetadata(b.o.FQDN, sd), "\n")+"\n"), 0o644)
	b.st.put(path.Join(base, "images", isoImagesUUID, "virtio-win.iso"), isoImage(), 0o644)
	exports, _ := b.st.get(pathExports)
	b.st.put(pathExports, append(exports[:len(exports):len(exports)], pathISOExport+"\t"+isoACL+"\n"...), 0o644)
	b.h.KeptLineEdits[pathExports] = Edit{Original: []byte(b.originals[pathExports])}

	// An older upgrade's plain SQL backup, and the setup log.
	dump := path.Join(pathLegacyBackups, "ovirt-engine_db_backup_"+tsLegacySetup+".sql")
	b.st.put(dump, []byte("--\n-- PostgreSQL database dump\n--\n\nSET client_encoding = 'UTF8';\n"), 0o600)
	log := path.Join(pathLegacyLogs, "engine-setup_"+tsLegacySetup+".log")
	b.st.put(log, []byte("2013-04-22 14:05:31::DEBUG::engine-setup::1941::root:: Entered main(configFile=None)\n"), 0o600)
	b.userFiles = append(b.userFiles, dump, log)

	b.passwords = append(b.passwords, legacyStorePassword)
	return nil
}
