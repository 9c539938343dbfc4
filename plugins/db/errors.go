package db

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Kinds of connection failure; a *ConnectError matches one of them with
// errors.Is when the cause is known.
var (
	// ErrUnreachable: no server answered at the address (refused, timed
	// out, unknown host, server starting up or shutting down).
	ErrUnreachable = errors.New("database server unreachable")
	// ErrAuthentication: the server rejected the credentials or has no
	// pg_hba.conf entry for this client (SQLSTATE 28P01, 28000).
	ErrAuthentication = errors.New("authentication failed")
	// ErrDatabaseMissing: the server has no such database (SQLSTATE
	// 3D000), e.g. because it was dropped already.
	ErrDatabaseMissing = errors.New("database does not exist")
	// ErrPermission: the role may not connect to the database (SQLSTATE
	// 42501, no CONNECT privilege).
	ErrPermission = errors.New("permission denied")
	// ErrTLS: the secured connection failed its certificate checks.
	ErrTLS = errors.New("secure connection failed")
)

// SQLSTATE codes the package acts on.
const (
	codeInvalidPassword       = "28P01"
	codeInvalidAuthorization  = "28000"
	codeInvalidCatalogName    = "3D000"
	codeInsufficientPrivilege = "42501"
	codeCannotConnectNow      = "57P03"
	codeOutOfMemory           = "53200" // out of shared memory: the lock table is full
	codeLockNotAvailable      = "55P03" // lock_timeout expired
)

// ConnectError is a failure to connect to a database.
type ConnectError struct {
	// Target is user@host:port/db.
	Target string
	// Kind is ErrUnreachable, ErrAuthentication, ErrDatabaseMissing,
	// ErrPermission, ErrTLS, or nil when the cause is something else.
	Kind error
	// Err is the underlying error (a *pgconn.PgError for errors the
	// server reported). It never holds a password.
	Err error
	// Remedy says what the administrator can do.
	Remedy string
}

func (e *ConnectError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "connecting to database %s: ", e.Target)
	if e.Kind != nil {
		b.WriteString(e.Kind.Error())
		b.WriteString(": ")
	}
	b.WriteString(describe(e.Err))
	if e.Remedy != "" {
		b.WriteString("; ")
		b.WriteString(e.Remedy)
	}
	return b.String()
}

// Unwrap exposes both the kind and the cause to errors.Is and errors.As.
func (e *ConnectError) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// classify turns an error from pgx.ConnectConfig into a *ConnectError.
// A cancelled or expired caller context is returned as is (wrapped), not
// blamed on the server.
func classify(ctx context.Context, t Target, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("connecting to database %s: %w", t, ctx.Err())
	}
	e := &ConnectError{Target: t.String(), Err: cause(err)}
	var pgErr *pgconn.PgError
	var netErr net.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &pgErr):
		switch pgErr.Code {
		case codeInvalidPassword, codeInvalidAuthorization:
			e.Kind = ErrAuthentication
			e.Remedy = "check the password recorded for this database and the server's pg_hba.conf"
		case codeInvalidCatalogName:
			e.Kind = ErrDatabaseMissing
			e.Remedy = "if it was dropped already there is nothing to back up or clear; otherwise correct the database name in the setup records"
		case codeInsufficientPrivilege:
			e.Kind = ErrPermission
			e.Remedy = "grant the role the CONNECT privilege on the database (as its owner or a superuser), or clear it by hand"
		case codeCannotConnectNow:
			e.Kind = ErrUnreachable
			e.Remedy = "the server is starting up, shutting down or in recovery: run again once it accepts connections"
		default:
			e.Remedy = "see the server's log for details"
		}
	case errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &certErr):
		e.Kind = ErrTLS
		e.Remedy = "the setup records ask for a verified TLS connection: install the CA of the server's certificate (~/.postgresql/root.crt or PGSSLROOTCERT) or correct the host name"
	case errors.As(err, &dnsErr), errors.As(err, &opErr), errors.As(err, &netErr), pgconn.Timeout(err),
		errors.Is(err, context.DeadlineExceeded):
		e.Kind = ErrUnreachable
		e.Remedy = fmt.Sprintf("check that PostgreSQL runs at %s and accepts connections from this host (listen_addresses, firewall)", t.hostPort())
	}
	return e
}

