package records

import "fmt"

// Mask is what a Secret prints as; it matches sdk.Mask.
const Mask = "********"

// Secret is a password read from a record. It prints as Mask in every fmt
// verb (including %#v and %x), in JSON and in any text encoding, so that
// logging a struct that holds one cannot leak it. Reveal returns the
// plaintext for the one place that needs it (a 0600 pgpass file, a
// connection config).
type Secret string

// Reveal returns the plaintext.
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether no password was recorded.
func (s Secret) IsZero() bool { return s == "" }

func (s Secret) String() string   { return s.masked() }
func (s Secret) GoString() string { return fmt.Sprintf("records.Secret(%q)", s.masked()) }

// Format covers the verbs that would otherwise bypass String (%d, %x on
// the underlying string).
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, s.masked())
}

// MarshalText makes encoding/json, slog and friends print the mask.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.masked()), nil }

func (s Secret) masked() string {
	if s == "" {
		return ""
	}
	return Mask
}
