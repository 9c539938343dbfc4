package ovirthost

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// Contents of the files that are not records: shared system files before
// setup touched them, setup's templates and rendered configuration, and
// the files the packages own. They are excerpts of the real files, long
// enough to look and parse like them.

// sslConfOriginal is an excerpt of mod_ssl's /etc/httpd/conf.d/ssl.conf on
// EL7/EL8, with the three directives setup edits.
const sslConfOriginal = `#
# When we also provide SSL we have to listen to the 
# standard HTTPS port in addition.
#
Listen 443 https

SSLPassPhraseDialog exec:/usr/libexec/httpd-ssl-pass-dialog
SSLSessionCache         shmcb:/run/httpd/sslcache(512000)
SSLSessionCacheTimeout  300
SSLCryptoDevice builtin

<VirtualHost _default_:443>

ErrorLog logs/ssl_error_log
TransferLog logs/ssl_access_log
LogLevel warn

SSLEngine on
SSLHonorCipherOrder on
SSLCipherSuite PROFILE=SYSTEM
SSLProxyCipherSuite PROFILE=SYSTEM

#   Server Certificate:
# Point SSLCertificateFile at a PEM encoded certificate.  If
# the certificate is encrypted, then you will be prompted for a
# pass phrase.
SSLCertificateFile /etc/pki/tls/certs/localhost.crt

#   Server Private Key:
SSLCertificateKeyFile /etc/pki/tls/private/localhost.key

#   Certificate Authority (CA):
#SSLCACertificateFile /etc/pki/tls/certs/ca-bundle.crt

<FilesMatch "\.(cgi|shtml|phtml|php)$">
    SSLOptions +StdEnvVars
</FilesMatch>

BrowserMatch "MSIE [2-5]" \
         nokeepalive ssl-unclean-shutdown \
         downgrade-1.0 force-response-1.0

CustomLog logs/ssl_request_log \
          "%t %h %{SSL_PROTOCOL}x %{SSL_CIPHER}x \"%r\" %b"

</VirtualHost>
`

// versionlockOriginal holds a lock of the administrator's own, which
// neither setup nor rpm may touch.
const versionlockOriginal = "0:kernel-4.18.0-553.el8_10.*\n"

// exportsOriginal holds an export of the administrator's own.
const exportsOriginal = "/srv/nfs/share\t192.168.122.0/24(ro,sync)\n"

const proxyConfTemplate = `LoadModule proxy_ajp_module modules/mod_proxy_ajp.so

<IfModule !headers_module>
    LoadModule headers_module modules/mod_headers.so
</IfModule>

#
# This is needed to make sure that connections to the application server
# are recovered in a short time interval (5 seconds at the moment)
# otherwise when the application server is restarted the web server will
# refuse to connect during 60 seconds.
#
<Proxy ajp://127.0.0.1:@JBOSS_AJP_PORT@>
    # This is needed to make sure that connections to the application server
    # are recovered in a short time interval (5 seconds at the moment)
    ProxySet timeout=3600 retry=5
</Proxy>

<LocationMatch ^/(ovirt-engine($|/)|RHEVManagerWeb/|OvirtEngineWeb/|ca.crt$|engine.ssh.key.txt$|rhevm.ssh.key.txt$)>
    ProxyPassMatch ajp://127.0.0.1:@JBOSS_AJP_PORT@ timeout=3600 retry=5

    <IfModule deflate_module>
        AddOutputFilterByType DEFLATE text/javascript text/css text/html text/xml text/json application/xml application/json application/x-yaml
    </IfModule>
</LocationMatch>
`

func proxyConf() string { return strings.ReplaceAll(proxyConfTemplate, "@JBOSS_AJP_PORT@", "8702") }

// proxyConfAdminChange is what the administrator added after setup.
const proxyConfAdminChange = "\n# Large ISO uploads time out after an hour (OPS-4711).\nProxyTimeout 7200\n"

const rootRedirectTemplate = `<IfModule !proxy_module>
    LoadModule proxy_module modules/mod_proxy.so
</IfModule>

RedirectMatch ^/$ /ovirt-engine/
`

func jbossConf(v version) string {
	home := "/usr/share/ovirt-engine-wildfly"
	if !v.atLeast(4, 0) {
		home = "/usr/share/ovirt-engine-jboss-as"
	}
	return fmt.Sprintf("JBOSS_HOME=\"%s\"\n", home)
}

