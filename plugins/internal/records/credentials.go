package records

import (
	"fmt"
	"strconv"
	"strings"
)

// DBCreds are the credentials of one database as engine-setup recorded them.
// It prints without the password in every fmt verb; Password and
// AltPassword are Secrets and marshal as a mask.
type DBCreds struct {
	Host     string
	Port     int
	User     string
	Password Secret
	// AltPassword is set only when the recorded password holds a " or a $
	// that oVirt 4.0 and later wrote unescaped (its writer escapes only :
	// and \). oVirt's reader, and Password, then see something else than
	// the password setup was given; AltPassword is that password, undoing
	// the writer's escaping literally. Try it only when Password is
	// rejected: the engine itself connected with Password, if at all.
	AltPassword           Secret
	Database              string
	Secured               bool
	SecuredHostValidation bool
	// Source is where the password was recorded.
	Source Location
}

func (c DBCreds) String() string {
	ssl := "off"
	if c.Secured {
		ssl = "on, host name not verified"
		if c.SecuredHostValidation {
			ssl = "on, host name verified"
		}
	}
	pw := "none"
	if !c.Password.IsZero() {
		pw = Mask
	}
	return fmt.Sprintf("%s@%s:%d/%s (password %s, ssl %s, from %s)", c.User, c.Host, c.Port, c.Database, pw, ssl, c.Source)
}

// Format routes every verb through String, so that no verb prints the
// fields one by one.
func (c DBCreds) Format(f fmt.State, verb rune) { fmt.Fprint(f, c.String()) }

// DatabaseCredentials extracts <prefix>_DB_HOST, _PORT, _USER, _PASSWORD,
// _DATABASE, _SECURED and _SECURED_VALIDATION from cfg (prefix is
// PrefixEngine or PrefixDWH).
//
// As in oVirt, a missing or empty password means that no database is
// recorded: the error wraps ErrNotConfigured and the caller should skip the
// database. Once a password is there, the other keys are required and must
// be well formed; a missing or malformed key is a *SyntaxError naming the
// file and, for a malformed one, the line.
func DatabaseCredentials(cfg *Config, prefix string) (DBCreds, error) {
	if prefix == "" || strings.IndexFunc(prefix, func(r rune) bool {
		return !(r == '_' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z')
	}) >= 0 {
		return DBCreds{}, fmt.Errorf("database key prefix %q is not of the form ENGINE or DWH", prefix)
	}
	key := func(s string) string { return prefix + "_DB_" + s }

	pwKey := key("PASSWORD")
	pw, pwAt, ok := cfg.Lookup(pwKey)
	if !ok {
		return DBCreds{}, fmt.Errorf("%s: %s is not set, so no %s database is recorded: %w",
			strings.Join(cfg.Files(), ", "), pwKey, prefix, ErrNotConfigured)
	}
	if pw == "" {
		return DBCreds{}, fmt.Errorf("%s: %s is empty, so no %s database is recorded: %w", pwAt, pwKey, prefix, ErrNotConfigured)
	}
	creds := DBCreds{Password: Secret(pw), Source: pwAt}
	if alt, ok := masterWriterPassword(cfg.raw(pwKey)); ok && alt != pw {
		creds.AltPassword = Secret(alt)
	}

	required := func(name string) (string, Location, error) {
		k := key(name)
		v, at, ok := cfg.Lookup(k)
		if !ok {
			return "", at, syntaxErr(pwAt.File, 0, "%s is missing although %s is set on line %d; engine-setup writes them together, so the file was edited or truncated: add %s or restore the file from a backup",
				k, pwKey, pwAt.Line, k)
		}
		if v == "" {
			return "", at, syntaxErr(at.File, at.Line, "%s is empty; set it to the value engine-setup used, or restore the file from a backup", k)
		}
		if hasControl(v) {
			return "", at, syntaxErr(at.File, at.Line, "%s contains a control character (a line break or a terminal escape); engine-setup never writes one: correct it or restore the file from a backup", k)
		}
		return v, at, nil
	}
	var err error
	if creds.Host, _, err = required("HOST"); err != nil {
		return DBCreds{}, err
	}
	if creds.User, _, err = required("USER"); err != nil {
		return DBCreds{}, err
	}
	if creds.Database, _, err = required("DATABASE"); err != nil {
		return DBCreds{}, err
	}
	port, portAt, err := required("PORT")
	if err != nil {
		return DBCreds{}, err
	}
	if creds.Port, err = parsePort(port); err != nil {
		return DBCreds{}, syntaxErr(portAt.File, portAt.Line, "%s %s %v; correct it to the port of the database server", key("PORT"), quoteShort(port), err)
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"SECURED", &creds.Secured}, {"SECURED_VALIDATION", &creds.SecuredHostValidation}} {
		v, at, ok := cfg.Lookup(key(b.name))
		if !ok {
			continue // absent means false, as in oVirt
		}
		if *b.dst, ok = parseBool(v); !ok {
			return DBCreds{}, syntaxErr(at.File, at.Line, "%s %s is neither true (True, yes, y, t, 1) nor false (False, no, n, f, 0); correct it", key(b.name), quoteShort(v))
		}
	}
	return creds, nil
}

func parsePort(s string) (int, error) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("is not a port number (1-65535)")
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("is not a port number (1-65535)")
	}
	return n, nil
}

// parseBool accepts what oVirt's getboolean treats as true, and as false
// what Python's str(bool) and common spellings give; anything else is a
// damaged record rather than a silent false.
func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "t", "true", "y", "yes", "1":
		return true, true
	case "", "f", "false", "n", "no", "0":
		return false, true
	}
	return false, false
}

// masterWriterPassword inverts the writer of oVirt 4.0 and later
// (engine_common/database.py getDBConfig), which renders a password as
// "<password with : and \ backslash-escaped>". It reports false when raw
// cannot have come from that writer.
func masterWriterPassword(raw string) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		if inner[i] == '\\' {
			if i+1 >= len(inner) || (inner[i+1] != ':' && inner[i+1] != '\\') {
				return "", false
			}
			i++
		}
		b.WriteByte(inner[i])
	}
	return b.String(), true
}

// hasControl reports whether s holds a control character: host, user and
// database names are printed for the administrator, and a record must not
// be able to forge console lines or terminal escapes.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) })
}
