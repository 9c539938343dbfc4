package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/ovirthost"
	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest/schema"
)

// TestHostileRecordsAreRefusedAndChangeNothing feeds malformed, oversized
// and path-escaping records to a full run: each is refused with a message
// naming the file (and line), and the tree, the database and the units are
// exactly as before.
func TestHostileRecordsAreRefusedAndChangeNothing(t *testing.T) {
	const manifestAdd = "\n[file_group_hostile]\ndescription = Hostile\noptional = False\nfile.000.name = %s\n"
	cases := []struct {
		name  string
		setup func(t *testing.T, s *site, outside string)
		want  string
	}{
		{"an oversized post-install file", func(t *testing.T, s *site, _ string) {
			appendTo(t, s.host.Path("/etc/ovirt-engine-setup.conf.d/20-setup-ovirt-post.conf"),
				"# "+strings.Repeat("x", 2<<20)+"\n")
		}, `20-setup-ovirt-post.conf.*(larger|too large|1 MiB)`},
		{"a NUL byte in the database credentials", func(t *testing.T, s *site, _ string) {
			appendTo(t, s.host.Path("/etc/ovirt-engine/engine.conf.d/10-setup-database.conf"), "ENGINE_DB_USER=\"x\x00y\"\n")
		}, `10-setup-database.conf:[0-9]+: .*NUL`},
		{"invalid UTF-8 in a manifest", func(t *testing.T, s *site, _ string) {
			appendTo(t, s.host.Path(s.host.Manifests[0]), "\n[file_group_bad]\ndescription = \xff\xfe\n")
		}, `uninstall.conf:[0-9]+: .*UTF-8`},
		{"a manifest path climbing out with ..", func(t *testing.T, s *site, outside string) {
			appendTo(t, s.host.Path(s.host.Manifests[0]), strings.Replace(manifestAdd, "%s", "/../../../../"+outside+"/victim", 1))
		}, `uninstall.conf:[0-9]+: .*(climbs above|outside)`},
		{"a manifest path leading out through a symlink", func(t *testing.T, s *site, outside string) {
			if err := os.Symlink(outside, s.host.Path("/etc/ovirt-engine/linkout")); err != nil {
				t.Fatal(err)
			}
			appendTo(t, s.host.Path(s.host.Manifests[0]), strings.Replace(manifestAdd, "%s", "/etc/ovirt-engine/linkout/victim", 1))
		}, `/etc/ovirt-engine/linkout/victim.*(outside|leaves|root)`},
		{"a relative path in a manifest", func(t *testing.T, s *site, _ string) {
			appendTo(t, s.host.Path(s.host.Manifests[0]), strings.Replace(manifestAdd, "%s", "etc/passwd", 1))
		}, `uninstall.conf:[0-9]+: .*not an absolute path`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, siteOptions{era: ovirthost.EraOtopi, tcp: true, size: schema.Small()})
			outside := filepath.Join(t.TempDir(), "outside")
			if err := os.MkdirAll(outside, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(outside, "victim"), []byte("not engine-setup's\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			tc.setup(t, s, outside)
			tree, objects, units := s.tree(), s.objects(), s.unitStates()
			r := s.run("-u")
			if r.code != 3 && r.code != 2 {
				t.Fatalf("exit %d, want 2 or 3", r.code)
			}
			if !regexpMatch(tc.want, r.stdout+r.stderr) {
				t.Errorf("the message does not match %q", tc.want)
			}
			if d := ovirthost.DiffTrees(tree, s.tree()); len(d) > 0 {
				t.Errorf("the host changed: %v", d)
			}
			if !slices.Equal(objects, s.objects()) {
				t.Error("the database changed")
			}
			if got := s.unitStates(); !mapsEqual(got, units) {
				t.Errorf("units changed: %v -> %v", units, got)
			}
			if data, err := os.ReadFile(filepath.Join(outside, "victim")); err != nil || string(data) != "not engine-setup's\n" {
				t.Errorf("a file outside the root was touched: %v", err)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestADirectorySwappedForASymlinkDuringTheRunIsRefused swaps a directory
// holding recorded files for a symlink out of the root after validation:
// the removal refuses it and nothing outside the root is touched.
func TestADirectorySwappedForASymlinkDuringTheRunIsRefused(t *testing.T) {
	s := newSite(t, siteOptions{era: ovirthost.EraOtopi, tcp: true, size: schema.Small()})
	outside := t.TempDir()
	victim := filepath.Join(outside, "notifier.conf.d", "10-setup-jboss.conf")
	if err := os.MkdirAll(filepath.Dir(victim), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(victim, []byte("outside\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plugins := filepath.Join(t.TempDir(), "plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := linkOrCopy(filepath.Join(binDir, "testplugin"), filepath.Join(plugins, "engine-cleanup-plugin-pause")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(binDir, "engine-cleanup"), "--root", s.host.Root, "-u", "--plugin-dir", plugins)
	cmd.Env = s.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	trace := filepath.Join(s.host.Root, "trace.log")
	deadline := time.Now().Add(60 * time.Second)
	for {
		if data, _ := os.ReadFile(trace); bytes.Contains(data, []byte("pause paused")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run never reached the pause")
		}
		time.Sleep(20 * time.Millisecond)
	}
	dir := s.host.Path("/etc/ovirt-engine/notifier")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, dir); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(s.host.Root, "resume"), nil, 0o644)
	err := cmd.Wait()
	t.Logf("%s", out.String())
	if err == nil {
		t.Fatal("the run succeeded although a recorded directory was swapped for a symlink out of the root")
	}
	if !strings.Contains(out.String(), "/etc/ovirt-engine/notifier") {
		t.Error("the failure does not name the swapped path")
	}
	if data, err := os.ReadFile(victim); err != nil || string(data) != "outside\n" {
		t.Fatalf("the file outside the root was touched: %v", err)
	}
}

// TestATerminatedBackendMidClearFailsCleanlyAndARerunConverges kills the
// database session that clears the engine database: the run fails with a
// clear error, the transaction leaves the database as it was, and a rerun
// completes.
func TestATerminatedBackendMidClearFailsCleanlyAndARerunConverges(t *testing.T) {
	s := newSite(t, siteOptions{era: ovirthost.EraOtopi, tcp: true, size: schema.Full()})
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, s.cluster.SuperDSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	done := make(chan result, 1)
	go func() { done <- s.run("-u") }()
	killed := false
	for !killed {
		select {
		case r := <-done:
			t.Fatalf("the run ended (exit %d) before its clearing statement was seen", r.code)
		default:
		}
		var n int
		err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = 'engine-cleanup' AND query ILIKE 'DROP%' AND state = 'active'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		killed = n > 0
		time.Sleep(2 * time.Millisecond)
	}
	r := <-done
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	if !strings.Contains(r.stdout+r.stderr, "clearing the engine database") {
		t.Error("the failure does not say the clearing failed")
	}
	if r := s.run("-u"); r.code != 0 {
		t.Fatalf("rerun: exit %d", r.code)
	}
	if left := s.objects(); len(left) > 0 {
		t.Errorf("%d objects left after the rerun", len(left))
	}
}