// cause strips pgconn's ConnectError, whose text repeats the user and
// database we already name, down to what went wrong.
func cause(err error) error {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) && ce.Unwrap() != nil {
		return ce.Unwrap()
	}
	return err
}

// describe renders a server error with its detail and hint, which pgx's
// Error() leaves out.
func describe(err error) string {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		// pgconn puts one line per attempt (TLS, then plain, per
		// address); the same failure twice says nothing more.
		var lines []string
		for _, l := range strings.Split(err.Error(), "\n") {
			if l = strings.TrimSpace(l); l != "" && !slices.Contains(lines, l) {
				lines = append(lines, l)
			}
		}
		return strings.Join(lines, "; ")
	}
	s := fmt.Sprintf("%s: %s (SQLSTATE %s)", pgErr.Severity, pgErr.Message, pgErr.Code)
	if pgErr.Detail != "" {
		s += "; detail: " + pgErr.Detail
	}
	if pgErr.Hint != "" {
		s += "; hint: " + pgErr.Hint
	}
	return s
}

// serverError shows a server error with its detail and hint, which the
// error of pgx leaves out, and unwraps to it (errors.As *pgconn.PgError).
type serverError struct{ err error }

func (e serverError) Error() string { return describe(e.err) }
func (e serverError) Unwrap() error { return e.err }

// withDetail wraps err in serverError when it is itself a server error;
// other errors keep their own text (and context).
func withDetail(err error) error {
	if _, ok := err.(*pgconn.PgError); ok {
		return serverError{err}
	}
	return err
}

// sqlState returns the SQLSTATE of a server error, or "".
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// SessionsError means Clear refused because other sessions are connected
// to the database and the role may not terminate them. Nothing was
// changed.
type SessionsError struct {
	Target   string
	Role     string
	Sessions []Session
}

func (e *SessionsError) Error() string {
	list := make([]string, len(e.Sessions))
	for i, s := range e.Sessions {
		list[i] = s.String()
	}
	return fmt.Sprintf("clearing database %s: %d other session(s) are connected and role %s may not terminate them: %s; "+
		"nothing was changed: stop the programs behind them, or have a superuser terminate them "+
		"(SELECT pg_terminate_backend(pid)) or grant pg_signal_backend to %s, then run again",
		e.Target, len(e.Sessions), e.Role, strings.Join(list, "; "), e.Role)
}

// DependentsError means Clear refused because objects that the role does
// not own depend on objects it owns, so dropping the role's objects would
// drop or change them too. Nothing was changed.
type DependentsError struct {
	Target     string
	Role       string
	Dependents []Dependent
}

func (e *DependentsError) Error() string {
	list := make([]string, 0, len(e.Dependents))
	for i, d := range e.Dependents {
		if i == 20 {
			list = append(list, fmt.Sprintf("and %d more", len(e.Dependents)-i))
			break
		}
		list = append(list, d.String())
	}
	return fmt.Sprintf("clearing database %s: objects of other roles depend on objects of %s, and clearing would drop or change them: %s; "+
		"nothing was changed: drop them or give them to %s (ALTER ... OWNER TO), as their owner or a superuser, then run again",
		e.Target, e.Role, strings.Join(list, "; "), e.Role)
}

// LeftoversError means Clear ran but the catalogs still show objects owned
// by the role.
type LeftoversError struct {
	Target  string
	Role    string
	Objects []Object
}

func (e *LeftoversError) Error() string {
	list := make([]string, 0, len(e.Objects))
	for i, o := range e.Objects {
		if i == 20 {
			list = append(list, fmt.Sprintf("and %d more", len(e.Objects)-i))
			break
		}
		list = append(list, o.String())
	}
	return fmt.Sprintf("clearing database %s: %d object(s) owned by %s remain: %s; "+
		"drop them by hand (psql as %s, or DROP OWNED BY %s as a superuser) and run again",
		e.Target, len(e.Objects), e.Role, strings.Join(list, "; "), e.Role, e.Role)
}
