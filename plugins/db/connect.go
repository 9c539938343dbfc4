package db

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Connect opens a session on the target: over TCP, or over the Unix socket
// when Host is a directory; with t.SSLMode(); application_name
// engine-cleanup; within a connect timeout of 15 s.
//
// When the server rejects Password (SQLSTATE 28P01) and AltPassword is set,
// Connect tries AltPassword. It returns the target as it connected: t
// itself, or, when AltPassword was accepted, t with AltPassword moved to
// Password (so that later connections and pg_dump use it directly); use
// AltPasswordUsed to tell.
//
// Failures are *ConnectError (see ErrUnreachable and friends); the error
// names the database and never holds a password.
func Connect(ctx context.Context, t Target) (*pgx.Conn, Target, error) {
	return connect(ctx, t, nil)
}

// AltPasswordUsed reports whether connected, as returned by Connect for
// recorded, used the alternative reading of the password.
func AltPasswordUsed(recorded, connected Target) bool {
	return connected.Password != recorded.Password
}

func connect(ctx context.Context, t Target, params map[string]string) (*pgx.Conn, Target, error) {
	if err := t.validate(); err != nil {
		return nil, t, err
	}
	conn, err := connectWith(ctx, t, t.Password.Reveal(), params)
	if err == nil {
		return conn, t, nil
	}
	if sqlState(err) != codeInvalidPassword || t.AltPassword.IsZero() || t.AltPassword == t.Password {
		return nil, t, classify(ctx, t, err)
	}
	conn, altErr := connectWith(ctx, t, t.AltPassword.Reveal(), params)
	if altErr != nil {
		// Report the first failure: it is about the password the
		// records hold as such.
		return nil, t, classify(ctx, t, err)
	}
	used := t
	used.Password, used.AltPassword = t.AltPassword, ""
	return conn, used, nil
}

func connectWith(ctx context.Context, t Target, password string, params map[string]string) (*pgx.Conn, error) {
	cfg, err := t.connConfig(password, params)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return conn, nil
}

// closeQuietly closes conn with its own short deadline: the caller's
// context may be cancelled already, and a close must not hang on a dead
// server.
func closeQuietly(conn *pgx.Conn) {
	if conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	_ = conn.Close(ctx)
}
