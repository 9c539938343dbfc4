// Package exitcode is the one place that knows the product's exit codes and
// turns errors into them.
package exitcode

import (
	"context"
	"errors"
)

// The exit codes of SPEC §3. Scripts depend on them: never renumber.
const (
	OK          = 0
	Failed      = 1
	Usage       = 2
	Refused     = 3
	Aborted     = 4
	Interrupted = 130
)

// Error is an error that decides the exit code. Its message is meant for
// the administrator.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New wraps err with an exit code.
func New(code int, err error) *Error { return &Error{Code: code, Err: err} }

// Of returns the exit code for err: its own code when it carries one,
// Interrupted for a cancelled context, Failed otherwise, OK for nil.
func Of(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, context.Canceled) {
		return Interrupted
	}
	return Failed
}
