// Package archtest checks the import boundaries of STYLE.md, so that they
// stay true: the SDK stands alone, the core never knows a component, and a
// plugin never reaches into the core.
package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/engine-cleanup/engine-cleanup"

type pkg struct {
	ImportPath string
	Deps       []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Deps", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkg
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func under(path, prefix string) bool {
	return path == module+"/"+prefix || strings.HasPrefix(path, module+"/"+prefix+"/")
}

func TestImportBoundaries(t *testing.T) {
	rules := []struct {
		name      string
		applies   func(string) bool
		forbidden []string // module-relative prefixes, or full paths of external modules
	}{
		{
			name:      "the sdk imports neither the core, nor plugins, nor pgx or libvirt",
			applies:   func(p string) bool { return under(p, "sdk") },
			forbidden: []string{"core", "plugins", "cmd", "github.com/jackc/pgx", "libvirt.org/go/libvirt"},
		},
		{
			name:      "the core never imports a plugin",
			applies:   func(p string) bool { return under(p, "core") },
			forbidden: []string{"plugins", "cmd", "github.com/jackc/pgx", "libvirt.org/go/libvirt"},
		},
		{
			name:      "plugins never import the core",
			applies:   func(p string) bool { return under(p, "plugins") },
			forbidden: []string{"core", "cmd"},
		},
		{
			name:      "the example plugin uses the sdk alone",
			applies:   func(p string) bool { return under(p, "examples") },
			forbidden: []string{"core", "plugins", "internal", "cmd"},
		},
	}
	pkgs := listPackages(t)
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			checked := 0
			for _, p := range pkgs {
				if !r.applies(p.ImportPath) {
					continue
				}
				checked++
				for _, dep := range p.Deps {
					for _, f := range r.forbidden {
						external := strings.Contains(f, ".")
						if (!external && under(dep, f)) || (external && (dep == f || strings.HasPrefix(dep, f+"/"))) {
							t.Errorf("%s imports %s", p.ImportPath, dep)
						}
					}
				}
			}
			if checked == 0 {
				t.Fatal("the rule applies to no package")
			}
		})
	}
}
