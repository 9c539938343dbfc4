package dialog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// MaxInvalid is how many invalid answers in a row Ask takes before it gives
// up, so automation feeding a garbage stream does not loop forever.
const MaxInvalid = 5

var (
	// ErrNotInteractive is returned, before anything is read, when a
	// question must be asked but the dialog is not interactive (stdin is
	// not a terminal). Answer it with -u or an answer file instead.
	ErrNotInteractive = errors.New("a question needs an answer but input is not a terminal")
	// ErrTooManyInvalid is returned after MaxInvalid invalid answers in a
	// row.
	ErrTooManyInvalid = errors.New("too many invalid answers")
)

// Dialog asks questions on a terminal. Its methods may be called from
// several goroutines; questions are asked one at a time.
type Dialog struct {
	out         io.Writer
	in          *bufio.Reader
	interactive bool
	// tty and fd say whether input is a terminal, for reading passwords
	// without echo.
	tty bool
	fd  int
	// turn serialises questions; a token in it means a question is being
	// asked.
	turn chan struct{}
	// pending is a read that was started but not consumed, because its
	// question's context ended first. Guarded by turn.
	pending *pendingRead
}

type readResult struct {
	line string
	err  error
}

type pendingRead struct {
	ch chan readResult
	// noEcho: the read runs with echo off; state is the terminal state to
	// restore if the read is abandoned.
	noEcho   bool
	state    *term.State
	restored bool
}

// New returns a Dialog that reads answers from in and writes prompts to
// out. When interactive is false, Ask fails with ErrNotInteractive instead
// of reading; the caller decides, usually with IsTerminal(os.Stdin).
func New(in io.Reader, out io.Writer, interactive bool) *Dialog {
	d := &Dialog{
		out:         out,
		in:          bufio.NewReader(in),
		interactive: interactive,
		turn:        make(chan struct{}, 1),
	}
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		d.tty, d.fd = true, int(f.Fd())
	}
	return d
}

// IsTerminal reports whether r is an *os.File on a terminal.
func IsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Ask asks q and returns the canonical answer: "true" or "false" for yes-no
// and approval questions, the chosen choice (as declared) for a choice, the
// text for text and passwords. An empty line takes the default; a password
// without a default is asked again.
//
// An invalid answer is explained on one line and the question asked again;
// after MaxInvalid in a row Ask returns ErrTooManyInvalid. When input ends
// the error wraps io.EOF. When ctx is done Ask returns ctx.Err() at once;
// a line read after that goes to the next question.
func (d *Dialog) Ask(ctx context.Context, q sdk.Question) (string, error) {
	if err := checkQuestion(q); err != nil {
		return "", err
	}
	if !d.interactive {
		return "", fmt.Errorf("asking %s: %w", name(q), ErrNotInteractive)
	}
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	default:
	}
	select {
	case d.turn <- struct{}{}:
		defer func() { <-d.turn }()
	case <-ctx.Done():
		return "", ctx.Err()
	}

	prompt := strings.TrimSpace(q.Prompt) + options(q) + ": "
	for invalid := 0; ; {
		if _, err := io.WriteString(d.out, prompt); err != nil {
			return "", fmt.Errorf("asking %s: writing prompt: %w", name(q), err)
		}
		line, err := d.readLine(ctx, q.Type == sdk.Password)
		switch {
		case err == nil:
		case ctx.Err() != nil && errors.Is(err, ctx.Err()):
			return "", err
		case errors.Is(err, io.EOF):
			return "", fmt.Errorf("input closed while asking %s: %w", name(q), io.EOF)
		default:
			return "", fmt.Errorf("asking %s: reading answer: %w", name(q), err)
		}

		answer, err := interpret(q, line)
		var inv *invalidError
		if !errors.As(err, &inv) {
			return answer, err
		}
		if _, err := fmt.Fprintln(d.out, inv.line()); err != nil {
			return "", fmt.Errorf("asking %s: writing prompt: %w", name(q), err)
		}
		if invalid++; invalid >= MaxInvalid {
			return "", fmt.Errorf("asking %s: %w (%d in a row)", name(q), ErrTooManyInvalid, invalid)
		}
	}
}

// Confirm asks a yes-no question with default def, for the core's final
// approval.
func (d *Dialog) Confirm(ctx context.Context, prompt string, def bool) (bool, error) {
	answer, err := d.Ask(ctx, sdk.Question{
		Prompt:  prompt,
		Type:    sdk.YesNo,
		Default: strconv.FormatBool(def),
	})
	if err != nil {
		return false, err
	}
	return answer == "true", nil
}

// interpret turns a line typed for q into its canonical answer.
func interpret(q sdk.Question, line string) (string, error) {
	switch q.Type {
	case sdk.Text:
		if strings.TrimSpace(line) == "" {
			return q.Default, nil
		}
		return line, nil
	case sdk.Password:
		if line != "" {
			return line, nil
		}
		if q.Default != "" {
			return q.Default, nil
		}
		return "", &invalidError{hint: hint(q), empty: true, secret: true}
	}
	if strings.TrimSpace(line) == "" && q.Default != "" {
		line = q.Default
	}
	return Normalize(q, line)
}

// readLine reads one line, without its line ending, giving up when ctx is
// done. The read itself runs in a goroutine that cannot be interrupted; if
// it is abandoned, the next call takes its result, so no typed line is lost.
//
// A read abandoned while the terminal's echo was on stays that way: a
// password asked next in the same process would then be echoed. The core
// does not ask again after an interrupt, so this is accepted.
func (d *Dialog) readLine(ctx context.Context, secret bool) (string, error) {
	if d.pending == nil {
		p := &pendingRead{ch: make(chan readResult, 1)}
		// A line already buffered was typed ahead with echo on; take it.
		if secret && d.tty && d.in.Buffered() == 0 {
			if st, err := term.GetState(d.fd); err == nil {
				p.noEcho, p.state = true, st
			}
		}
		go func(noEcho bool) {
			line, err := d.read(noEcho)
			p.ch <- readResult{line, err}
		}(p.noEcho)
		d.pending = p
	}
	p := d.pending
	select {
	case r := <-p.ch:
		d.pending = nil
		if p.noEcho && !p.restored {
			// The Enter that ended the password was not echoed either.
			_, _ = io.WriteString(d.out, "\n")
		}
		return r.line, r.err
	case <-ctx.Done():
		if p.noEcho && !p.restored {
			// Do not leave the administrator's terminal without echo.
			_ = term.Restore(d.fd, p.state)
			p.restored = true
			_, _ = io.WriteString(d.out, "\n")
		}
		return "", ctx.Err()
	}
}

// read reads one line from the input; only one read runs at a time.
func (d *Dialog) read(noEcho bool) (string, error) {
	if noEcho {
		b, err := term.ReadPassword(d.fd)
		return string(b), err
	}
	line, err := d.in.ReadString('\n')
	if errors.Is(err, io.EOF) && line != "" {
		// A last line without a newline is still an answer; the next
		// read reports the end of input.
		err = nil
	}
	return strings.TrimRight(line, "\r\n"), err
}
