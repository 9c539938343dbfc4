//go:build !cgo

package libvirt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// TestWithoutCgo: a build without cgo cannot remove domains, so it says why
// and refuses a host whose record names one.
func TestWithoutCgo(t *testing.T) {
	p := New()
	info, err := p.Info(t.Context(), sdk.InfoRequest{})
	if err != nil || !strings.HasSuffix(info.Description, "libvirt unavailable: "+withoutCgo) {
		t.Errorf("info: %q, %v", info.Description, err)
	}
	root := t.TempDir()
	rec := filepath.Join(root, RecordFile)
	if err := os.MkdirAll(filepath.Dir(rec), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rec, []byte("6695eb01-f6a4-8304-79aa-97f2502e193f vm\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, err := p.(sdk.Initializer).Init(t.Context(), sdk.InitRequest{Environment: sdk.Environment{Root: root}})
	if err != nil || !resp.Installed || !sdk.HasBlocking(resp.Problems) || resp.Problems[0].File != rec {
		t.Errorf("init with a recorded domain: %+v, %v", resp, err)
	}
}
