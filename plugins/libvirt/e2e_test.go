//go:build cgo

package libvirt

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/libvirtd"
)

// buildEngineCleanup builds the real engine-cleanup binary the way it
// ships, with -tags libvirt_dlopen: it links no libvirt library and opens
// libvirt.so.0 when the libvirt plugin first needs it.
func buildEngineCleanup(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not in PATH")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "engine-cleanup")
	// The libvirt built-in is its own binary, found next to engine-cleanup.
	cmd := exec.Command(goBin, "build", "-tags", "libvirt_dlopen", "-o", dir+"/",
		"github.com/engine-cleanup/engine-cleanup/cmd/engine-cleanup", "github.com/engine-cleanup/engine-cleanup/cmd/engine-cleanup-libvirt")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building engine-cleanup: %v\n%s", err, out)
	}
	f, err := elf.Open(filepath.Join(dir, "engine-cleanup-libvirt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range libs {
		if strings.Contains(l, "virt") {
			t.Errorf("the libvirt_dlopen binary links %s (all: %q)", l, libs)
		}
	}
	return bin
}

// cleanupDoc is the part of engine-cleanup --json this test reads.
type cleanupDoc struct {
	ExitCode int    `json:"exit_code"`
	Status   string `json:"status"`
	Plugins  []struct {
		Name, Status, Description string
		Findings                  []string
	} `json:"plugins"`
	Problems []struct{ Plugin, Severity, Message string }   `json:"problems"`
	Actions  []struct{ Plugin, ID, Status, Outcome string } `json:"actions"`
	Backups  []struct{ Plugin, Path string }                `json:"backups"`
}

