package ovirthost

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The records package must read every host Build makes exactly as it reads
// a real one: these tests run it (see newRecordsCheck) on built hosts.
func TestRecordsPackageReadsTheHosts(t *testing.T) {
	check := newRecordsCheck(t)

	t.Run("the layout mirrors records/paths.go", func(t *testing.T) {
		got := check.read(t, "").Layout
		want := map[string]any{
			"EngineConfigDefaults": pathEngineDefaults, "EngineConfig": pathEngineConf,
			"EngineDatabaseConf": pathEngineDBConf, "EngineDWHDatabaseConf": pathEngineDWHDBConf,
			"PKIConf": pathPKIConf, "PKIDir": pathPKIDir, "EngineBackupDir": pathEngineBackups,
			"DWHConfigDefaults": pathDWHDefaults, "DWHConfig": pathDWHConf,
			"DWHDatabaseConf": pathDWHDBConf, "DWHUUIDConf": pathDWHUUIDConf, "DWHBackupDir": pathDWHBackups,
			"ReportsConfigDefaults": pathReportsDefaults, "ReportsConfig": pathReportsConf,
			"ReportsDatabaseConf": pathReportsDBConf, "ReportsBuildomaticProperties": pathReportsMasterProperties,
			"SetupConfig": pathSetupConf, "PostInstallFile": pathPostInstall, "UninstallDir": pathUninstallDir,
			"SetupLogDir": pathSetupLogs, "EngineDumpPrefix": dumpPrefixEngine, "DWHDumpPrefix": dumpPrefixDWH,
			"DumpSuffix": dumpSuffix, "LegacyPgpass": pathLegacyPgpass, "LegacySysctlConf": pathLegacySysctl,
			"LegacyDBBackupDir": pathLegacyBackups, "LegacyLogDir": pathLegacyLogs,
			"LegacyPKIFiles": legacyPKIFiles(), "PrefixEngine": prefixEngine, "PrefixDWH": prefixDWH,
			"FileGroupPrefix": fileGroupPrefix, "UnremovableSection": unremovableSection,
			"EngineServices": engineServices(), "LegacyEngineServices": legacyEngineServices(),
			"ServiceDWH": svcDWH, "ServiceReports": svcReports,
		}
		for k, w := range want {
			if fmt.Sprint(got[k]) != fmt.Sprint(w) {
				t.Errorf("%s: records has %v, ovirthost %v", k, got[k], w)
			}
		}
	})

	for _, c := range []struct {
		name, version, style string
		// lossy: the style's writer leaves " unescaped, so oVirt's reader
		// gets another password and only AltPassword is the one given.
		lossy       bool
		wantAlgos   [][]string // per manifest, oldest first
		engineDWH   bool       // 10-setup-dwh-database.conf exists (4.0 and later)
		contentOnly bool       // 3.3.0's line.N.content
	}{
		{"4.5.6 with the master writer", "4.5.6", StyleMaster, true, [][]string{{"md5"}, {"sha256"}}, true, false},
		{"4.5.6 whose file kept the 3.3.0 writer's escaping", "4.5.6", Style330, false, [][]string{{"md5"}, {"sha256"}}, true, false},
		{"4.2.8, before sha256", "4.2.8", StyleMaster, true, [][]string{{"md5"}, {"md5"}}, true, false},
		{"3.6.7", "3.6.7", "", false, [][]string{{"md5"}, {"md5"}}, false, false},
		{"3.5.1", "3.5.1", "", false, [][]string{{"md5"}, {"md5"}}, false, false},
		{"4.5.6 whose file kept the 3.6 writer's escaping", "4.5.6", Style36, false, [][]string{{"md5"}, {"sha256"}}, true, false},
		{"3.3.0", "3.3.0", "", false, [][]string{{"md5"}, nil}, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := fakeDBs(c.style, true, true)
			opts.EngineVersion = c.version
			h := Build(t, t.TempDir(), opts)
			r := check.read(t, h.Root)

			checkCredentials(t, "engine", r.Engine, *h.Opts.Engine, c.lossy)
			checkCredentials(t, "DWH's copy of the engine's", r.DWHEngine, *h.Opts.Engine, c.lossy)
			checkCredentials(t, "DWH", r.DWH, *h.Opts.DWH, c.lossy)
			if c.engineDWH {
				checkCredentials(t, "engine's copy of DWH's", r.EngineDWH, *h.Opts.DWH, c.lossy)
			} else if !strings.Contains(r.EngineDWH.Err, "not configured") {
				t.Errorf("before 4.0 the engine has no DWH credentials; records says %+v", r.EngineDWH)
			}
			// Reports' writers escape ", \ and $: exact whatever the style.
			checkCredentials(t, "Reports' copy of DWH's", r.ReportsDWH, *h.Opts.DWH, false)
			checkCredentials(t, "Reports", r.Reports, *h.Opts.Reports, false)

			for _, k := range []string{"ENGINE_PKI_ENGINE_STORE_PASSWORD", "ENGINE_PKI_TRUST_STORE_PASSWORD", "ENGINE_HTTPS_PKI_TRUST_STORE_PASSWORD"} {
				if r.PKI[k] != h.KeystorePassword {
					t.Errorf("%s = %q, want the keystore password %q", k, r.PKI[k], h.KeystorePassword)
				}
			}

			checkManifests(t, h, r, c.wantAlgos, c.contentOnly)
		})
	}

	t.Run("a legacy host", func(t *testing.T) {
		opts := fakeDBs(Style330, false, false)
		opts.Era = EraLegacy
		h := Build(t, t.TempDir(), opts)
		r := check.read(t, h.Root)
		if r.PgpassErr != "" || r.PgpassUser == nil {
			t.Fatalf("ParsePgpass: %s", r.PgpassErr)
		}
		db := h.Opts.Engine
		u := r.PgpassUser
		if u.User != db.User || u.Host != db.Host || u.Port != fmt.Sprint(db.Port) {
			t.Errorf("engine line %+v, want %s@%s:%d", u, db.User, db.Host, db.Port)
		}
		// Legacy setup did not escape; libpq's reading differs because
		// the password holds a backslash, and AltPassword is the literal.
		if !strings.Contains(db.Password, `\`) || u.Alt != db.Password || u.Password == db.Password {
			t.Errorf("engine line: password %q, alt %q; want alt %q (and a backslash in it)", u.Password, u.Alt, db.Password)
		}
		if r.PgpassAdmin.User != "postgres" || r.PgpassAdmin.Alt != db.Password {
			t.Errorf("admin line %+v, want postgres with the engine's password", r.PgpassAdmin)
		}
		if len(r.Manifests) != 0 || r.InventoryErr != "" {
			t.Errorf("a legacy host has no manifests; records found %+v (%s)", r.Manifests, r.InventoryErr)
		}
		if !strings.Contains(r.Engine.Err, "not configured") {
			t.Errorf("a legacy host records no ENGINE_DB_PASSWORD; records says %+v", r.Engine)
		}
	})

	t.Run("after yum remove the records still read", func(t *testing.T) {
		h := Build(t, t.TempDir(), fakeDBs(StyleMaster, true, false))
		h.SimulatePackageRemoval(t)
		r := check.read(t, h.Root)
		checkCredentials(t, "engine", r.Engine, *h.Opts.Engine, true)
		checkCredentials(t, "DWH", r.DWH, *h.Opts.DWH, true)
		if len(r.Inventory) != 2 || r.InventoryErr != "" {
			t.Errorf("manifests %v, %s; want both", r.Inventory, r.InventoryErr)
		}
	})

	t.Run("a host never set up", func(t *testing.T) {
		h := Build(t, t.TempDir(), Options{})
		r := check.read(t, h.Root)
		if !strings.Contains(r.Engine.Err, "not configured") {
			t.Errorf("the package defaults leave ENGINE_DB_PASSWORD empty; records says %+v", r.Engine)
		}
		if len(r.Manifests) != 0 {
			t.Errorf("manifests %+v on a host never set up", r.Manifests)
		}
	})
}

func checkCredentials(t *testing.T, what string, got checkCreds, want DB, lossy bool) {
	t.Helper()
	if got.Err != "" {
		t.Errorf("%s credentials: %s", what, got.Err)
		return
	}
	if got.Host != want.Host || got.Port != want.Port || got.User != want.User || got.Database != want.Database || got.Secured != want.Secured {
		t.Errorf("%s credentials %s@%s:%d/%s (ssl %v), want %s@%s:%d/%s (ssl %v)", what,
			got.User, got.Host, got.Port, got.Database, got.Secured, want.User, want.Host, want.Port, want.Database, want.Secured)
	}
	switch {
	case lossy && (got.Password == want.Password || got.Alt != want.Password):
		t.Errorf("%s password %q, alt %q: the master writer loses %q, which only AltPassword should recover", what, got.Password, got.Alt, want.Password)
	case !lossy && (got.Password != want.Password || got.Alt != ""):
		t.Errorf("%s password %q (alt %q), want exactly %q", what, got.Password, got.Alt, want.Password)
	}
}

func checkManifests(t *testing.T, h *Host, r *checkReport, wantAlgos [][]string, contentOnly bool) {
	t.Helper()
	if r.InventoryErr != "" {
		t.Fatalf("LoadManifests: %s", r.InventoryErr)
	}
	var manifests []string
	for i, m := range r.Manifests {
		if m.Err != "" {
			t.Errorf("ParseManifest %s: %s", m.File, m.Err)
		}
		manifests = append(manifests, m.File)
		if i < len(wantAlgos) && !slices.Equal(m.Algos, wantAlgos[i]) && wantAlgos[i] != nil {
			t.Errorf("%s hashes with %v, want %v", m.File, m.Algos, wantAlgos[i])
		}
	}
	if !slices.Equal(manifests, h.Manifests) || !slices.Equal(r.Inventory, h.Manifests) {
		t.Errorf("records finds manifests %v (merged %v), Host says %v", manifests, r.Inventory, h.Manifests)
	}

	// Every digest matches the file, but for the one the administrator
	// changed.
	var recorded, changed []string
	verify := func(f checkFile) {
		data, err := os.ReadFile(h.Path(f.Path))
		if err != nil {
			t.Errorf("recorded %s: %v", f.Path, err)
			return
		}
		var sum string
		switch f.Algo {
		case "md5":
			s := md5.Sum(data)
			sum = hex.EncodeToString(s[:])
		case "sha256":
			s := sha256.Sum256(data)
			sum = hex.EncodeToString(s[:])
		default:
			t.Errorf("%s recorded without a digest", f.Path)
		}
		if sum != f.Hex && !slices.Contains(changed, f.Path) {
			changed = append(changed, f.Path)
		}
	}
	for _, g := range r.Groups {
		for _, f := range g.Files {
			recorded = append(recorded, f.Path)
			verify(f)
		}
	}
	var unremovable []string
	for _, f := range r.Unremovable {
		unremovable = append(unremovable, f.Path)
		verify(f)
	}
	slices.Sort(recorded)
	recorded = slices.Compact(recorded)
	slices.Sort(changed)
	if !slices.Equal(changed, h.ChangedFiles) || len(changed) == 0 {
		t.Errorf("files whose digest differs: %v; Host.ChangedFiles %v (want the administrator's change only)", changed, h.ChangedFiles)
	}
	want := slices.Concat(h.RecordedFiles, h.RecordedSymlinks)
	slices.Sort(want)
	if !slices.Equal(recorded, want) {
		t.Errorf("records lists\n%v\nHost.RecordedFiles+RecordedSymlinks\n%v", recorded, want)
	}
	slices.Sort(unremovable)
	if !slices.Equal(unremovable, h.Unremovable) {
		t.Errorf("[unremovable] %v, Host.Unremovable %v", unremovable, h.Unremovable)
	}
	for _, name := range []string{"core", "ca_pki", "ca_config", "ssl", "versionlock", "iso_domain", "exportfs", "ovirt_dwh_files", "ovirt_reports_files"} {
		if _, ok := r.group(name); !ok {
			t.Errorf("no file group %s", name)
		}
	}
	if pki, _ := r.group("ca_pki"); !slices.ContainsFunc(pki.Files, func(f checkFile) bool { return f.Path == pathPKIDir+"/apache-ca.pem" }) {
		t.Errorf("the apache-ca.pem symlink is not recorded in ca_pki")
	}

	// Reverting the recorded edits gives back the file before setup,
	// byte for byte, and misses exactly the lines Edit.Missing names.
	for _, g := range []string{"ssl", "versionlock"} {
		grp, _ := r.group(g)
		if len(grp.LineEdits) == 0 {
			t.Errorf("group %s records no line edit", g)
			continue
		}
		p := grp.LineEdits[0].Path
		e, ok := h.LineEdits[p]
		if !ok {
			t.Errorf("Host.LineEdits lacks %s", p)
			continue
		}
		if !slices.Equal(readFile(t, h.Path(p)), e.Edited) {
			t.Errorf("%s differs from Edit.Edited", p)
		}
		if contentOnly && slices.ContainsFunc(grp.LineEdits, func(le checkLineEdit) bool { return le.Change != "added" }) {
			t.Errorf("3.3.0 could record added lines only, got %+v", grp.LineEdits)
		}
		if contentOnly {
			continue // without the removed lines no revert is exact
		}
		reverted, missed := revert(e.Edited, grp.LineEdits)
		if string(reverted) != string(e.Original) {
			t.Errorf("reverting %s gives\n%s\nwant\n%s", p, reverted, e.Original)
		}
		if wantMissed := slices.Sorted(slices.Values(e.Missing)); !slices.Equal(missed, wantMissed) {
			t.Errorf("reverting %s misses %q, Edit.Missing %q", p, missed, e.Missing)
		}
	}
	if g, _ := r.group("exportfs"); len(g.LineEdits) != 1 || g.LineEdits[0].Path != pathExports || h.KeptLineEdits[pathExports].Edited == nil {
		t.Errorf("exportfs records %+v; want the /etc/exports line, and Host.KeptLineEdits to hold it", g.LineEdits)
	}
}

// revert undoes recorded line edits as ovirt-engine-remove does, newest
// first: an added line is removed, a removed line appended, a replacement
// swapped back. It returns the new content and the added lines it could
// not find.
func revert(content []byte, edits []checkLineEdit) ([]byte, []string) {
	lines := splitLines(string(content))
	var missed []string
	for i := len(edits) - 1; i >= 0; i-- {
		e := edits[i]
		switch e.Change {
		case "added", "replaced":
			j := slices.Index(lines, e.Added)
			switch {
			case j < 0:
				if !slices.Contains(missed, e.Added) {
					missed = append(missed, e.Added)
				}
			case e.Change == "replaced":
				lines[j] = e.Removed
			default:
				lines = slices.Delete(lines, j, j+1)
			}
		case "removed":
			lines = append(lines, e.Removed)
		}
	}
	slices.Sort(missed)
	out := strings.Join(lines, "\n")
	if len(lines) > 0 {
		out += "\n"
	}
	return []byte(out), missed
}

// The overlay must not leave anything in the tree.
func TestRecordsCheckWritesNothingIntoTheTree(t *testing.T) {
	newRecordsCheck(t)
	matches, _ := filepath.Glob(filepath.Join("..", "..", "..", "plugins", "internal", "zz_ovirthost_recordscheck*"))
	if len(matches) > 0 {
		t.Errorf("left in the tree: %v", matches)
	}
}
