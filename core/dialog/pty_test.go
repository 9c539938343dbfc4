//go:build linux

package dialog_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/engine-cleanup/engine-cleanup/core/dialog"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// openPTY opens a pseudo-terminal pair, or skips the test when the system
// has none (e.g. a container without devpts).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	// Not master.Fd(): it would make the master blocking, and echoed needs
	// read deadlines.
	rc, err := master.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if cerr := rc.Control(func(fd uintptr) {
		if err = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); err != nil {
			return
		}
		n, err = unix.IoctlGetInt(int(fd), unix.TIOCGPTN)
	}); cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil {
		t.Skipf("setting up pseudo-terminal: %v", err)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("opening pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

func echoOn(t *testing.T, f *os.File) bool {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&unix.ECHO != 0
}

// waitEcho waits until the terminal's echo flag is on.
func waitEcho(t *testing.T, f *os.File, on bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for echoOn(t, f) != on {
		if time.Now().After(deadline) {
			t.Fatalf("terminal echo did not turn %v", on)
		}
		time.Sleep(time.Millisecond)
	}
}

// echoed returns what the terminal echoed back to the master side so far.
func echoed(t *testing.T, master *os.File) string {
	t.Helper()
	var b bytes.Buffer
	buf := make([]byte, 256)
	for {
		_ = master.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := master.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

type askResult struct {
	answer string
	err    error
}

func TestAskOnTerminal(t *testing.T) {
	master, slave := openPTY(t)
	if !dialog.IsTerminal(slave) {
		t.Fatal("IsTerminal(pty) = false, want true")
	}
	var out bytes.Buffer
	d := dialog.New(slave, &out, true)
	ctx := context.Background()

	ask := func(q sdk.Question) chan askResult {
		ch := make(chan askResult, 1)
		go func() {
			a, err := d.Ask(ctx, q)
			ch <- askResult{a, err}
		}()
		return ch
	}
	wait := func(ch chan askResult) askResult {
		select {
		case r := <-ch:
			return r
		case <-time.After(5 * time.Second):
			t.Fatal("Ask() did not return")
			return askResult{}
		}
	}

	t.Run("a text answer is echoed, showing echo can be seen", func(t *testing.T) {
		ch := ask(sdk.Question{Key: "k", Prompt: "Name?", Type: sdk.Text})
		if _, err := master.WriteString("visible\n"); err != nil {
			t.Fatal(err)
		}
		if r := wait(ch); r.err != nil || r.answer != "visible" {
			t.Fatalf("Ask() = %q, %v", r.answer, r.err)
		}
		if got := echoed(t, master); !strings.Contains(got, "visible") {
			t.Errorf("terminal echoed %q, want the typed text", got)
		}
	})

	t.Run("a password is read without echo and echo is restored", func(t *testing.T) {
		out.Reset()
		ch := ask(secret)
		waitEcho(t, slave, false)
		if _, err := master.WriteString("s3cret\n"); err != nil {
			t.Fatal(err)
		}
		if r := wait(ch); r.err != nil || r.answer != "s3cret" {
			t.Fatalf("Ask() = %q, %v", r.answer, r.err)
		}
		if got := echoed(t, master); strings.Contains(got, "s3cret") {
			t.Errorf("terminal echoed the password: %q", got)
		}
		if out.String() != "Password?: \n" {
			t.Errorf("output = %q, want the prompt and a newline", out.String())
		}
		if !echoOn(t, slave) {
			t.Error("echo left off after the password was read")
		}
	})

	t.Run("cancelling a password question restores echo", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		ch := make(chan error, 1)
		go func() {
			_, err := d.Ask(cctx, secret)
			ch <- err
		}()
		waitEcho(t, slave, false)
		cancel()
		select {
		case err := <-ch:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Ask() error = %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Ask() did not return after cancel")
		}
		if !echoOn(t, slave) {
			t.Error("echo left off after the question was cancelled")
		}
		// Let the abandoned read finish so it does not outlive the test.
		if _, err := master.WriteString("x\n"); err != nil {
			t.Fatal(err)
		}
		if r := wait(ask(secret)); r.err != nil || r.answer != "x" {
			t.Errorf("next Ask() = %q, %v; want the line typed after cancel", r.answer, r.err)
		}
	})

	if st, err := term.GetState(int(slave.Fd())); err != nil || st == nil {
		t.Errorf("terminal state unreadable after tests: %v", err)
	}
}