func runEngineCleanup(t *testing.T, bin string, wrap []string, args ...string) cleanupDoc {
	t.Helper()
	argv := append(append(wrap, bin), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running %q: %v\n%s", argv, err, stderr.String())
	}
	var doc cleanupDoc
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatalf("%q: the --json output does not parse: %v\nstdout:\n%s\nstderr:\n%s", argv, err, stdout.String(), stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != doc.ExitCode {
		t.Errorf("%q exits %d, but the document says %d", argv, code, doc.ExitCode)
	}
	t.Logf("%q: exit %d, status %s\n%s", args, doc.ExitCode, doc.Status, stderr.String())
	return doc
}

func (d cleanupDoc) plugin(name string) (status, description string, findings []string) {
	for _, p := range d.Plugins {
		if p.Name == name {
			return p.Status, p.Description, p.Findings
		}
	}
	return "", "", nil
}

// TestEngineCleanupBinary runs the shipped binary, across processes, against
// a real libvirtd: engine-cleanup -u --root --libvirt-uri removes the
// recorded and tagged domains with everything the daemon keeps for them,
// leaves the others alone, and a second run has nothing to clean. Then,
// with libvirt.so.0 hidden in a private mount namespace, --list-plugins
// says why libvirt is unavailable, a host without records is still
// cleaned by the other components, and a host with a record is refused.
func TestEngineCleanupBinary(t *testing.T) {
	d := libvirtd.Start(t)
	bin := buildEngineCleanup(t)
	c := d.Connect(t)
	root := t.TempDir()
	var host []qemuDomain
	for _, q := range engineHost() {
		if !q.running || !q.recorded { // a guest without an OS waits out the 2-minute shutdown timeout
			host = append(host, q)
		}
	}
	buildQemuHost(t, d, c, root, host)
	before := domains(t, c)

	args := []string{"-u", "--json", "--root", root, "--libvirt-uri", d.URI(), "--service-manager", "none"}
	doc := runEngineCleanup(t, bin, nil, args...)
	if doc.ExitCode != 0 || doc.Status != "succeeded" {
		t.Fatalf("first run: exit %d, status %s, problems %+v", doc.ExitCode, doc.Status, doc.Problems)
	}
	done, backups := 0, 0
	for _, a := range doc.Actions {
		if a.Plugin == "libvirt" && a.Status == "done" {
			done++
		}
	}
	for _, b := range doc.Backups {
		if b.Plugin == "libvirt" {
			backups++
		}
	}
	// 4 domains: backup and remove each; the record
	if done != 9 || backups != 4 {
		t.Errorf("%d libvirt actions done, %d backups; want 9 and 4: %+v", done, backups, doc.Actions)
	}
	after := domains(t, c)
	for _, q := range host {
		_, exists := after[q.uuid]
		switch {
		case q.recorded || q.tagged:
			if exists || len(d.Leftovers(q.name)) > 0 {
				t.Errorf("%s: still defined %v, leftovers %q", q.name, exists, d.Leftovers(q.name))
			}
		case !exists:
			t.Errorf("%s was removed, but is not the installation's", q.name)
		default:
			if was, now := before[q.uuid], after[q.uuid]; now.Active != was.Active || !mapsEqual(now.Snapshots, was.Snapshots) {
				t.Errorf("%s changed: %+v, then %+v", q.name, was, now)
			}
		}
	}

	doc = runEngineCleanup(t, bin, nil, args...)
	if doc.ExitCode != 0 || doc.Status != "nothing-to-clean" {
		t.Errorf("second run: exit %d, status %s; want 0 and nothing-to-clean", doc.ExitCode, doc.Status)
	}

	doc = runEngineCleanup(t, bin, nil, "--list-plugins", "--json")
	if status, desc, _ := doc.plugin("libvirt"); status != "ok" || strings.Contains(desc, "unavailable") {
		t.Errorf("--list-plugins: libvirt %s, %q", status, desc)
	}

	t.Run("without libvirt.so.0", func(t *testing.T) {
		hide := hideLibvirt(t)
		doc := runEngineCleanup(t, bin, hide, "--list-plugins", "--json")
		status, desc, _ := doc.plugin("libvirt")
		if status != "ok" || !strings.Contains(desc, "libvirt unavailable: ") {
			t.Errorf("--list-plugins: libvirt %s, %q; want ok and the reason libvirt is unavailable", status, desc)
		}
		t.Logf("libvirt's description without the library: %q", desc)

		empty := t.TempDir()
		doc = runEngineCleanup(t, bin, hide, "-u", "--json", "--root", empty, "--service-manager", "none")
		if doc.ExitCode != 0 {
			t.Errorf("a host with nothing recorded: exit %d, problems %+v", doc.ExitCode, doc.Problems)
		}
		if _, _, findings := doc.plugin("libvirt"); len(findings) == 0 || !strings.HasPrefix(findings[0], "libvirt unavailable: ") {
			t.Errorf("init findings %q do not say libvirt is unavailable", findings)
		}

		recorded := t.TempDir()
		writeRecord(t, recorded, "6a1e0000-0000-4000-9000-000000000001 ec-saved\n")
		doc = runEngineCleanup(t, bin, hide, "-u", "--json", "--root", recorded, "--service-manager", "none")
		if doc.ExitCode != 3 || len(doc.Problems) == 0 || !strings.Contains(doc.Problems[0].Message, "libvirt is unavailable") {
			t.Errorf("a host with a recorded domain: exit %d, problems %+v; want 3 (refused) for libvirt", doc.ExitCode, doc.Problems)
		}
		if _, err := os.Stat(filepath.Join(recorded, RecordFile)); err != nil {
			t.Errorf("the refused run touched the record: %v", err)
		}
	})
}

// hideLibvirt returns a command prefix that runs a program in a private
// mount namespace where libvirt.so.0 is an empty file, so that dlopen
// fails as on a host without the library.
func hideLibvirt(t *testing.T) []string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("hiding libvirt.so.0 needs root (a private mount namespace)")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare not found (apt-get install util-linux)")
	}
	lib := ""
	for _, dir := range []string{"/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu"} {
		if p, err := filepath.EvalSymlinks(filepath.Join(dir, "libvirt.so.0")); err == nil {
			lib = p
			break
		}
	}
	if lib == "" {
		t.Skip("libvirt.so.0 not found: nothing to hide")
	}
	empty := filepath.Join(t.TempDir(), "empty.so")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// unshare --mount makes every mount private, so the bind mount never
	// reaches the host.
	return []string{unshare, "--mount", "--propagation", "private", "sh", "-c", `mount --bind "$1" "$2" && shift 2 && exec "$@"`, "hide", empty, lib}
}
