package dialog

import (
	"errors"
	"fmt"
	"strings"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// errInvalid marks an answer that does not fit its question; the error text
// says what is accepted.
var errInvalid = errors.New("invalid answer")

// invalidError is an answer that does not fit its question.
type invalidError struct {
	value  string // already quoted and shortened; empty for secrets
	hint   string // what is accepted, e.g. "answer Yes or No"
	empty  bool
	secret bool
}

func (e *invalidError) Error() string {
	switch {
	case e.empty:
		return "empty value: " + e.hint
	case e.secret:
		return "invalid value: " + e.hint
	}
	return "invalid value " + e.value + ": " + e.hint
}

func (e *invalidError) Unwrap() error { return errInvalid }

// line renders the error for the terminal.
func (e *invalidError) line() string {
	if e.empty {
		return "An answer is required: " + e.hint
	}
	s := e.Error()
	return strings.ToUpper(s[:1]) + s[1:]
}

// maxShown bounds how much of a bad answer is repeated back, so a garbage
// stream does not flood the terminal.
const maxShown = 40

func quote(raw string) string {
	r := []rune(raw)
	if len(r) > maxShown {
		return fmt.Sprintf("%q...", string(r[:maxShown]))
	}
	return fmt.Sprintf("%q", raw)
}

// Normalize validates an answer coming from a flag or an answer file
// against q and returns its canonical form: "true" or "false" for yes-no
// and approval questions, the declared spelling for a choice, the text
// unchanged for text and passwords. Matching is case-insensitive and
// ignores surrounding blanks. The error says what is accepted; it never
// repeats a password.
func Normalize(q sdk.Question, raw string) (string, error) {
	v := strings.TrimSpace(raw)
	switch q.Type {
	case sdk.YesNo:
		switch strings.ToLower(v) {
		case "yes", "y", "true":
			return "true", nil
		case "no", "n", "false":
			return "false", nil
		}
	case sdk.Approval:
		switch strings.ToLower(v) {
		case "ok", "yes", "y", "true":
			return "true", nil
		case "cancel", "no", "n", "false":
			return "false", nil
		}
	case sdk.Choice:
		if len(q.Choices) == 0 {
			return "", fmt.Errorf("question %s: choice question without choices", name(q))
		}
		for _, c := range q.Choices {
			if strings.EqualFold(v, c) {
				return c, nil
			}
		}
	case sdk.Text, sdk.Password:
		return raw, nil
	default:
		return "", fmt.Errorf("question %s: unknown question type %q", name(q), q.Type)
	}
	return "", &invalidError{value: quote(raw), hint: hint(q), empty: v == ""}
}

// hint says what q accepts.
func hint(q sdk.Question) string {
	switch q.Type {
	case sdk.YesNo:
		return "answer Yes or No"
	case sdk.Approval:
		return "answer OK or Cancel"
	case sdk.Choice:
		return "answer one of " + strings.Join(q.Choices, ", ")
	case sdk.Password:
		return "enter a password"
	}
	return "enter a value"
}

// name identifies q in error messages.
func name(q sdk.Question) string {
	if q.Key != "" {
		return q.Key
	}
	return fmt.Sprintf("%q", q.Prompt)
}

// checkQuestion rejects a question that cannot be asked: an unknown type, a
// choice without choices, or a default its own type does not accept.
func checkQuestion(q sdk.Question) error {
	if _, err := Normalize(q, ""); err != nil && !errors.Is(err, errInvalid) {
		return err
	}
	if q.Default == "" || q.Type == sdk.Text || q.Type == sdk.Password {
		return nil
	}
	if _, err := Normalize(q, q.Default); err != nil {
		return fmt.Errorf("question %s: default %q: %w", name(q), q.Default, err)
	}
	return nil
}

// options renders the part of the prompt that lists the accepted answers and
// the default, e.g. " (Yes, No) [Yes]". Password defaults are never shown.
func options(q sdk.Question) string {
	var b strings.Builder
	def := q.Default
	switch q.Type {
	case sdk.YesNo:
		b.WriteString(" (Yes, No)")
		def = boolLabel(q, "Yes", "No")
	case sdk.Approval:
		b.WriteString(" (OK, Cancel)")
		def = boolLabel(q, "OK", "Cancel")
	case sdk.Choice:
		b.WriteString(" (" + strings.Join(q.Choices, ", ") + ")")
		if c, err := Normalize(q, def); err == nil {
			def = c
		}
	case sdk.Password:
		def = ""
	}
	if def != "" {
		b.WriteString(" [" + def + "]")
	}
	return b.String()
}

func boolLabel(q sdk.Question, yes, no string) string {
	if q.Default == "" {
		return ""
	}
	v, err := Normalize(q, q.Default)
	if err != nil {
		return ""
	}
	if v == "true" {
		return yes
	}
	return no
}
