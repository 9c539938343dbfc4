package pki

import (
	"context"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

func benchHost(b *testing.B, hosts int) string {
	root := filepath.Join(b.TempDir(), "root")
	if out, err := osexec.Command("cp", "-a", template, root).CombinedOutput(); err != nil {
		b.Fatalf("%v %s", err, out)
	}
	cert, _ := os.ReadFile(filepath.Join(root, records.PKIDir, "certs/host1.cer"))
	req, _ := os.ReadFile(filepath.Join(root, records.PKIDir, "requests/host1.req"))
	for i := range hosts {
		os.WriteFile(filepath.Join(root, records.PKIDir, fmt.Sprintf("certs/host%d.cer", i+2)), cert, 0o644)
		os.WriteFile(filepath.Join(root, records.PKIDir, fmt.Sprintf("requests/host%d.req", i+2)), req, 0o644)
	}
	return root
}

func benchArchive(b *testing.B, hosts int) {
	root := benchHost(b, hosts)
	inv, _ := records.LoadManifests(root)
	sources := Sources(Tracked(inv))
	var res Result
	for b.Loop() {
		var err error
		res, err = Archive(context.Background(), root, sources, records.EngineBackupDir, "")
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.Remove(res.Path)
		b.StartTimer()
	}
	b.ReportMetric(float64(res.Files+res.Dirs), "entries")
	b.ReportMetric(float64(res.Bytes), "archive-bytes")
}

func BenchmarkArchiveFixture(b *testing.B)       { benchArchive(b, 0) }
func BenchmarkArchiveWith1000Hosts(b *testing.B) { benchArchive(b, 1000) }

func BenchmarkRemoveTrackedFixture(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		root := benchHost(b, 0)
		inv, _ := records.LoadManifests(root)
		tracked := Tracked(inv)
		b.StartTimer()
		if _, _, problems := RemoveTracked(root, tracked); len(problems) != 0 {
			b.Fatal(problems)
		}
	}
}

func BenchmarkCheckWith1000Hosts(b *testing.B) {
	root := benchHost(b, 1000)
	inv, _ := records.LoadManifests(root)
	tracked := Tracked(inv)
	for b.Loop() {
		if _, err := Check(root, tracked); err != nil {
			b.Fatal(err)
		}
	}
}
