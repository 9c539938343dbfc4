package dialog_test

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/engine-cleanup/engine-cleanup/core/dialog"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

var (
	dropDB = sdk.Question{
		Key:     "engine.dropDatabase",
		Prompt:  "Drop database? If you want to reuse the existing database for the future installation, choose No.",
		Type:    sdk.YesNo,
		Default: "true",
		Purpose: sdk.PurposeDropDatabase,
	}
	approve = sdk.Question{Key: "core.approve", Prompt: "Proceed with cleanup?", Type: sdk.Approval, Default: "false"}
	choice  = sdk.Question{Key: "x.mode", Prompt: "Mode?", Type: sdk.Choice, Choices: []string{"Fast", "Safe", "Full"}, Default: "Safe"}
	text    = sdk.Question{Key: "x.dir", Prompt: "Directory?", Type: sdk.Text, Default: "/var/lib/x"}
	secret  = sdk.Question{Key: "x.password", Prompt: "Password?", Type: sdk.Password}
)

const dropPrompt = "Drop database? If you want to reuse the existing database for the future installation, choose No. (Yes, No) [Yes]: "

func TestAsk(t *testing.T) {
	tests := []struct {
		name    string
		q       sdk.Question
		input   string
		want    string
		wantErr error
		// wantOut is the whole output when set.
		wantOut string
		// outHas lists substrings the output must contain.
		outHas []string
	}{
		{name: "an empty line takes the yes-no default", q: dropDB, input: "\n", want: "true", wantOut: dropPrompt},
		{name: "yes-no accepts n in any case", q: dropDB, input: "N\n", want: "false"},
		{name: "yes-no accepts YES in capitals", q: dropDB, input: "YES\n", want: "true"},
		{name: "yes-no ignores surrounding blanks and a CR", q: dropDB, input: "  no \r\n", want: "false"},
		{name: "yes-no without default shows no default", q: sdk.Question{Key: "k", Prompt: "Go?", Type: sdk.YesNo}, input: "y\n", want: "true", wantOut: "Go? (Yes, No): "},
		{name: "a last line without newline is still an answer", q: dropDB, input: "no", want: "false"},
		{
			name: "an invalid answer is explained and the question asked again",
			q:    dropDB, input: "maybe\nno\n", want: "false",
			wantOut: dropPrompt + "Invalid value \"maybe\": answer Yes or No\n" + dropPrompt,
		},
		{
			name: "an empty line without default is asked again",
			q:    sdk.Question{Key: "k", Prompt: "Go?", Type: sdk.YesNo}, input: "\ny\n", want: "true",
			wantOut: "Go? (Yes, No): An answer is required: answer Yes or No\nGo? (Yes, No): ",
		},
		{
			name: "gives up after five invalid answers in a row",
			q:    dropDB, input: "a\nb\nc\nd\ne\nyes\n", wantErr: dialog.ErrTooManyInvalid,
			outHas: []string{`Invalid value "e": answer Yes or No`},
		},
		{
			name: "a long invalid answer is shortened when repeated",
			q:    dropDB, input: strings.Repeat("x", 500) + "\nyes\n", want: "true",
			outHas: []string{`Invalid value "` + strings.Repeat("x", 40) + `"...: answer Yes or No`},
		},
		{name: "approval shows OK and Cancel with its default", q: approve, input: "\n", want: "false", wantOut: "Proceed with cleanup? (OK, Cancel) [Cancel]: "},
		{name: "approval accepts ok in any case", q: approve, input: "Ok\n", want: "true"},
		{name: "approval accepts yes", q: approve, input: "yes\n", want: "true"},
		{name: "approval accepts cancel", q: approve, input: "CANCEL\n", want: "false"},
		{
			name: "approval rejects other words",
			q:    approve, input: "sure\nok\n", want: "true",
			outHas: []string{`Invalid value "sure": answer OK or Cancel`},
		},
		{name: "choice shows its choices and default", q: choice, input: "\n", want: "Safe", wantOut: "Mode? (Fast, Safe, Full) [Safe]: "},
		{name: "choice matches case-insensitively and returns the declared spelling", q: choice, input: "full\n", want: "Full"},
		{
			name: "choice rejects a prefix",
			q:    choice, input: "fu\nfast\n", want: "Fast",
			outHas: []string{`Invalid value "fu": answer one of Fast, Safe, Full`},
		},
		{name: "text takes the default on an empty line", q: text, input: "\n", want: "/var/lib/x", wantOut: "Directory? [/var/lib/x]: "},
		{name: "text returns what was typed", q: text, input: "/srv/x y\n", want: "/srv/x y"},
		{name: "text without default may be empty", q: sdk.Question{Key: "k", Prompt: "Note?", Type: sdk.Text}, input: "\n", want: "", wantOut: "Note?: "},
		{name: "a password is read as a plain line when input is not a terminal", q: secret, input: "s3cret\n", want: "s3cret", wantOut: "Password?: "},
		{
			name: "an empty password without default is asked again",
			q:    secret, input: "\nhunter2\n", want: "hunter2",
			wantOut: "Password?: An answer is required: enter a password\nPassword?: ",
		},
		{
			name: "an empty password takes a default, which is never shown",
			q:    sdk.Question{Key: "k", Prompt: "Password?", Type: sdk.Password, Default: "dflt"}, input: "\n", want: "dflt",
			wantOut: "Password?: ",
		},
		{name: "end of input is an error wrapping io.EOF", q: dropDB, input: "", wantErr: io.EOF, wantOut: dropPrompt},
		{name: "end of input after invalid answers is an error wrapping io.EOF", q: dropDB, input: "maybe\n", wantErr: io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			d := dialog.New(strings.NewReader(tt.input), &out, true)
			got, err := d.Ask(context.Background(), tt.q)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Ask() error = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("Ask() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("Ask() = %q, want %q", got, tt.want)
			}
			if tt.wantOut != "" && out.String() != tt.wantOut {
				t.Errorf("output =\n%q\nwant\n%q", out.String(), tt.wantOut)
			}
			for _, s := range tt.outHas {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output %q does not contain %q", out.String(), s)
				}
			}
		})
	}
}