const javaConf = "ENGINE_HEAP_MIN=\"1985M\"\nENGINE_HEAP_MAX=\"1985M\"\n"

const authnProperties = `ovirt.engine.extension.name = internal-authn
ovirt.engine.extension.bindings.method = jbossmodule
ovirt.engine.extension.binding.jbossmodule.module = org.ovirt.engine.extension.aaa.jdbc
ovirt.engine.extension.binding.jbossmodule.class = org.ovirt.engine.extension.aaa.jdbc.binding.api.AuthnExtension
ovirt.engine.extension.provides = org.ovirt.engine.api.extensions.aaa.Authn
ovirt.engine.aaa.authn.profile.name = internal
ovirt.engine.aaa.authn.authz.plugin = internal-authz
config.datasource.file = /etc/ovirt-engine/aaa/internal.properties
`

const authzProperties = `ovirt.engine.extension.name = internal-authz
ovirt.engine.extension.bindings.method = jbossmodule
ovirt.engine.extension.binding.jbossmodule.module = org.ovirt.engine.extension.aaa.jdbc
ovirt.engine.extension.binding.jbossmodule.class = org.ovirt.engine.extension.aaa.jdbc.binding.api.AuthzExtension
ovirt.engine.extension.provides = org.ovirt.engine.api.extensions.aaa.Authz
config.datasource.file = /etc/ovirt-engine/aaa/internal.properties
`

// dwhScaleConf is the basic scale of ovirt-dwh's core/scale.py.
const dwhScaleConf = `DWH_TABLES_KEEP_SAMPLES=24
DWH_TABLES_KEEP_HOURLY=720
DWH_TABLES_KEEP_DAILY=0
`

// sysctlConf is what 3.x setup wrote when shmmax was too low for
// PostgreSQL (system/sysctl.py); it is also listed as unremovable.
const sysctlConf = "# ovirt-engine configuration.\nkernel.shmmax = 68719476736\n"

const legacySysctlConf = "kernel.shmmax=35554432\n"

// certTemplate and caCertTemplate are packaging/pki/*.template.in with
// @AIA@ filled in, as ca.py _update_templates writes them.
func certTemplate(aia string) string {
	return `RANDFILE = .rnd

[req]

default_bits = rsa:2048
default_keyfile = keys/cert.pem
distinguished_name = req_distinguished_name
attributes = req_attributes
x509_extensions = v3_ca

[req_attributes]

[v3_ca]

subjectKeyIdentifier = hash
authorityInfoAccess = caIssuers;URI:` + aia + `
authorityKeyIdentifier = keyid:always,issuer:always
basicConstraints = CA:false
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = critical,serverAuth,clientAuth

[req_distinguished_name]
`
}

const caCertTemplate = `RANDFILE = .rnd

[req]

default_bits = rsa:2048
default_keyfile = keys/ca.pem
distinguished_name = req_distinguished_name
attributes = req_attributes
x509_extensions = v3_ca

[req_attributes]

[v3_ca]

subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always,issuer:always
basicConstraints = critical,CA:true
keyUsage = critical,cRLSign,keyCertSign

[req_distinguished_name]
`

const opensslConf = `RANDFILE = .rnd
unique_subject = no

[ca]

default_ca = CA_default

[CA_default]

certs = certs
crl_dir = crl
database = database.txt
new_certs_dir = certs

certificate = ca.pem
serial = serial.txt
crl = crl.pem
private_key = private/ca.pem
RANDFILE = private/private.rnd

default_days = 365
default_crl_days = 30
default_md = sha256
preserve = no

policy = policy_match

[policy_match]

countryName = optional
stateOrProvinceName = optional
organizationName = optional
organizationalUnitName = optional
commonName = optional
emailAddress = optional
`

func aiaURL(fqdn, resource string) string {
	return fmt.Sprintf("http://%s:80/ovirt-engine/services/pki-resource?resource=%s&format=X509-PEM-CA", fqdn, resource)
}

