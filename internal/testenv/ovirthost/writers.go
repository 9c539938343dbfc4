package ovirthost

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/engine-cleanup/engine-cleanup/sdk/otopi"
)

// The functions in this file mirror oVirt's own writers of the records,
// byte for byte, so that the records package reads here exactly what it
// reads on a real host. They reproduce oVirt's quirks on purpose (4.0's
// writer leaves " and $ unescaped; legacy .pgpass lines are not escaped at
// all). plugins/internal/records/writers_test.go holds the reference copy
// of the database writers; these are kept in step with it.

// pyEscape is ovirt_engine.util.escape: a backslash before each of chars.
func pyEscape(s, chars string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(chars, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// databaseConf renders <prefix>_DB_* as engine-setup wrote them, by
// writer:
//
//   - StyleMaster mirrors engine_common/database.py getDBConfig (oVirt 4.0
//     to master, also used by ovirt-dwh): every value quoted, the password
//     escaped with escape(password, ':\\'), the URL spelled out;
//   - Style36 mirrors ovirt-engine/config/database.py of 3.6: every value
//     quoted, the password escaped with escape(password, '"\\$'), the URL
//     spelled out;
//   - Style34 mirrors the same file in 3.4 and 3.5: as Style36 but the URL
//     built from ${...} references;
//   - Style330 mirrors ovirt-engine-setup/config/database.py of 3.3.0: only
//     the password quoted, escaped as in Style36, the URL from references.
//
// plugins/internal/records/writers_test.go renders StyleMaster and
// Style330 the same way.
func databaseConf(style, prefix string, db DB) string {
	// SECURED_VALIDATION is never set by Build: oVirt's default.
	var opts []string
	if db.Secured {
		opts = append(opts, "ssl=true")
	}
	opts = append(opts, "sslfactory=org.postgresql.ssl.NonValidatingFactory")
	url := fmt.Sprintf("jdbc:postgresql://%s:%d/%s?%s", db.Host, db.Port, db.Database, strings.Join(opts, "&"))
	refURL := fmt.Sprintf("jdbc:postgresql://${%[1]s_DB_HOST}:${%[1]s_DB_PORT}/${%[1]s_DB_DATABASE}?%[2]s", prefix, strings.Join(opts, "&"))
	quoted := func(password, url string) string {
		return fmt.Sprintf(`%[1]s_DB_HOST="%[2]s"
%[1]s_DB_PORT="%[3]d"
%[1]s_DB_USER="%[4]s"
%[1]s_DB_PASSWORD="%[5]s"
%[1]s_DB_DATABASE="%[6]s"
%[1]s_DB_SECURED="%[7]s"
%[1]s_DB_SECURED_VALIDATION="%[8]s"
%[1]s_DB_DRIVER="org.postgresql.Driver"
%[1]s_DB_URL="%[9]s"
`, prefix, db.Host, db.Port, db.User, password, db.Database, pyBool(db.Secured), pyBool(false), url)
	}
	switch style {
	case StyleMaster:
		return quoted(pyEscape(db.Password, `:\`), url)
	case Style36:
		return quoted(pyEscape(db.Password, `"\$`), url)
	case Style34:
		return quoted(pyEscape(db.Password, `"\$`), refURL)
	case Style330:
		// 3.3.0 joined "ssl=true" and "&sslfactory=..." without looking,
		// hence "?&sslfactory" on an unsecured connection.
		tls := ""
		if db.Secured {
			tls = "ssl=true"
		}
		tls += "&sslfactory=org.postgresql.ssl.NonValidatingFactory"
		return fmt.Sprintf(`%[1]s_DB_HOST=%[2]s
%[1]s_DB_PORT=%[3]d
%[1]s_DB_USER=%[4]s
%[1]s_DB_PASSWORD="%[5]s"
%[1]s_DB_DATABASE=%[6]s
%[1]s_DB_SECURED=%[7]s
%[1]s_DB_SECURED_VALIDATION=%[8]s
%[1]s_DB_DRIVER=org.postgresql.Driver
%[1]s_DB_URL=jdbc:postgresql://${%[1]s_DB_HOST}:${%[1]s_DB_PORT}/${%[1]s_DB_DATABASE}?%[9]s
`, prefix, db.Host, db.Port, db.User, pyEscape(db.Password, `"\$`), db.Database,
			pyBool(db.Secured), pyBool(false), tls)
	}
	panic("ovirthost: unknown writer style " + style)
}

// reportsDWHConf mirrors ovirt-engine-reports/config/database.py: the
// Reports server's copy of the DWH credentials, DWH_DB_* quoted, the
// password escaped with escape(password, '"\\$'), no driver or URL.
func reportsDWHConf(db DB) string {
	return fmt.Sprintf(`DWH_DB_HOST="%s"
DWH_DB_PORT="%d"
DWH_DB_USER="%s"
DWH_DB_PASSWORD="%s"
DWH_DB_DATABASE="%s"
DWH_DB_SECURED="%s"
DWH_DB_SECURED_VALIDATION="%s"
`, db.Host, db.Port, db.User, pyEscape(db.Password, `"\$`), db.Database, pyBool(db.Secured), pyBool(false))
}

// masterProperties mirrors ovirt-reports' packaging/conf/
// jasper-master.properties.in as jasper/deploy.py fills it in: the values
// substituted as they are, without escaping.
func masterProperties(db DB) string {
	return fmt.Sprintf(`# File locations
reportsHome=/var/lib/ovirt-engine-reports
reportsWar=${reportsHome}/ovirt-engine-reports.war
currentConf=${reportsHome}/build-conf
appServerDir=${reportsHome}

appServerType=jboss7

# database type
dbType=postgresql

# database location and connection settings
dbHost=%s
dbPort=%d
dbUsername=%s
dbPassword=%s
js.dbName=%s

# web app name
# (set one of these to deploy to a non-default war file name)
webAppNameCE=ovirt-engine-reports
webAppNamePro=ovirt-engine-reports

# Database
maven.jdbc.groupId=postgresql
maven.jdbc.artifactId=postgresql
maven.jdbc.version=9.2-1002.jdbc4
deployJDBCDriver=false
`, db.Host, db.Port, db.User, db.Password, db.Database)
}

// pkiConf mirrors ovirt-engine-setup/ovirt-engine/config/ca.py: the store
// passwords escaped with escape(password, '"\\$') and quoted.
func pkiConf(storePassword string) string {
	pw := pyEscape(storePassword, `"\$`)
	return `ENGINE_PKI="/etc/pki/ovirt-engine"
ENGINE_PKI_CA="/etc/pki/ovirt-engine/ca.pem"
ENGINE_PKI_ENGINE_CERT="/etc/pki/ovirt-engine/certs/engine.cer"
ENGINE_PKI_TRUST_STORE="/etc/pki/ovirt-engine/.truststore"
ENGINE_PKI_TRUST_STORE_PASSWORD="` + pw + `"
ENGINE_PKI_ENGINE_STORE="/etc/pki/ovirt-engine/keys/engine.p12"
ENGINE_PKI_ENGINE_STORE_PASSWORD="` + pw + `"
ENGINE_PKI_ENGINE_STORE_ALIAS="1"
ENGINE_HTTPS_PKI_TRUST_STORE="${ENGINE_PKI_TRUST_STORE}"
ENGINE_HTTPS_PKI_TRUST_STORE_PASSWORD="${ENGINE_PKI_TRUST_STORE_PASSWORD}"
`
}

// protocolsConf mirrors ovirt-engine-setup/ovirt-engine/config/protocols.py
// for the default, proxied layout.
func protocolsConf(fqdn string) string {
	return fmt.Sprintf(`ENGINE_FQDN=%s
ENGINE_PROXY_ENABLED=true
ENGINE_PROXY_HTTP_PORT=80
ENGINE_PROXY_HTTPS_PORT=443
ENGINE_AJP_ENABLED=true
ENGINE_AJP_PORT=8702
ENGINE_HTTP_ENABLED=false
ENGINE_HTTPS_ENABLED=false
ENGINE_HTTP_PORT=8080
ENGINE_HTTPS_PORT=8443
`, fqdn)
}

// ssoConf mirrors ovirt-engine-setup/ovirt-engine/config/sso.py.
func ssoConf(clientSecret string) string {
	return `ENGINE_SSO_CLIENT_ID="ovirt-engine-core"
ENGINE_SSO_CLIENT_SECRET="` + clientSecret + `"
ENGINE_SSO_AUTH_URL="https://${ENGINE_FQDN}:443/ovirt-engine/sso"
ENGINE_SSO_SERVICE_URL="https://${ENGINE_FQDN}:443/ovirt-engine/sso"
ENGINE_SSO_SERVICE_SSL_VERIFY_HOST=false
ENGINE_SSO_SERVICE_SSL_VERIFY_CHAIN=true
SSO_ALTERNATE_ENGINE_FQDNS=""
SSO_ENGINE_URL="https://${ENGINE_FQDN}:443/ovirt-engine/"
`
}

// aaaInternalProperties mirrors ovirt-engine-setup/ovirt-engine/config/
// aaajdbc.py _setupAuth: the password escaped with escape(password,
// '"\\$') although the file is a Java properties file.
func aaaInternalProperties(db DB, jdbcURL string) string {
	return fmt.Sprintf(`config.datasource.jdbcurl=%s
config.datasource.dbuser=%s
config.datasource.dbpassword=%s
config.datasource.jdbcdriver=org.postgresql.Driver
config.datasource.schemaname=aaa_jdbc
`, jdbcURL, db.User, pyEscape(db.Password, `"\$`))
}

// jdbcURL is database.py getJdbcUrl.
func jdbcURL(db DB) string {
	opts := []string{}
	if db.Secured {
		opts = append(opts, "ssl=true")
	}
	opts = append(opts, "sslfactory=org.postgresql.ssl.NonValidatingFactory")
	return fmt.Sprintf("jdbc:postgresql://%s:%d/%s?%s", db.Host, db.Port, db.Database, strings.Join(opts, "&"))
}

// legacyPgpass mirrors engine-setup.py _createDbPassFile of 3.2 for a
// local database: the 3.2 markers, an admin line and the engine line, the
// fields substituted into "hostname:port:database:username:password"
// without escaping. The admin line carries the engine password: local 3.2
// installs set the postgres password to the same one.
func legacyPgpass(db DB) string {
	line := func(user string) string {
		return fmt.Sprintf("%s:%d:*:%s:%s", db.Host, db.Port, user, db.Password)
	}
	return "# This section was created during oVirt Engine setup.\n" +
		"# DO NOT CHANGE IT MANUALLY - OTHER UTILITIES AND TOOLS DEPEND ON ITS STRUCTURE.\n" +
		"# Beginning of the oVirt Engine DB settings section\n" +
		"# DB ADMIN credentials.\n" +
		line("postgres") + "\n" +
		"# DB USER credentials.\n" +
		line(db.User) + "\n" +
		"#####  End of oVirt Engine DB settings section.\n"
}

// answerFile renders an otopi environment file with sdk/otopi, the format
// of the post-install file and of setup's answer files. otopi itself
// writes keys in the order of their definitions; Write sorts them, which
// readers cannot tell apart.
func answerFile(header string, env otopi.Env) []byte {
	var b bytes.Buffer
	if err := otopi.Write(&b, header, env); err != nil {
		panic(fmt.Sprintf("ovirthost: writing an otopi environment file: %v", err))
	}
	return b.Bytes()
}