func TestAskGivesUpAfterExactlyFiveInvalid(t *testing.T) {
	var out strings.Builder
	d := dialog.New(strings.NewReader("a\nb\nc\nd\ne\nyes\n"), &out, true)
	_, err := d.Ask(context.Background(), dropDB)
	if !errors.Is(err, dialog.ErrTooManyInvalid) {
		t.Fatalf("Ask() error = %v, want ErrTooManyInvalid", err)
	}
	if n := strings.Count(out.String(), dropPrompt); n != dialog.MaxInvalid {
		t.Errorf("prompt shown %d times, want %d", n, dialog.MaxInvalid)
	}
	// The sixth line was not consumed: it is there for whoever asks next.
	got, err := d.Ask(context.Background(), dropDB)
	if err != nil || got != "true" {
		t.Errorf("next Ask() = %q, %v; want the unread \"yes\"", got, err)
	}
}

func TestAskInvalidQuestion(t *testing.T) {
	tests := []struct {
		name string
		q    sdk.Question
	}{
		{name: "an unknown type is refused", q: sdk.Question{Key: "k", Prompt: "?", Type: "colour"}},
		{name: "a choice without choices is refused", q: sdk.Question{Key: "k", Prompt: "?", Type: sdk.Choice}},
		{name: "a yes-no default that is not a boolean is refused", q: sdk.Question{Key: "k", Prompt: "?", Type: sdk.YesNo, Default: "maybe"}},
		{name: "a choice default outside the choices is refused", q: sdk.Question{Key: "k", Prompt: "?", Type: sdk.Choice, Choices: []string{"a"}, Default: "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			d := dialog.New(failingReader{t}, &out, true)
			if _, err := d.Ask(context.Background(), tt.q); err == nil {
				t.Fatal("Ask() succeeded, want an error")
			}
			if out.Len() != 0 {
				t.Errorf("output = %q, want nothing", out.String())
			}
		})
	}
}

// failingReader fails the test when read.
type failingReader struct{ t *testing.T }

func (r failingReader) Read([]byte) (int, error) {
	r.t.Error("input was read")
	return 0, io.EOF
}

func TestAskNotInteractiveReturnsAtOnceWithoutReading(t *testing.T) {
	for _, q := range []sdk.Question{dropDB, approve, choice, text, secret} {
		t.Run(string(q.Type), func(t *testing.T) {
			var out strings.Builder
			d := dialog.New(failingReader{t}, &out, false)
			_, err := d.Ask(context.Background(), q)
			if !errors.Is(err, dialog.ErrNotInteractive) {
				t.Fatalf("Ask() error = %v, want ErrNotInteractive", err)
			}
			if !strings.Contains(err.Error(), q.Key) {
				t.Errorf("error %q does not name the question %s", err, q.Key)
			}
			if out.Len() != 0 {
				t.Errorf("output = %q, want nothing", out.String())
			}
		})
	}
}

func TestAskContextCancelledWhileWaitingReturnsPromptly(t *testing.T) {
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	var out strings.Builder
	d := dialog.New(pr, &out, true)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := d.Ask(ctx, dropDB)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Ask() error = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Ask() did not return after its context was cancelled")
	}

	// The abandoned read is not lost: a line arriving later answers the
	// next question.
	go func() { _, _ = io.WriteString(pw, "no\n") }()
	got, err := d.Ask(context.Background(), dropDB)
	if err != nil || got != "false" {
		t.Errorf("next Ask() = %q, %v; want \"false\"", got, err)
	}
}

func TestAskContextAlreadyCancelledReadsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out strings.Builder
	d := dialog.New(failingReader{t}, &out, true)
	if _, err := d.Ask(ctx, dropDB); !errors.Is(err, context.Canceled) {
		t.Fatalf("Ask() error = %v, want context.Canceled", err)
	}
}

func TestAskTwoQuestionsFromOneStreamInSequence(t *testing.T) {
	var out strings.Builder
	// One Read delivers every line, so the second answer sits in the
	// dialog's buffer when the first question returns.
	d := dialog.New(strings.NewReader("no\nfull\n/srv\nok\n"), &out, true)
	ctx := context.Background()
	for _, step := range []struct {
		q    sdk.Question
		want string
	}{
		{dropDB, "false"},
		{choice, "Full"},
		{text, "/srv"},
		{approve, "true"},
	} {
		got, err := d.Ask(ctx, step.q)
		if err != nil || got != step.want {
			t.Fatalf("Ask(%s) = %q, %v; want %q", step.q.Key, got, err, step.want)
		}
	}
	if _, err := d.Ask(ctx, dropDB); !errors.Is(err, io.EOF) {
		t.Errorf("Ask() after the last line: error = %v, want io.EOF", err)
	}
}

func TestConfirm(t *testing.T) {
	tests := []struct {
		name    string
		def     bool
		input   string
		want    bool
		wantOut string
	}{
		{name: "an empty line takes a Yes default", def: true, input: "\n", want: true, wantOut: "Proceed? (Yes, No) [Yes]: "},
		{name: "an empty line takes a No default", def: false, input: "\n", want: false, wantOut: "Proceed? (Yes, No) [No]: "},
		{name: "yes overrides a No default", def: false, input: "y\n", want: true, wantOut: "Proceed? (Yes, No) [No]: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			d := dialog.New(strings.NewReader(tt.input), &out, true)
			got, err := d.Confirm(context.Background(), "Proceed?", tt.def)
			if err != nil {
				t.Fatalf("Confirm() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("Confirm() = %v, want %v", got, tt.want)
			}
			if out.String() != tt.wantOut {
				t.Errorf("output = %q, want %q", out.String(), tt.wantOut)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name    string
		q       sdk.Question
		raw     string
		want    string
		wantErr string // substring of the error; empty means success
	}{
		{name: "yes-no accepts true", q: dropDB, raw: "true", want: "true"},
		{name: "yes-no accepts False as written by otopi", q: dropDB, raw: "False", want: "false"},
		{name: "yes-no accepts Yes", q: dropDB, raw: "Yes", want: "true"},
		{name: "yes-no accepts n", q: dropDB, raw: "n", want: "false"},
		{name: "yes-no ignores surrounding blanks", q: dropDB, raw: " no ", want: "false"},
		{name: "yes-no rejects maybe and says what is accepted", q: dropDB, raw: "maybe", wantErr: `invalid value "maybe": answer Yes or No`},
		{name: "yes-no rejects an empty value", q: dropDB, raw: "", wantErr: "empty value: answer Yes or No"},
		{name: "yes-no rejects a number", q: dropDB, raw: "1", wantErr: "answer Yes or No"},
		{name: "approval accepts OK", q: approve, raw: "OK", want: "true"},
		{name: "approval accepts cancel", q: approve, raw: "cancel", want: "false"},
		{name: "approval accepts True", q: approve, raw: "True", want: "true"},
		{name: "approval rejects other words", q: approve, raw: "go", wantErr: `invalid value "go": answer OK or Cancel`},
		{name: "choice returns the declared spelling", q: choice, raw: "SAFE", want: "Safe"},
		{name: "choice rejects a value not offered", q: choice, raw: "quick", wantErr: `invalid value "quick": answer one of Fast, Safe, Full`},
		{name: "choice without choices is an error about the question", q: sdk.Question{Key: "k", Type: sdk.Choice}, raw: "a", wantErr: "question k: choice question without choices"},
		{name: "text is returned unchanged", q: text, raw: "  a b ", want: "  a b "},
		{name: "text may be empty", q: text, raw: "", want: ""},
		{name: "password is returned unchanged", q: secret, raw: "p@ss word", want: "p@ss word"},
		{name: "an unknown type is an error", q: sdk.Question{Key: "k", Type: "colour"}, raw: "red", wantErr: `question k: unknown question type "colour"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dialog.Normalize(tt.q, tt.raw)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Normalize() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("Normalize() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIsTerminal(t *testing.T) {
	tests := []struct {
		name string
		r    io.Reader
	}{
		{name: "a strings.Reader is not a terminal", r: strings.NewReader("")},
		{name: "a pipe is not a terminal", r: pipeFile(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if dialog.IsTerminal(tt.r) {
				t.Error("IsTerminal() = true, want false")
			}
		})
	}
}

func pipeFile(t *testing.T) *os.File {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r
}
