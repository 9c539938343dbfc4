package ovirthost

import (
	"os"
	"slices"
	"testing"
	"time"
)

func TestTreeChecksumSeesEveryChange(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(t *testing.T, h *Host)
		want   string // the path whose description changes
	}{
		{"a byte of a file", func(t *testing.T, h *Host) {
			data := readFile(t, h.Path(pathPKIConf))
			data[0] ^= 1
			if err := os.WriteFile(h.Path(pathPKIConf), data, 0o640); err != nil {
				t.Fatal(err)
			}
		}, pathPKIConf},
		{"the mode of a file", func(t *testing.T, h *Host) {
			if err := os.Chmod(h.Path(pathEngineDBConf), 0o644); err != nil {
				t.Fatal(err)
			}
		}, pathEngineDBConf},
		{"the mode of a directory", func(t *testing.T, h *Host) {
			if err := os.Chmod(h.Path(pathPKIDir+"/private"), 0o700); err != nil {
				t.Fatal(err)
			}
		}, pathPKIDir + "/private"},
		{"the target of a symlink", func(t *testing.T, h *Host) {
			p := h.Path(pathPKIDir + "/apache-ca.pem")
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(h.Path(pathPKIDir+"/qemu-ca.pem"), p); err != nil {
				t.Fatal(err)
			}
		}, pathPKIDir + "/apache-ca.pem"},
		{"a symlink replaced by its target's copy", func(t *testing.T, h *Host) {
			p := h.Path(pathPKIDir + "/apache-ca.pem")
			data := readFile(t, p)
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}, pathPKIDir + "/apache-ca.pem"},
		{"a new file", func(t *testing.T, h *Host) {
			if err := os.WriteFile(h.Path("/etc/new"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "/etc/new"},
		{"a removed file", func(t *testing.T, h *Host) {
			if err := os.Remove(h.Path(pathNotes)); err != nil {
				t.Fatal(err)
			}
		}, pathNotes},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := Build(t, t.TempDir(), fakeDBs(StyleMaster, false, false))
			before := TreeChecksum(t, h.Root)
			if again := TreeChecksum(t, h.Root); len(DiffTrees(before, again)) != 0 {
				t.Fatalf("two checksums of an unchanged tree differ: %v", DiffTrees(before, again))
			}
			c.change(t, h)
			diff := DiffTrees(before, TreeChecksum(t, h.Root))
			if len(diff) != 1 || !slices.ContainsFunc(diff, func(d string) bool { return containsPath(d, c.want) }) {
				t.Errorf("after changing %s: %v", c.want, diff)
			}
		})
	}
}

func containsPath(diff, p string) bool {
	for _, prefix := range []string{"changed ", "added ", "removed "} {
		if len(diff) > len(prefix)+len(p) && diff[:len(prefix)+len(p)] == prefix+p && (diff[len(prefix)+len(p)] == ':' || diff[len(prefix)+len(p)] == ' ') {
			return true
		}
	}
	return false
}

func TestModifyRecordedFileChangesTheDigest(t *testing.T) {
	h := Build(t, t.TempDir(), fakeDBs(StyleMaster, false, false))
	before := TreeChecksum(t, h.Root)
	h.ModifyRecordedFile(t, pathJBossConf)
	if !slices.Contains(h.ChangedFiles, pathJBossConf) || !slices.Contains(h.ChangedFiles, pathHTTPDProxy) {
		t.Errorf("ChangedFiles %v", h.ChangedFiles)
	}
	if d := DiffTrees(before, TreeChecksum(t, h.Root)); len(d) != 1 {
		t.Errorf("diff %v, want %s only", d, pathJBossConf)
	}
}

// Build must stay cheap enough for every test to build its own host:
// after the first, which makes the keys, it only writes files.
func TestBuildingTwoHostsIsFast(t *testing.T) {
	opts := fakeDBs(StyleMaster, true, true)
	start := time.Now()
	first := Build(t, t.TempDir(), opts)
	firstTook := time.Since(start)
	start = time.Now()
	second := Build(t, t.TempDir(), opts)
	secondTook := time.Since(start)
	t.Logf("first Build %v (keys and keystores, if this process had none yet), second %v", firstTook, secondTook)
	if secondTook > 2*time.Second {
		t.Errorf("a second Build took %v; it should only write files", secondTook)
	}
	// The hosts share no file: changing one leaves the other alone.
	sum := TreeChecksum(t, second.Root)
	first.ModifyRecordedFile(t, pathJBossConf)
	if d := DiffTrees(sum, TreeChecksum(t, second.Root)); len(d) != 0 {
		t.Errorf("changing one host changed the other: %v", d)
	}
}

func BenchmarkBuild(b *testing.B) {
	opts := fakeDBs(StyleMaster, true, true)
	Build(b, b.TempDir(), opts) // keys and keystores
	b.ResetTimer()
	for b.Loop() {
		Build(b, b.TempDir(), opts)
	}
}
