package db

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ApplicationName is how our sessions (and pg_dump's) show in
// pg_stat_activity, so that an administrator can tell them apart.
const ApplicationName = "engine-cleanup"

// DefaultPort is used when a Target has no port.
const DefaultPort = 5432

// connectTimeout bounds one connection attempt (TCP, TLS and
// authentication), as libpq's connect_timeout does: an unreachable remote
// server must not hang the run until the context ends.
const connectTimeout = 15 * time.Second

// Target is one database and the credentials to reach it.
//
// It prints as user@host:port/db in every fmt verb, without its passwords,
// so it is safe to log; Password and AltPassword are records.Secret for the
// same reason.
type Target struct {
	// Host is a host name or address for TCP, or the directory of the
	// server's Unix socket when it starts with "/".
	Host string
	// Port is the TCP port, or the number in the socket's name; 0 means
	// DefaultPort.
	Port     int
	User     string
	Password records.Secret
	// AltPassword is another reading of the recorded password (see
	// records.DBCreds.AltPassword). Connect tries it when the server
	// rejects Password, and reports which one worked.
	AltPassword records.Secret
	Database    string
	// Secured asks for TLS: sslmode=require, which encrypts but does not
	// verify the server, as oVirt's NonValidatingFactory did. With
	// SecuredHostValidation too, sslmode=verify-full. Without Secured,
	// sslmode=prefer (libpq's default): TLS when the server offers it,
	// else plain, never verified. Unix sockets never use TLS.
	Secured               bool
	SecuredHostValidation bool
}

// TargetFromRecords turns credentials read from the setup records into a
// Target.
func TargetFromRecords(c records.DBCreds) Target {
	return Target{
		Host:                  c.Host,
		Port:                  c.Port,
		User:                  c.User,
		Password:              c.Password,
		AltPassword:           c.AltPassword,
		Database:              c.Database,
		Secured:               c.Secured,
		SecuredHostValidation: c.SecuredHostValidation,
	}
}

// String returns user@host:port/db; it never includes a password.
func (t Target) String() string {
	host := t.Host
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "/") {
		host = "[" + host + "]" // IPv6 literal
	}
	return fmt.Sprintf("%s@%s:%d/%s", t.User, host, t.port(), t.Database)
}

// Format routes every verb, %#v and %+v included, through String, so that
// no verb prints the fields one by one.
func (t Target) Format(f fmt.State, verb rune) { fmt.Fprint(f, t.String()) }

// GoString keeps %#v from printing fields.
func (t Target) GoString() string { return "db.Target(" + t.String() + ")" }

func (t Target) port() int {
	if t.Port == 0 {
		return DefaultPort
	}
	return t.Port
}

// socket reports whether the target is reached over a Unix socket.
func (t Target) socket() bool { return strings.HasPrefix(t.Host, "/") }

// SSLMode is the libpq sslmode the target is reached with (see Secured).
func (t Target) SSLMode() string {
	switch {
	case t.Secured && t.SecuredHostValidation:
		return "verify-full"
	case t.Secured:
		return "require"
	}
	return "prefer"
}

func (t Target) validate() error {
	var missing []string
	if t.Host == "" {
		missing = append(missing, "host")
	}
	if t.User == "" {
		missing = append(missing, "user")
	}
	if t.Database == "" {
		missing = append(missing, "database")
	}
	if len(missing) > 0 {
		return fmt.Errorf("database target %s has no %s: the setup records are incomplete", t, strings.Join(missing, ", "))
	}
	if t.Port < 0 || t.Port > 65535 {
		return fmt.Errorf("database target %s: port %d is not a port number", t, t.Port)
	}
	for _, s := range []string{t.Host, t.User, t.Database, t.Password.Reveal()} {
		if strings.IndexByte(s, 0) >= 0 {
			return fmt.Errorf("database target %s holds a NUL byte, which PostgreSQL cannot take: the setup records are damaged", t)
		}
	}
	return nil
}

// conninfo is the target as a libpq keyword/value string, without any
// password. Values are always quoted, so that a hostile record cannot add
// keywords.
func (t Target) conninfo() string {
	quote := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	kv := [][2]string{
		{"host", t.Host},
		{"port", strconv.Itoa(t.port())},
		{"user", t.User},
		{"dbname", t.Database},
		{"sslmode", t.SSLMode()},
	}
	var b strings.Builder
	for i, p := range kv {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s='%s'", p[0], quote.Replace(p[1]))
	}
	return b.String()
}

// connConfig builds the pgx configuration for password. params are extra
// run-time parameters sent in the startup packet (free: no round trip).
func (t Target) connConfig(password string, params map[string]string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfigWithOptions(t.conninfo(), pgx.ParseConfigOptions{
		ParseConfigOptions: pgconn.ParseConfigOptions{
			// Defence in depth: conninfo quotes every value, and only
			// these keys may ever appear in it.
			ConnStringAllowedKeys: []string{"host", "port", "user", "dbname", "sslmode"},
		},
	})
	if err != nil {
		// ParseConfigError quotes the connection string, which holds no
		// password.
		return nil, fmt.Errorf("database target %s: %w", t, err)
	}
	cfg.Password = password
	cfg.ConnectTimeout = connectTimeout
	// Replace whatever PGOPTIONS, PGAPPNAME or PGTZ in our environment
	// would add: the session must behave the same on every host.
	cfg.RuntimeParams = map[string]string{"application_name": ApplicationName}
	for k, v := range params {
		cfg.RuntimeParams[k] = v
	}
	// One round trip per query: no prepare step for catalog queries that
	// run once. Queries without arguments use the simple protocol anyway.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	return cfg, nil
}

// hostPort is host:port for messages about the server (no user, no db).
func (t Target) hostPort() string {
	if t.socket() {
		return fmt.Sprintf("socket %s/.s.PGSQL.%d", t.Host, t.port())
	}
	return net.JoinHostPort(t.Host, strconv.Itoa(t.port()))
}
