package ovirthost

import (
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
)

func exists(t *testing.T, p string) bool {
	t.Helper()
	_, err := os.Lstat(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

func TestPackageRemovalKeepsTheRecordsAndInstallBringsThePackagesBack(t *testing.T) {
	h := Build(t, t.TempDir(), fakeDBs(StyleMaster, true, false))
	before := TreeChecksum(t, h.Root)
	enginePkg := h.EnginePackageFiles()
	var otherPkg []string
	for _, p := range h.PackageFiles {
		if !slices.Contains(enginePkg, p) {
			otherPkg = append(otherPkg, p)
		}
	}
	if len(enginePkg) < 10 || len(otherPkg) == 0 {
		t.Fatalf("engine packages own %d files, others %d", len(enginePkg), len(otherPkg))
	}

	h.SimulatePackageRemoval(t)

	for _, p := range enginePkg {
		if exists(t, h.Path(p)) {
			t.Errorf("package file %s survived yum remove", p)
		}
	}
	for _, p := range otherPkg {
		if !exists(t, h.Path(p)) {
			t.Errorf("%s of the DWH package went with the engine's", p)
		}
	}
	for _, p := range slices.Concat(h.Records, h.Manifests, h.UserFiles, h.Preserved) {
		if !exists(t, h.Path(p)) {
			t.Errorf("%s did not survive yum remove", p)
		}
	}
	// rpm's %postun removes the PKI tree after %preun copied it.
	if exists(t, h.Path(pathPKIDir)) {
		t.Errorf("%s survived yum remove", pathPKIDir)
	}
	if h.PKIBackup == "" {
		t.Fatalf("no PKI backup")
	}
	for _, p := range h.PKIFiles {
		rel := strings.TrimPrefix(p, pathPKIDir)
		if !exists(t, h.Path(h.PKIBackup+rel)) {
			t.Errorf("the PKI backup lacks %s", rel)
		}
	}
	// And it strips the engine's versionlock lines.
	vl := string(readFile(t, h.Path(pathYumVersionlock)))
	if strings.Contains(vl, "ovirt-engine") || vl != versionlockOriginal {
		t.Errorf("versionlock.list after yum remove:\n%s", vl)
	}
	// Every line the two runs recorded is gone now: a revert finds none.
	if e := h.LineEdits[pathYumVersionlock]; string(e.Edited) != vl || len(e.Missing) != 16 {
		t.Errorf("Edit after removal: edited %q, %d lines missing, want all 16", e.Edited, len(e.Missing))
	}
	if slices.Contains(h.Services, svcEngine) || !slices.Contains(h.Services, svcDWH) {
		t.Errorf("services after removal %v: the engine's disabled, DWH's kept", h.Services)
	}
	if exists(t, h.Path(pathWants+"/"+svcEngine+".service")) || !exists(t, h.Path(pathWants+"/"+svcDWH+".service")) {
		t.Errorf("wants links do not follow the services")
	}

	h.SimulatePackageInstall(t)

	after := TreeChecksum(t, h.Root)
	for _, p := range enginePkg {
		if before[p] != after[p] {
			t.Errorf("%s came back as %q, was %q", p, after[p], before[p])
		}
	}
	// The PKI skeleton with rpm's templates comes back, keystores don't.
	if !exists(t, h.Path(pathPKIDir+"/cert.template.in")) || exists(t, h.Path(pathPKIDir+"/keys/engine.p12")) {
		t.Errorf("PKI after reinstall: %v", DiffTrees(before, after))
	}
	if h.InstalledVersion != "4.5.6" {
		t.Errorf("installed version %q", h.InstalledVersion)
	}
}

func TestAnotherVersionCanBeInstalled(t *testing.T) {
	h := Build(t, t.TempDir(), fakeDBs(StyleMaster, false, false))
	h.SimulatePackageRemoval(t)
	h.SimulatePackageInstallVersion(t, "4.4.10")
	defaults := string(readFile(t, h.Path(pathEngineDefaults)))
	if !strings.Contains(defaults, `PACKAGE_VERSION="4.4.10"`) || h.InstalledVersion != "4.4.10" {
		t.Errorf("defaults after installing 4.4.10:\n%s", defaults)
	}
	post := string(readFile(t, h.Path(pathPostInstall)))
	if !strings.Contains(post, "generatedByVersion=str:4.5.6") {
		t.Errorf("the post-install file must still name the version set up:\n%s", post)
	}
}

func TestLegacyRemovalKeepsTheEditedSysconfig(t *testing.T) {
	opts := fakeDBs(Style330, false, false)
	opts.Era = EraLegacy
	h := Build(t, t.TempDir(), opts)
	h.SimulatePackageRemoval(t)
	if exists(t, h.Path(pathLegacySysconfig)) || !exists(t, h.Path(pathLegacySysconfig+".rpmsave")) {
		t.Errorf("rpm keeps a changed %%config file as .rpmsave")
	}
	if !exists(t, h.Path(pathLegacyPgpass)) || !exists(t, h.Path(pathLegacySysctl)) {
		t.Errorf("legacy records must survive yum remove")
	}
	if !strings.Contains(h.PKIBackup, "/ovirt-engine-backups/ovirt-engine-") || !exists(t, h.Path(h.PKIBackup+"/keys/engine.p12")) {
		t.Errorf("PKI backup %q", h.PKIBackup)
	}
	h.SimulatePackageInstall(t)
	if got := string(readFile(t, h.Path(pathLegacySysconfig))); got != legacySysconfigOriginal {
		t.Errorf("reinstalled sysconfig:\n%s", got)
	}
}
