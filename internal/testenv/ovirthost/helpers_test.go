package ovirthost

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// recordsCheck runs testdata/recordscheck, which reads a host with the
// records package.
type recordsCheck struct{ bin string }

type checkCreds struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	User     string `json:"user"`
	Password string `json:"password"`
	Alt      string `json:"alt"`
	Database string `json:"database"`
	Secured  bool   `json:"secured"`
	Err      string `json:"err"`
}

type checkFile struct {
	Path string `json:"path"`
	Algo string `json:"algo"`
	Hex  string `json:"hex"`
}

type checkLineEdit struct {
	Path    string `json:"path"`
	Change  string `json:"change"`
	Added   string `json:"added"`
	Removed string `json:"removed"`
}

type checkGroup struct {
	Name      string          `json:"name"`
	Files     []checkFile     `json:"files"`
	LineEdits []checkLineEdit `json:"lineEdits"`
}

type checkPgpass struct {
	User     string `json:"user"`
	Host     string `json:"host"`
	Port     string `json:"port"`
	Password string `json:"password"`
	Alt      string `json:"alt"`
}

type checkReport struct {
	Layout     map[string]any    `json:"layout"`
	Engine     checkCreds        `json:"engine"`
	EngineDWH  checkCreds        `json:"engineDWH"`
	DWH        checkCreds        `json:"dwh"`
	DWHEngine  checkCreds        `json:"dwhEngine"`
	ReportsDWH checkCreds        `json:"reportsDWH"`
	Reports    checkCreds        `json:"reports"`
	PKI        map[string]string `json:"pki"`
	ConfigErr  string            `json:"configErr"`
	Manifests  []struct {
		File  string   `json:"file"`
		Algos []string `json:"algos"`
		Err   string   `json:"err"`
	} `json:"manifests"`
	Inventory    []string     `json:"inventoryManifests"`
	Groups       []checkGroup `json:"groups"`
	Unremovable  []checkFile  `json:"unremovable"`
	InventoryErr string       `json:"inventoryErr"`
	PgpassUser   *checkPgpass `json:"pgpassUser"`
	PgpassAdmin  *checkPgpass `json:"pgpassAdmin"`
	PgpassErr    string       `json:"pgpassErr"`
}

func (r *checkReport) group(name string) (checkGroup, bool) {
	for _, g := range r.Groups {
		if g.Name == name {
			return g, true
		}
	}
	return checkGroup{}, false
}

// newRecordsCheck compiles testdata/recordscheck. plugins/internal/records
// is internal to plugins/, so the program is compiled with an overlay that
// places it, virtually, in plugins/internal/; the tree is not written to.
func newRecordsCheck(t *testing.T) *recordsCheck {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command compiles the records cross-check and is not in PATH: %v", err)
	}
	out, err := exec.Command(goTool, "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("go env GOMOD: %v %s", err, out)
	}
	modRoot := filepath.Dir(strings.TrimSpace(string(out)))
	src, err := filepath.Abs(filepath.Join("testdata", "recordscheck", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join("plugins", "internal", "zz_ovirthost_recordscheck")
	if _, err := os.Stat(filepath.Join(modRoot, pkg)); err == nil {
		t.Fatalf("%s exists on disk; the overlay needs a directory of its own", pkg)
	}
	dir := t.TempDir()
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": {filepath.Join(modRoot, pkg, "main.go"): src}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "overlay.json"), overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "recordscheck")
	cmd := exec.Command(goTool, "build", "-overlay", filepath.Join(dir, "overlay.json"), "-o", bin, "./"+filepath.ToSlash(pkg))
	cmd.Dir = modRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("compiling the records cross-check: %v\n%s", err, out)
	}
	return &recordsCheck{bin: bin}
}

func (c *recordsCheck) read(t *testing.T, root string) *checkReport {
	t.Helper()
	args := []string{}
	if root != "" {
		args = append(args, "-root", root)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(c.bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("recordscheck %s: %v\n%s", root, err, stderr.String())
	}
	var r checkReport
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("recordscheck output: %v\n%s", err, stdout.String())
	}
	return &r
}

// fakeDBs returns database locations for hosts that are only read, never
// connected to.
func fakeDBs(style string, dwh, reports bool) Options {
	o := Options{PasswordStyle: style}
	o.Engine = &DB{Host: "db.example.com", Port: 5433, User: "engine", Password: Password("engine", style), Database: "engine"}
	if dwh {
		o.DWH = &DB{Host: "dwh-db.example.com", Port: 5434, User: "ovirt_engine_history", Password: Password("dwh", style), Database: "ovirt_engine_history", Secured: true}
	}
	if reports {
		o.Reports = &DB{Host: "localhost", Port: 5432, User: "ovirt_engine_reports", Password: Password("reports", style), Database: "ovirt_engine_reports"}
	}
	return o
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
