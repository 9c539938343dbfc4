package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/ovirthost"
	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest/schema"
)

// fullSite is a host with every component, used by the crash tests.
func fullSite(t *testing.T) *site {
	return newSite(t, siteOptions{era: ovirthost.EraOtopi, tcp: true, size: schema.Small(), dwh: true, reports: true, domains: true})
}

var stampCopy = regexp.MustCompile(`\.[0-9]{14}$`)

// endState is what a finished cleanup leaves, compared across sites whose
// records differ in ports and passwords: for each path, whether it is
// unchanged from the site's initial tree, plus the databases' objects and
// the units' states. Logs, answers, backups (named by time) and the
// <file>.<timestamp> copies a line revert keeps differ by design.
func (s *site) endState(initial map[string]string) map[string]string {
	out := map[string]string{}
	for p, v := range s.tree() {
		switch {
		case strings.Contains(p, "/backups/") || strings.HasSuffix(p, "/backups"):
		case stampCopy.MatchString(p) && initial[p] == "":
		case initial[p] == v:
			out[p] = "unchanged"
		default:
			out[p] = "changed"
		}
	}
	for name, d := range s.databases() {
		out["db:"+name] = strings.Join(s.objectsOf(d), ",")
	}
	for u, st := range s.unitStates() {
		out["unit:"+u] = st
	}
	for k, v := range s.domainStates() {
		out[k] = v
	}
	return out
}

// plannedSteps runs --dry-run --json and returns the plan's console lines
// ("plugin: description"), in order.
func (s *site) plannedSteps(t *testing.T) []string {
	r := s.run("-u", "--dry-run", "--json")
	var doc struct {
		Plan []struct{ Plugin, Description string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("dry run JSON: %v", err)
	}
	var out []string
	for _, a := range doc.Plan {
		// The database's address differs from site to site.
		d, _, _ := strings.Cut(a.Description, "@")
		out = append(out, a.Plugin+": "+d)
	}
	return out
}

// runAndKill starts a cleanup with its own link of the binary, waits for
// the line that announces step, SIGKILLs the core, and waits for it.
func (s *site) runAndKill(t *testing.T, bin, step string) bool {
	cmd := exec.Command(bin, append(append([]string{"--root", s.host.Root}, s.args...), "-u")...)
	cmd.Env = s.env
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "[ .... ] "+step) {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			killed = true
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	_ = cmd.Wait()
	return killed
}

// survivors lists live processes whose executable is bin.
func survivors(bin string) []string {
	var left []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || exe != bin {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && strings.Contains(string(stat), ") Z ") {
			continue
		}
		left = append(left, e.Name())
	}
	return left
}

// checkBackups verifies every backup the cleanup wrote under its final
// name is complete; with settled, also that no temporary backup is left (a
// kill mid-backup leaves one under its temporary name, which the rerun
// sweeps). initial is the tree before, whose older backups are the
// builder's stand-ins.
func checkBackups(t *testing.T, root string, initial map[string]string, settled bool) {
	t.Helper()
	for _, dir := range []string{"var/lib/ovirt-engine/backups", "var/lib/ovirt-engine-dwh/backups", "var/lib/ovirt-engine-reports/backups"} {
		entries, _ := os.ReadDir(filepath.Join(root, dir))
		for _, e := range entries {
			p := filepath.Join(root, dir, e.Name())
			if initial["/"+dir+"/"+e.Name()] != "" {
				continue
			}
			switch {
			case strings.HasPrefix(e.Name(), "."):
				if settled {
					t.Errorf("a temporary backup is left after the rerun: %s", p)
				}
			case strings.HasSuffix(e.Name(), ".dump"):
				if out, err := exec.Command("pg_restore", "--list", p).CombinedOutput(); err != nil {
					t.Errorf("%s is not a complete dump: %v\n%s", p, err, out)
				}
			case strings.HasSuffix(e.Name(), ".tar.gz"):
				if out, err := exec.Command("tar", "-tzf", p).CombinedOutput(); err != nil {
					t.Errorf("%s is not a complete archive: %v\n%s", p, err, out)
				}
			}
		}
	}
}

// TestCrashAtEveryActionConverges kills the core with SIGKILL while each
// action of the full plan runs, then runs again: the end state equals that
// of an uninterrupted run, no backup is truncated, no plugin survives.
func TestCrashAtEveryActionConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a full site per action")
	}
	ref := fullSite(t)
	initial := ref.tree()
	steps := ref.plannedSteps(t)
	if len(steps) < 15 {
		t.Fatalf("the full plan has only %d actions", len(steps))
	}
	if !slices.ContainsFunc(steps, func(s string) bool { return strings.HasPrefix(s, "libvirt: ") }) {
		t.Fatalf("the full plan has no libvirt action: %v", steps)
	}
	if r := ref.run("-u"); r.code != 0 {
		t.Fatalf("uninterrupted run: exit %d", r.code)
	}
	want := ref.endState(initial)
	if want["libvirt:hosted-engine"] != "gone" || want["libvirt:engine-appliance"] != "gone" ||
		want["libvirt:unrelated-vm"] != "defined with 3 snapshots" {
		t.Fatalf("the uninterrupted run left libvirt as %v", ref.domainStates())
	}

	converged := 0
	for i, step := range steps {
		ok := t.Run(fmt.Sprintf("%02d %s", i+1, step), func(t *testing.T) {
			s := fullSite(t)
			initial := s.tree()
			bin := filepath.Join(t.TempDir(), "engine-cleanup")
			for _, name := range []string{"engine-cleanup", "engine-cleanup-libvirt"} {
				if err := linkOrCopy(filepath.Join(binDir, name), filepath.Join(filepath.Dir(bin), name)); err != nil {
					t.Fatal(err)
				}
			}
			if !s.runAndKill(t, bin, step) {
				t.Fatalf("the run ended before %q started", step)
			}
			lv := filepath.Join(filepath.Dir(bin), "engine-cleanup-libvirt")
			left := func() []string { return append(survivors(bin), survivors(lv)...) }
			deadline := time.Now().Add(10 * time.Second)
			for len(left()) > 0 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if left := left(); len(left) > 0 {
				for _, pid := range left {
					if n, err := strconv.Atoi(pid); err == nil {
						_ = syscall.Kill(n, syscall.SIGKILL)
					}
				}
				t.Fatalf("plugin processes survived the core: %v", left)
			}
			checkBackups(t, s.host.Root, initial, false)
			r := s.run("-u")
			if r.code != 0 {
				t.Fatalf("rerun after the crash: exit %d", r.code)
			}
			checkBackups(t, s.host.Root, initial, true)
			if d := ovirthost.DiffTrees(want, s.endState(initial)); len(d) > 0 {
				t.Fatalf("the end state differs from an uninterrupted run's: %v", d)
			}
		})
		if ok {
			converged++
		}
	}
	t.Logf("crash points tested: %d, converged: %d", len(steps), converged)
}