// isoMetadata is config/iso_domain.py _generate_md_content: sorted
// KEY=value lines and their SHA-1.
func isoMetadata(fqdn, sdUUID string) []string {
	md := map[string]string{
		"CLASS": "Iso", "DESCRIPTION": "ISO_DOMAIN", "IOOPTIMEOUTSEC": "1", "LEASERETRIES": "3",
		"LEASETIMESEC": "5", "LOCKPOLICY": "", "LOCKRENEWALINTERVALSEC": "5", "POOL_UUID": "",
		"REMOTE_PATH": fqdn + ":" + pathISOExport, "ROLE": "Regular", "SDUUID": sdUUID, "TYPE": "NFS",
		"VERSION": "0", "MASTER_VERSION": "0",
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var lines []string
	for _, k := range keys {
		lines = append(lines, k+"="+md[k])
	}
	sum := sha1.Sum([]byte(strings.Join(lines, "")))
	return append(lines, "_SHA_CKSUM="+hex.EncodeToString(sum[:]))
}

// isoImage is a small file that starts like an ISO 9660 image: what the
// administrator uploaded to the ISO domain.
func isoImage() []byte {
	b := make([]byte, 36*1024)
	for i := range b {
		b[i] = byte(i * 7)
	}
	copy(b[32768:], "\x01CD001\x01\x00")
	copy(b[32808:], "VIRTIO_WIN")
	return b
}

// pgDump looks like the start of a pg_dump custom-format archive.
func pgDump(db string) []byte {
	return []byte("PGDMP\x01\x0e\x00\x04\x08\x01\x01\x01\x00\x00\x00\x00\x00" + db + strings.Repeat("\x00toc", 64))
}

// fakeUUID derives a version 4 UUID from seed, so that a host is the same
// every time it is built.
func fakeUUID(seed string) string {
	s := sha256.Sum256([]byte(seed))
	s[6] = s[6]&0x0f | 0x40
	s[8] = s[8]&0x3f | 0x80
	h := hex.EncodeToString(s[:16])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// fakeSecret derives a printable secret from seed.
func fakeSecret(seed string, n int) string {
	s := sha256.Sum256([]byte(seed))
	out := base64.RawURLEncoding.EncodeToString(s[:])
	for len(out) < n {
		out += out
	}
	return out[:n]
}

// rpmDist is the distribution tag of a release's packages.
func rpmDist(v version) string {
	switch {
	case v.atLeast(4, 4):
		return "el8"
	case v.atLeast(3, 6):
		return "el7.centos"
	}
	return "el6"
}

// engineDefaults is an excerpt of packaging/services/ovirt-engine/
// ovirt-engine.conf.in, the rpm-owned first layer of the engine's
// configuration, for version v.
func engineDefaults(v version) string {
	return fmt.Sprintf(`#
# Please do not edit this file directly. It will be overwritten by upgrades.
# Edit or add files under /etc/ovirt-engine/engine.conf.d instead. See the file
# README there for details.
#
# These are the default values for the local configuration.
#

#
# Package information
#
PACKAGE_NAME="ovirt-engine"
PACKAGE_VERSION="%[1]s"
PACKAGE_DISPLAY_VERSION="%[1]s-1.%[2]s"

#
# Comma separated list of keys
# not to be logged.
#
SENSITIVE_KEYS=""

#
# The location of the application server used by the engine:
#
JBOSS_HOME="/usr/share/ovirt-engine-wildfly"
JBOSS_RUNTIME="/var/lib/ovirt-engine/jboss_runtime"

#
# Important directories used by the engine:
#
ENGINE_ETC="/etc/ovirt-engine"
ENGINE_PKI="/etc/pki/ovirt-engine"
ENGINE_LOG="/var/log/ovirt-engine"
ENGINE_TMP="/var/tmp/ovirt-engine"
ENGINE_USR="/usr/share/ovirt-engine"
ENGINE_DOC="/usr/share/doc/ovirt-engine"
ENGINE_VAR="/var/lib/ovirt-engine"
ENGINE_CACHE="/var/cache/ovirt-engine"
ENGINE_MANUAL="${ENGINE_USR}/manual"

#
# PKI
#
ENGINE_PKI_CA="${ENGINE_PKI}/ca.pem"
ENGINE_PKI_ENGINE_CERT="${ENGINE_PKI}/certs/engine.cer"
ENGINE_PKI_TRUST_STORE_TYPE="PKCS12"
ENGINE_PKI_TRUST_STORE="${ENGINE_PKI}/.truststore"
ENGINE_PKI_TRUST_STORE_PASSWORD=
ENGINE_PKI_ENGINE_STORE_TYPE="PKCS12"
ENGINE_PKI_ENGINE_STORE="${ENGINE_PKI}/keys/engine.p12"
ENGINE_PKI_ENGINE_STORE_PASSWORD=
ENGINE_PKI_ENGINE_STORE_ALIAS="1"

#
# Database
#
SENSITIVE_KEYS="${SENSITIVE_KEYS},ENGINE_DB_PASSWORD"
ENGINE_DB_HOST="localhost"
ENGINE_DB_PORT="5432"
ENGINE_DB_USER="engine"
ENGINE_DB_PASSWORD=
ENGINE_DB_DATABASE="engine"
ENGINE_DB_SECURED="False"
ENGINE_DB_SECURED_VALIDATION="False"
ENGINE_DB_DRIVER=org.postgresql.Driver
ENGINE_DB_URL="jdbc:postgresql://${ENGINE_DB_HOST}:${ENGINE_DB_PORT}/${ENGINE_DB_DATABASE}?sslfactory=org.postgresql.ssl.NonValidatingFactory"

SENSITIVE_KEYS="${SENSITIVE_KEYS},DWH_DB_PASSWORD"
DWH_DB_HOST="localhost"
DWH_DB_PORT="5432"
DWH_DB_USER=engine_history
DWH_DB_PASSWORD=
DWH_DB_DATABASE=ovirt_engine_history
DWH_DB_SECURED="False"
DWH_DB_SECURED_VALIDATION="False"
DWH_DB_DRIVER="org.postgresql.Driver"
DWH_DB_URL="jdbc:postgresql://${DWH_DB_HOST}:${DWH_DB_PORT}/${DWH_DB_DATABASE}?sslfactory=org.postgresql.ssl.NonValidatingFactory"
`, v, rpmDist(v))
}

// dwhDefaults is an excerpt of ovirt-dwh's ovirt-engine-dwhd.conf.in.
func dwhDefaults(v version) string {
	return fmt.Sprintf(`#
# Please do not edit this file directly. It will be overwritten by upgrades.
#
DWH_VERSION="%s"

SENSITIVE_KEYS="${SENSITIVE_KEYS},DWH_DB_PASSWORD,ENGINE_DB_PASSWORD"
DWH_DB_HOST="localhost"
DWH_DB_PORT="5432"
DWH_DB_USER=engine_history
DWH_DB_PASSWORD=
DWH_DB_DATABASE=ovirt_engine_history
DWH_DB_SECURED="False"
DWH_DB_SECURED_VALIDATION="False"
DWH_DB_DRIVER="org.postgresql.Driver"
DWH_DB_URL="jdbc:postgresql://${DWH_DB_HOST}:${DWH_DB_PORT}/${DWH_DB_DATABASE}?sslfactory=org.postgresql.ssl.NonValidatingFactory"

ENGINE_DB_HOST="localhost"
ENGINE_DB_PORT="5432"
ENGINE_DB_USER="engine"
ENGINE_DB_PASSWORD=
ENGINE_DB_DATABASE="engine"
ENGINE_DB_SECURED="False"
ENGINE_DB_SECURED_VALIDATION="False"
ENGINE_DB_DRIVER="org.postgresql.Driver"
ENGINE_DB_URL="jdbc:postgresql://${ENGINE_DB_HOST}:${ENGINE_DB_PORT}/${ENGINE_DB_DATABASE}?sslfactory=org.postgresql.ssl.NonValidatingFactory"
`, v)
}

const reportsDefaults = `#
# Please do not edit this file directly. It will be overwritten by upgrades.
#
REPORTS_VERSION="3.6.5"
JBOSS_HOME="/usr/share/ovirt-engine-jboss-as"
REPORTS_STATE="/var/lib/ovirt-engine-reports"
`

// setupConfigPy is packaging/setup/ovirt_engine_setup/config.py.in as
// installed: where engine-setup, and engine-cleanup's version guard, read
// the package version.
func setupConfigPy(v version) string {
	return fmt.Sprintf(`#
# ovirt-engine-setup -- ovirt engine setup
#
# Copyright oVirt Authors
# SPDX-License-Identifier: Apache-2.0
#
#


"""Config."""

ENGINE_SYSCONFDIR = '/etc/ovirt-engine'
SETUP_LOG = '/var/log/ovirt-engine/setup'
ENGINE_SETUP_CONFIG = '/etc/ovirt-engine-setup.conf'
SETUP_DATADIR = '/usr/share/ovirt-engine/setup'
SETUP_LOCALSTATEDIR = '/var/lib/ovirt-engine/setup'
PACKAGE_NAME = 'ovirt-engine'
PACKAGE_VERSION = '%[1]s'
DISPLAY_VERSION = '%[1]s-1.%[2]s'
RPM_VERSION = '%[1]s'
RPM_RELEASE = '1.%[2]s'
BIR_DIR = '/usr/bin'
`, v, rpmDist(v))
}

func unitFile(description, execStart string) string {
	return fmt.Sprintf(`[Unit]
Description=%s
After=network.target postgresql.service

[Service]
Type=notify
User=ovirt
Group=ovirt
LimitNOFILE=65535
ExecStart=%s
EnvironmentFile=-/etc/sysconfig/ovirt-engine
KillMode=process

[Install]
WantedBy=multi-user.target
`, description, execStart)
}

func script(body string) string { return "#!/bin/sh\n" + body + "\n" }

// legacyDefaults is an excerpt of 3.2's engine.conf.defaults.in.
func legacyDefaults(v version) string {
	return fmt.Sprintf(`#
# These are the default values for the local configuration.
#
# Please don't change the values in this file, instead copy them to
# /etc/sysconfig/ovirt-engine and change them there.
#
PACKAGE_VERSION=%s
JBOSS_HOME=/usr/share/jboss-as
ENGINE_ETC=/etc/ovirt-engine
ENGINE_PKI=/etc/pki/ovirt-engine
ENGINE_LOG=/var/log/ovirt-engine
ENGINE_USR=/usr/share/ovirt-engine
ENGINE_VAR=/var/lib/ovirt-engine
ENGINE_CACHE=/var/cache/ovirt-engine
ENGINE_PKI_TRUST_STORE=${ENGINE_PKI}/.truststore
ENGINE_PKI_TRUST_STORE_PASSWORD=mypass
ENGINE_PKI_ENGINE_STORE=${ENGINE_PKI}/keys/engine.p12
ENGINE_PKI_ENGINE_STORE_PASSWORD=mypass
ENGINE_PKI_ENGINE_STORE_ALIAS=1
ENGINE_DB_DRIVER=org.postgresql.Driver
ENGINE_DB_URL=jdbc:postgresql://localhost:5432/engine
ENGINE_DB_USER=engine
ENGINE_DB_PASSWORD=
`, v)
}

// legacySysconfigOriginal is 3.2's packaging/fedora/engine-service.sysconfig.
const legacySysconfigOriginal = `#
# For descriptions of the parameters and their default values look
# at the /usr/share/ovirt-engine/conf/engine.conf.defaults file.
#
# Please note that the engine installation tool engine-setup will
# append the modified parameters to the end of this file.
#
`

// legacySysconfig is the file after 3.2's editEngineSysconfig and
// configEncryptedPass (TextConfigFileHandler.editParam appends missing
// keys in the order they are set).
func legacySysconfig(db DB, fqdn, encryptedPassword string) string {
	return legacySysconfigOriginal + fmt.Sprintf(`JAVA_HOME=/usr/lib/jvm/jre-1.7.0-openjdk.x86_64
ENGINE_DB_DRIVER=org.postgresql.Driver
ENGINE_DB_URL=jdbc:postgresql://%s:%d/%s
ENGINE_DB_USER=%s
ENGINE_FQDN=%s
ENGINE_PROXY_ENABLED=true
ENGINE_PROXY_HTTP_PORT=80
ENGINE_PROXY_HTTPS_PORT=443
ENGINE_HTTP_ENABLED=false
ENGINE_HTTPS_ENABLED=false
ENGINE_AJP_ENABLED=true
ENGINE_AJP_PORT=8702
ENGINE_DB_PASSWORD=%s
`, db.Host, db.Port, db.Database, db.User, fqdn, encryptedPassword)
}

// legacyEncryptedPassword stands in for the output of 3.2's
// encryptpwd.sh (a keystore-encrypted, base64 password): not the password,
// but a secret all the same.
func legacyEncryptedPassword(pw string) string {
	s := sha256.Sum256([]byte("ovirt-engine-3.2-encryptpwd:" + pw))
	return base64.StdEncoding.EncodeToString(append(s[:], s[:]...))
}
