package pki

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/files"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

func TestTrackedIsThePKIGroupsWithoutUnremovableFiles(t *testing.T) {
	root, _ := newHost(t)
	got := loadTracked(t, root)
	if want := wantTracked(); !slices.Equal(got, want) {
		t.Errorf("Tracked =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if slices.Contains(got, "/etc/ovirt-engine/engine.conf.d/10-setup-database.conf") {
		t.Error("a core file counts as PKI")
	}
	if Tracked(nil) != nil {
		t.Error("a nil inventory tracks files")
	}
}

func TestIsPKIGroup(t *testing.T) {
	for name, want := range map[string]bool{
		"ca_pki": true, "ca_config": true, "ca_pki_wsp": true, "ca_pki_reports": true, "ca_pki_grafana": true,
		"ca_pki_vmp_engine": true, "vmconsole_proxy_pki": true, "vmconsole_proxy_helper_pki": true,
		"core": false, "ssl": false, "versionlock": false, "ovirt-provider-ovn": false, "iso_domain": false, "ca_pkix": false,
	} {
		if IsPKIGroup(name) != want {
			t.Errorf("IsPKIGroup(%q) = %v", name, !want)
		}
	}
}

func TestSourcesCoverEveryTrackedFile(t *testing.T) {
	got := Sources([]string{"/etc/pki/ovirt-engine/ca.pem", "/etc/pki/ovirt-vmconsole/proxy-ssh_host_rsa", records.PKIConf, "/etc/pki/ovirt-vmconsole/proxy-ssh_host_rsa"})
	want := []string{records.PKIDir, records.PKIConf, "/etc/pki/ovirt-vmconsole/proxy-ssh_host_rsa"}
	if !slices.Equal(got, want) {
		t.Errorf("Sources = %v; want %v", got, want)
	}
}

func TestRemoveTrackedRemovesExactlyTheTrackedFiles(t *testing.T) {
	root, outside := newHost(t)
	tracked := loadTracked(t, root)
	before := snapshot(t, filepath.Dir(root))
	removed, gone, problems := RemoveTracked(root, tracked)
	if len(problems) != 0 || len(gone) != 0 {
		t.Fatalf("problems %v, already gone %v", problems, gone)
	}
	sort.Strings(removed)
	if !slices.Equal(removed, tracked) {
		t.Errorf("removed %v; want %v", removed, tracked)
	}
	after := snapshot(t, filepath.Dir(root))
	var vanished []string
	for name := range before {
		if _, ok := after[name]; !ok {
			vanished = append(vanished, "/"+strings.TrimPrefix(name, "root/"))
		}
	}
	sort.Strings(vanished)
	if !slices.Equal(vanished, tracked) {
		t.Errorf("vanished from the host:\n%s\nwant exactly the tracked files:\n%s", strings.Join(vanished, "\n"), strings.Join(tracked, "\n"))
	}
	for _, kept := range []string{
		"root/etc/pki/ovirt-engine/certs/host1.cer", "root/etc/pki/ovirt-engine/requests/host1.req",
		"root/etc/pki/ovirt-engine/index.txt", "root/etc/pki/ovirt-engine/serial.txt",
		"root/etc/pki/ovirt-engine/keys/engine_id_rsa", // [unremovable]
		"root/etc/pki/ovirt-engine/keys", "root/etc/pki/ovirt-engine/private", "root/etc/pki/ovirt-engine/requests",
		"root/var/lib/exports/iso/11111111-2222-3333-4444-555555555555/dom_md/metadata",
		"root/etc/pki/tls/certs/localhost.crt", "root/etc/ovirt-engine/engine.conf.d/10-setup-database.conf",
		"outside/secret",
	} {
		if _, ok := after[kept]; !ok {
			t.Errorf("%s was removed", kept)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "secret")); string(b) != "outside secret\n" {
		t.Error("the symlink's target outside the root changed")
	}
}

func TestRemoveTrackedAgainFindsEverythingAlreadyGone(t *testing.T) {
	root, _ := newHost(t)
	tracked := loadTracked(t, root)
	RemoveTracked(root, tracked)
	before := snapshot(t, root)
	removed, gone, problems := RemoveTracked(root, tracked)
	sort.Strings(gone)
	if len(removed) != 0 || len(problems) != 0 || !slices.Equal(gone, tracked) {
		t.Errorf("second run: removed %v, already gone %v, problems %v", removed, gone, problems)
	}
	if after := snapshot(t, root); len(after) != len(before) {
		t.Errorf("the second run changed the tree: %d entries, then %d", len(before), len(after))
	}
}

func TestRemoveTrackedRemovesTheConfigurationLast(t *testing.T) {
	root, _ := newHost(t)
	removed, _, _ := RemoveTracked(root, loadTracked(t, root))
	if i := slices.Index(removed, records.PKIConf); i < 0 || slices.ContainsFunc(removed[i+1:], func(p string) bool { return strings.HasPrefix(p, records.PKIDir+"/") }) {
		t.Errorf("order %v: the configuration with the passwords must follow every keystore", removed)
	}
}

func TestRemoveTrackedRefusesFilesBehindASymlinkedDirectory(t *testing.T) {
	root, _ := newHost(t)
	keys := filepath.Join(root, records.PKIDir, "keys")
	if err := os.Rename(keys, keys+".real"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("keys.real", keys); err != nil {
		t.Fatal(err)
	}
	removed, _, problems := RemoveTracked(root, loadTracked(t, root))
	var refused []string
	for _, p := range problems {
		if !errors.Is(p, files.ErrSymlinkOnPath) {
			t.Errorf("unexpected problem: %v", p)
		}
		refused = append(refused, p.Error())
	}
	if len(problems) != 4 { // engine.p12, apache.p12, apache.key.nopass, vmconsole-proxy-helper.key.nopass
		t.Errorf("%d problems; want the 4 tracked keys: %v", len(problems), refused)
	}
	for _, p := range removed {
		if strings.Contains(p, "/keys/") {
			t.Errorf("%s was removed through the link", p)
		}
	}
	if entries, _ := os.ReadDir(keys + ".real"); len(entries) != 5 {
		t.Errorf("keys.real holds %d files; want all 5 still", len(entries))
	}
}

func TestUntrackedListsWhatStays(t *testing.T) {
	root, _ := newHost(t)
	got, err := Untracked(root, records.PKIDir, loadTracked(t, root))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range []string{"certs/host1.cer", "index.txt", "keys/engine_id_rsa", "requests/apache.req", "requests/engine.req",
		"requests/host1.req", "requests/vmconsole-proxy-helper.req", "serial.txt"} {
		want = append(want, abs(f))
	}
	if !slices.Equal(got, want) {
		t.Errorf("Untracked =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got, err := Untracked(t.TempDir(), records.PKIDir, nil); got != nil || err != nil {
		t.Errorf("Untracked without a tree = %v, %v", got, err)
	}
}

func TestCheckSaysWhatWillHappenAndChangesNothing(t *testing.T) {
	root, _ := newHost(t)
	tracked := loadTracked(t, root)
	os.Symlink("/nonexistent", filepath.Join(root, records.PKIDir, "keys/dir-link"))
	os.Mkdir(filepath.Join(root, records.PKIDir, "certs/a-directory.cer"), 0o755)
	tracked = append(tracked, abs("certs/a-directory.cer"), abs("certs/never-made.cer"))
	before := snapshot(t, root)
	st, err := Check(root, tracked)
	if err != nil {
		t.Fatal(err)
	}
	if !st.TreeExists || st.Leftover || len(st.Present) != len(tracked)-2 || !slices.Equal(st.Gone, []string{abs("certs/never-made.cer")}) {
		t.Errorf("State = exists %v leftover %v present %d gone %v", st.TreeExists, st.Leftover, len(st.Present), st.Gone)
	}
	if len(st.Problems) != 1 || !strings.Contains(st.Problems[0].Error(), "a-directory.cer is a directory") {
		t.Errorf("Problems = %v; want the directory", st.Problems)
	}
	if !slices.Contains(st.Untracked, abs("keys/dir-link")) || !slices.Contains(st.Untracked, abs("certs/host1.cer")) {
		t.Errorf("Untracked = %v", st.Untracked)
	}
	if after := snapshot(t, root); len(after) != len(before) {
		t.Error("Check changed the tree")
	}

	// After a cleanup the manifests are gone: what stays is a leftover to note.
	RemoveTracked(root, loadTracked(t, root))
	st, err = Check(root, nil)
	if err != nil || !st.TreeExists || !st.Leftover || len(st.Untracked) == 0 || len(st.Problems) != 0 {
		t.Errorf("after cleanup: %+v, %v; want a leftover tree with untracked files", st, err)
	}
	// A host without a PKI has nothing to say.
	st, err = Check(t.TempDir(), nil)
	if err != nil || st.TreeExists || st.Leftover || len(st.Untracked) != 0 {
		t.Errorf("empty host: %+v, %v", st, err)
	}
}

// TestLegacyCleanupRemovesTheKnownList builds the tree of an oVirt 3.2
// host (no manifests, no jboss.p12 since 3.1) and cleans it as the legacy
// engine-cleanup did.
func TestLegacyCleanupRemovesTheKnownList(t *testing.T) {
	root, outside := newHost(t)
	os.RemoveAll(filepath.Join(root, records.UninstallDir))
	os.Remove(filepath.Join(root, records.PKIConf))
	os.Remove(filepath.Join(root, records.PKIDir, "keys/engine.p12"))
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, records.PKIDir, "keys/engine.p12")); err != nil {
		t.Fatal(err)
	}
	inv, err := records.LoadManifests(root)
	if err != nil || len(Tracked(inv)) != 0 {
		t.Fatalf("a legacy host tracks %v, %v", Tracked(inv), err)
	}
	tracked := LegacyTracked()
	st, err := Check(root, tracked)
	if err != nil || len(st.Present) != 7 || !slices.Equal(st.Gone, []string{abs("keys/jboss.p12")}) {
		t.Fatalf("Check = present %v gone %v, %v", st.Present, st.Gone, err)
	}
	res, err := Archive(context.Background(), root, Sources(tracked), records.EngineBackupDir, "")
	if err != nil {
		t.Fatal(err)
	}
	removed, gone, problems := RemoveTracked(root, tracked)
	if len(removed) != 7 || !slices.Equal(gone, []string{abs("keys/jboss.p12")}) || len(problems) != 0 {
		t.Errorf("removed %v, already gone %v, problems %v", removed, gone, problems)
	}
	for _, f := range records.LegacyPKIFiles() {
		if _, err := os.Lstat(filepath.Join(root, records.PKIDir, f)); err == nil {
			t.Errorf("%s is still there", f)
		}
	}
	for _, kept := range []string{"private/ca.pem", "certs/engine.cer", "certs/host1.cer", "requests/host1.req"} {
		if _, err := os.Lstat(filepath.Join(root, records.PKIDir, kept)); err != nil {
			t.Errorf("%s, not on the legacy list, was removed", kept)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "secret")); string(b) != "outside secret\n" {
		t.Error("the target of the keys/engine.p12 link was touched")
	}
	if _, err := os.Stat(res.Path); err != nil {
		t.Errorf("the archive is gone: %v", err)
	}
}
