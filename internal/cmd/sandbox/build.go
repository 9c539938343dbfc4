package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

const (
	module        = "github.com/engine-cleanup/engine-cleanup"
	pkgCleanup    = module + "/cmd/engine-cleanup"
	pkgLibvirt    = module + "/cmd/engine-cleanup-libvirt"
	pkgExample    = module + "/examples/engine-cleanup-plugin-example"
	exampleBinary = "engine-cleanup-plugin-example"
	// dlopenTag builds the libvirt binding against a libvirt.so.0 loaded
	// at run time rather than linked, so that no libvirt-dev is needed.
	dlopenTag = "libvirt_dlopen"
)

// buildBinaries builds engine-cleanup into binDir and the example plugin
// into pluginDir, with one "go build" so that they share its work. It uses
// -tags libvirt_dlopen when that builds, and says so when it falls back.
func (s *site) buildBinaries(ctx context.Context) error {
	done := s.times.start("go build (engine-cleanup, example plugin)")
	defer done()
	for _, d := range []string{s.binDir, s.pluginDir} {
		// Plugins and their directory must not be writable by others.
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	s.buildTags = dlopenTag
	if err := goBuild(ctx, s.binDir, "-tags", dlopenTag); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fmt.Fprintf(s.out, "note: go build -tags %s failed, building without the tag:\n%s\n", dlopenTag, indent(err.Error()))
		s.buildTags = ""
		if err := goBuild(ctx, s.binDir); err != nil {
			return err
		}
	}
	if err := os.Rename(filepath.Join(s.binDir, exampleBinary), filepath.Join(s.pluginDir, exampleBinary)); err != nil {
		return fmt.Errorf("install the example plugin: %w", err)
	}
	return nil
}

// goBuild runs go build in the current directory, which must be inside
// this module, in a process group of its own that a cancelled ctx kills
// whole (the compilers included).
func goBuild(ctx context.Context, outDir string, flags ...string) error {
	args := append([]string{"build", "-o", outDir + "/"}, flags...)
	// The libvirt built-in is its own binary, found next to engine-cleanup.
	args = append(args, pkgCleanup, pkgLibvirt, pkgExample)
	cmd := exec.CommandContext(ctx, "go", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s (run the sandbox from within the repository): %w\n%s",
			strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }
