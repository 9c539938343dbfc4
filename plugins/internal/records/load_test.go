package records

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadConfigReadsTheEngineLayersInOVirtOrder(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, EngineConfigDefaults), "ENGINE_DB_HOST=localhost\nENGINE_DB_PORT=5432\nENGINE_DB_SECURED=False\n")
	WriteDatabaseConf(t, filepath.Join(root, EngineConfigDir), styleMaster, PrefixEngine,
		testCreds{Host: "db.example.com", Port: 5433, User: "engine", Password: `p:a\ss word#1`, Database: "engine"})
	// The helper names its file after the style; give it oVirt's name.
	if err := os.Rename(filepath.Join(root, EngineConfigDir, "10-setup-engine-master.conf"), filepath.Join(root, EngineDatabaseConf)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, EngineConfigDir, "20-admin.conf"), "ENGINE_DB_PORT=6543\n")
	writeFile(t, filepath.Join(root, EngineConfigDir, ".hidden.conf"), "ENGINE_DB_PORT=1\n")
	writeFile(t, filepath.Join(root, EngineConfigDir, "99-notes.txt"), "not a config file\n")
	if err := os.MkdirAll(filepath.Join(root, EngineConfigDir, "50-dir.conf"), 0o755); err != nil {
		t.Fatal(err)
	}

	paths, err := ConfigLayerPaths(root, EngineConfigBases()...)
	if err != nil {
		t.Fatal(err)
	}
	// Bases are listed even when missing; LoadConfig skips them.
	want := []string{EngineConfigDefaults, EngineConfig, EngineDatabaseConf, EngineConfigDir + "/20-admin.conf"}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("ConfigLayerPaths = %q\nwant %q", paths, want)
	}

	cfg, err := LoadConfig(root, EngineConfigBases()...)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := DatabaseCredentials(cfg, PrefixEngine)
	if err != nil {
		t.Fatal(err)
	}
	if creds.Host != "db.example.com" || creds.Port != 6543 || creds.Password.Reveal() != `p:a\ss word#1` {
		t.Errorf("creds = %v, password %q", creds, creds.Password.Reveal())
	}
	if got := creds.Source; got != (Location{filepath.Join(root, EngineDatabaseConf), 4}) {
		t.Errorf("Source = %v, want the file under the root", got)
	}
}

func TestLoadConfigNamesTheBrokenFileUnderTheRoot(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, EngineDatabaseConf), "ENGINE_DB_HOST=h\nthis is not a config line\n")
	_, err := LoadConfig(root, EngineConfigBases()...)
	if err == nil || !strings.HasPrefix(err.Error(), filepath.Join(root, EngineDatabaseConf)+":2: ") {
		t.Errorf("error = %v", err)
	}
}

func TestLoadConfigRefusesAConfigDirectoryOutsideTheRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(outside, "10-setup-database.conf"), "ENGINE_DB_PASSWORD=x\n")
	if err := os.MkdirAll(filepath.Join(root, "etc/ovirt-engine"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, EngineConfigDir)); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(root, EngineConfigBases()...); !errors.Is(err, ErrOutsideRoot) {
		t.Errorf("error = %v, want ErrOutsideRoot", err)
	}
}

func TestLoadConfigOfAnEmptyHostIsEmpty(t *testing.T) {
	cfg, err := LoadConfig(t.TempDir(), EngineConfigBases()...)
	if err != nil || len(cfg.Keys()) != 0 {
		t.Fatalf("LoadConfig = %v, %v", cfg, err)
	}
	if _, err := DatabaseCredentials(cfg, PrefixEngine); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("error = %v, want ErrNotConfigured", err)
	}
}

func TestLoadManifestsMergesEveryManifestUnderTheRoot(t *testing.T) {
	root := t.TempDir()
	writeManifests(t, root)
	writeFile(t, filepath.Join(root, UninstallDir, ".20990101000000-uninstall.conf"), "garbage\n")
	writeFile(t, filepath.Join(root, UninstallDir, "README"), "garbage\n")

	paths, err := ManifestPaths(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{UninstallDir + "/20131105101010-uninstall.conf", UninstallDir + "/20190301090000-uninstall.conf", UninstallDir + "/20200101000000-uninstall.conf"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("ManifestPaths = %q, want %q", paths, want)
	}
	inv, err := LoadManifests(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Manifests) != 3 || len(inv.Groups) != 4 || !strings.HasPrefix(inv.Manifests[0], root) {
		t.Errorf("inventory = %+v", inv)
	}

	writeFile(t, filepath.Join(root, UninstallDir, "20210101000000-uninstall.conf"), "[file_group_core]\ndescription = c\nfile.000.name = relative\n")
	_, err = LoadManifests(root)
	if err == nil || !strings.HasPrefix(err.Error(), filepath.Join(root, UninstallDir, "20210101000000-uninstall.conf")+":3: ") {
		t.Errorf("error = %v", err)
	}
}

func TestLoadManifestsOnAHostWithoutManifestsIsEmpty(t *testing.T) {
	inv, err := LoadManifests(t.TempDir())
	if err != nil || len(inv.Groups) != 0 || len(inv.Manifests) != 0 {
		t.Errorf("LoadManifests = %+v, %v", inv, err)
	}
}

func TestPathListsCannotBeChangedByCallers(t *testing.T) {
	EngineServices()[0] = "changed"
	LegacyPKIFiles()[0] = "changed"
	if EngineServices()[0] != ServiceEngine || LegacyPKIFiles()[0] != "ca.pem" {
		t.Error("a caller changed a shared list")
	}
}
