// Package e2e runs the real engine-cleanup binary, built with the race
// detector, against real plugin processes: testscript scripts in testdata/
// drive it like an administrator or a configuration-management tool would.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest"
)

// binDir holds the binaries built once for the whole suite.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := 1
	if err := buildAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = m.Run()
	}
	_ = pgtest.RemoveTemplate()
	os.RemoveAll(dir)
	os.Exit(code)
}

func buildAll(dir string) error {
	builds := map[string]string{
		"engine-cleanup":                "../cmd/engine-cleanup",
		"engine-cleanup-libvirt":        "../cmd/engine-cleanup-libvirt",
		"engine-cleanup-plugin-example": "../examples/engine-cleanup-plugin-example",
		"testplugin":                    "../internal/testplugin",
		"expectcode":                    "../internal/expectcode",
	}
	for out, pkg := range builds {
		args := []string{"build", "-tags", "libvirt_dlopen", "-o", filepath.Join(dir, out)}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, pkg)...)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building %s: %w", pkg, err)
		}
	}
	return nil
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			// Each script runs its own link of the binary, so that process
			// checks see only this script's processes.
			bin := filepath.Join(env.WorkDir, "bin")
			if err := os.MkdirAll(bin, 0o755); err != nil {
				return err
			}
			for _, name := range []string{"engine-cleanup", "engine-cleanup-libvirt", "expectcode", "engine-cleanup-plugin-example"} {
				if err := linkOrCopy(filepath.Join(binDir, name), filepath.Join(bin, name)); err != nil {
					return err
				}
			}
			env.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			env.Setenv("ROOT", filepath.Join(env.WorkDir, "root"))
			env.Setenv("BIN", bin)
			env.Setenv("NO_COLOR", "1")
			return os.MkdirAll(filepath.Join(env.WorkDir, "root"), 0o755)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"plugin":  cmdPlugin,
			"waitfor": cmdWaitFor,
			"noprocs": cmdNoProcs,
			"json":    cmdJSON,
			"mode":    cmdMode,
			"linesin": cmdLinesIn,
			"absent":  cmdAbsent,
			"fgrep":   cmdFgrep,
		},
	})
}

func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o755)
}

// plugin NAME DIR [MODE]: installs the test plugin as
// DIR/engine-cleanup-plugin-NAME (a fresh copy, so modes are its own).
// NAME "example" installs the example plugin instead.
func cmdPlugin(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: plugin NAME DIR [MODE]")
	}
	src := filepath.Join(binDir, "testplugin")
	if args[0] == "example" {
		src = filepath.Join(binDir, "engine-cleanup-plugin-example")
	}
	mode := os.FileMode(0o755)
	if len(args) == 3 {
		m, err := strconv.ParseUint(args[2], 8, 32)
		ts.Check(err)
		mode = os.FileMode(m)
	}
	dir := ts.MkAbs(args[1])
	ts.Check(os.MkdirAll(dir, 0o755))
	data, err := os.ReadFile(src)
	ts.Check(err)
	dst := filepath.Join(dir, "engine-cleanup-plugin-"+args[0])
	ts.Check(os.WriteFile(dst, data, 0o700))
	ts.Check(os.Chmod(dst, mode))
	ts.Check(os.Chmod(dir, 0o755))
}

// waitfor FILE REGEXP: waits up to 60 s for FILE to match REGEXP.
func cmdWaitFor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitfor FILE REGEXP")
	}
	re := regexp.MustCompile(args[1])
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(path); err == nil && re.Match(data) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Fatalf("%s did not match %q within 60s", args[0], args[1])
}

