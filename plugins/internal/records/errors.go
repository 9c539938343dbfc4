package records

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinels, for errors.Is. They are wrapped by *SyntaxError or by errors
// that say which file and line they concern.
var (
	// ErrNotConfigured means a record exists but says that nothing of this
	// kind was set up (no ENGINE_DB_PASSWORD, no engine section in
	// .pgpass). oVirt treats this as "skip", not as a failure.
	ErrNotConfigured = errors.New("not configured")
	ErrTooLarge      = errors.New("file too large")
	ErrLineTooLong   = errors.New("line too long")
	ErrNUL           = errors.New("NUL byte")
	ErrInvalidUTF8   = errors.New("invalid UTF-8")
	// ErrOutsideRoot means a recorded path, or a symlink on its way,
	// leads out of the tree engine-cleanup may touch.
	ErrOutsideRoot = errors.New("outside the root")
)

// Location is where a value was read: a file and a 1-based line.
type Location struct {
	File string
	Line int
}

func (l Location) String() string {
	if l.Line <= 0 {
		return l.File
	}
	return l.File + ":" + strconv.Itoa(l.Line)
}

// SyntaxError is a record that cannot be read as its format requires. It
// prints as "file:line: msg", and Msg says what is wrong and what to do.
type SyntaxError struct {
	File string
	Line int // 0 when the problem concerns the whole file
	Msg  string
	Err  error // an optional sentinel, for errors.Is
}

func (e *SyntaxError) Error() string {
	return Location{e.File, e.Line}.String() + ": " + e.Msg
}

func (e *SyntaxError) Unwrap() error { return e.Err }

func syntaxErr(file string, line int, format string, args ...any) *SyntaxError {
	return &SyntaxError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}
