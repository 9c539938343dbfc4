package pluginv1_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedCodeIsCurrent regenerates the protocol code into a temporary
// directory and fails if it differs from the committed files: the .proto and
// the Go code must never drift apart.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if _, err := exec.LookPath("protoc"); err != nil {
		t.Skip("protoc not installed: apt-get install protobuf-compiler (scripts/setup.sh does)")
	}
	out := t.TempDir()
	cmd := exec.Command("../../../scripts/genproto.sh", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("regenerating: %v\n%s", err, b)
	}
	for _, f := range []string{"plugin.pb.go", "plugin_grpc.pb.go"} {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(out, "sdk/proto/pluginv1", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what plugin.proto generates: run make generate and commit the result", f)
		}
	}
}