// noprocs: no process runs an executable under this script's work
// directory (the core, built-ins and external plugins), waiting up to 10 s
// for them to go.
func cmdNoProcs(ts *testscript.TestScript, neg bool, args []string) {
	work := ts.Getenv("WORK")
	var left []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		left = left[:0]
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
			if err != nil || !strings.HasPrefix(exe, work+"/") {
				continue
			}
			if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && bytes.Contains(stat, []byte(") Z ")) {
				continue // a zombie is already dead
			}
			left = append(left, fmt.Sprintf("%d %s", pid, exe))
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(left) > 0 {
		for _, l := range left {
			if pid, err := strconv.Atoi(strings.Fields(l)[0]); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		ts.Fatalf("processes survived: %v", left)
	}
}

// json FILE PATH WANT: FILE (or "stdout") holds one JSON document whose value
// at PATH (dot-separated; "len" is the length of an array) prints as WANT.
func cmdJSON(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: json FILE PATH WANT")
	}
	text := ts.ReadFile(args[0])
	var doc interface{}
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		ts.Fatalf("%s is not one JSON document: %v", args[0], err)
	}
	v := doc
	for _, part := range strings.Split(args[1], ".") {
		switch cur := v.(type) {
		case map[string]interface{}:
			v = cur[part]
		case []interface{}:
			if part == "len" {
				v = float64(len(cur))
				continue
			}
			i, err := strconv.Atoi(part)
			if err != nil || i >= len(cur) {
				ts.Fatalf("no element %s in %s", part, args[1])
			}
			v = cur[i]
		default:
			ts.Fatalf("cannot index %v with %s", v, part)
		}
	}
	got := fmt.Sprint(v)
	if (got == args[2]) == neg {
		ts.Fatalf("%s: %s = %q, want %s%q", args[0], args[1], got, map[bool]string{true: "not ", false: ""}[neg], args[2])
	}
}

// mode FILE MODE: FILE has permission bits MODE (octal).
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mode FILE MODE")
	}
	matches, _ := filepath.Glob(ts.MkAbs(args[0]))
	if len(matches) == 0 {
		ts.Fatalf("no file matches %s", args[0])
	}
	for _, m := range matches {
		fi, err := os.Stat(m)
		ts.Check(err)
		got := fmt.Sprintf("%o", fi.Mode().Perm())
		if (got == args[1]) == neg {
			ts.Fatalf("%s has mode %s", m, got)
		}
	}
}

// linesin FILE LINE...: the lines appear in FILE in this order (other lines
// may come between them).
func cmdLinesIn(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: linesin FILE LINE...")
	}
	lines := strings.Split(ts.ReadFile(args[0]), "\n")
	want := args[1:]
	i := 0
	for _, l := range lines {
		if i < len(want) && strings.TrimSpace(l) == want[i] {
			i++
		}
	}
	if (i == len(want)) == neg {
		ts.Fatalf("%s: found %d of the %d lines in order; next missing: %q", args[0], i, len(want), want[min(i, len(want)-1)])
	}
}

// files expands a name that is "stdout", "stderr", a path or a glob.
func files(ts *testscript.TestScript, name string) map[string]string {
	if name == "stdout" || name == "stderr" {
		return map[string]string{name: ts.ReadFile(name)}
	}
	matches, _ := filepath.Glob(ts.MkAbs(name))
	if len(matches) == 0 {
		ts.Fatalf("no file matches %s", name)
	}
	out := map[string]string{}
	for _, m := range matches {
		data, err := os.ReadFile(m)
		ts.Check(err)
		out[m] = string(data)
	}
	return out
}

// absent LITERAL FILE...: no file (stdout, stderr, path or glob) contains
// LITERAL, nor its JSON-escaped form.
func cmdAbsent(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: absent LITERAL FILE...")
	}
	quoted, _ := json.Marshal(args[0])
	forms := []string{args[0], string(quoted[1 : len(quoted)-1])}
	for _, name := range args[1:] {
		for path, text := range files(ts, name) {
			for _, f := range forms {
				if strings.Contains(text, f) {
					ts.Fatalf("%s contains %q", path, f)
				}
			}
		}
	}
}

// fgrep REGEXP GLOB: exactly one file matches GLOB and its content matches
// REGEXP (with !, does not match).
func cmdFgrep(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: fgrep REGEXP GLOB")
	}
	found := files(ts, args[1])
	if len(found) != 1 {
		ts.Fatalf("%d files match %s, want 1", len(found), args[1])
	}
	re := regexp.MustCompile(args[0])
	for path, text := range found {
		if re.MatchString(text) == neg {
			if neg {
				ts.Fatalf("%s matches %q", path, args[0])
			}
			ts.Fatalf("%s does not match %q:\n%s", path, args[0], text)
		}
	}
}
