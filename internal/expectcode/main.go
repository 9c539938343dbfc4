// Command expectcode runs a command and succeeds only if it exits with the
// expected code: expectcode CODE COMMAND [ARG...]. The end-to-end scripts use
// it because testscript's exec only tells zero from non-zero. Stdin, stdout
// and stderr are passed through, and SIGINT and SIGTERM are forwarded, so
// the command behaves as if run directly. It is a test fixture.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: expectcode CODE COMMAND [ARG...]")
		os.Exit(2)
	}
	want, err := strconv.Atoi(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "expectcode: bad code %q\n", os.Args[1])
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "expectcode: %v\n", err)
		os.Exit(2)
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	got := 0
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			fmt.Fprintf(os.Stderr, "expectcode: %v\n", err)
			os.Exit(2)
		}
		got = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			got = 128 + int(ws.Signal())
		}
	}
	if got != want {
		fmt.Fprintf(os.Stderr, "expectcode: %s exited with %d, want %d\n", os.Args[2], got, want)
		os.Exit(1)
	}
}
