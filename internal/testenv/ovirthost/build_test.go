package ovirthost

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/sdk/otopi"
)

func TestPostInstallFileParsesWithOtopi(t *testing.T) {
	for _, c := range []struct {
		name        string
		version     string
		dwh, report bool
		wantISO     bool
	}{
		{"4.5.6 with DWH and Reports", "4.5.6", true, true, false},
		{"4.5.6 without DWH", "4.5.6", false, false, false},
		{"4.4.10, which still recorded the ISO domain", "4.4.10", true, false, true},
		{"3.6.7", "3.6.7", false, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := fakeDBs(StyleMaster, c.dwh, c.report)
			opts.EngineVersion = c.version
			if c.version == "3.6.7" {
				opts = fakeDBs(Style330, c.dwh, c.report)
				opts.EngineVersion = c.version
			}
			h := Build(t, t.TempDir(), opts)
			f, err := otopi.ReadFile(h.Path(pathPostInstall))
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Warnings) > 0 {
				t.Errorf("warnings: %v", f.Warnings)
			}
			env := otopi.Merge(f)
			if v, _ := env.Str("OVESETUP_CORE/generatedByVersion"); v != c.version {
				t.Errorf("generatedByVersion %q, want %q", v, c.version)
			}
			if on, ok := env.Bool("OVESETUP_ENGINE_CORE/enable"); !on || !ok {
				t.Errorf("OVESETUP_ENGINE_CORE/enable is not bool:True")
			}
			if fqdn, _ := env.Str("OVESETUP_CONFIG/fqdn"); fqdn != h.Opts.FQDN {
				t.Errorf("fqdn %q", fqdn)
			}
			if fm := env["OVESETUP_CONFIG/firewallManager"]; fm.Type != otopi.TypeNone {
				t.Errorf("firewallManager %v, want none:None", fm)
			}
			if on, ok := env.Bool("OVESETUP_DWH_CORE/enable"); !ok || on != c.dwh {
				t.Errorf("OVESETUP_DWH_CORE/enable = %v (set %v), want %v", on, ok, c.dwh)
			}
			if on, ok := env.Bool("OVESETUP_REPORTS_CORE/enable"); c.report && !on || !c.report && on {
				t.Errorf("OVESETUP_REPORTS_CORE/enable = %v (set %v), want %v", on, ok, c.report)
			}
			mp, ok := env.Str("OVESETUP_CONFIG/isoDomainMountPoint")
			if c.wantISO != ok || ok && mp != h.ISOExport {
				t.Errorf("isoDomainMountPoint %q (set %v); want it set: %v", mp, ok, c.wantISO)
			}
			// The file is not the package's, which is what lets it survive
			// yum remove.
			if slices.Contains(h.PackageFiles, pathPostInstall) || !slices.Contains(h.Records, pathPostInstall) {
				t.Errorf("the post-install file must be a record, not a package file")
			}
		})
	}
}

func TestEverySecretIsListedAndNoLogHoldsOne(t *testing.T) {
	for _, era := range []Era{EraOtopi, EraLegacy} {
		t.Run(string(era), func(t *testing.T) {
			opts := fakeDBs(Style330, era == EraOtopi, era == EraOtopi)
			opts.Era = era
			h := Build(t, t.TempDir(), opts)
			if len(h.Passwords) < 3 {
				t.Fatalf("Passwords %q", h.Passwords)
			}
			var all [][]byte
			var logs []string
			err := filepath.WalkDir(h.Root, func(p string, d fs.DirEntry, err error) error {
				if err != nil || !d.Type().IsRegular() {
					return err
				}
				data, err := os.ReadFile(p)
				all = append(all, data)
				if strings.HasSuffix(p, ".log") {
					logs = append(logs, string(data))
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, pw := range h.Passwords {
				forms := []string{pw, pyEscape(pw, `:\`), pyEscape(pw, `"\$`)}
				if !slices.ContainsFunc(all, func(data []byte) bool {
					return slices.ContainsFunc(forms, func(f string) bool { return bytes.Contains(data, []byte(f)) })
				}) {
					t.Errorf("secret %q is listed but written nowhere", pw)
				}
				for _, l := range logs {
					if strings.Contains(l, pw) {
						t.Errorf("a setup log holds %q", pw)
					}
				}
			}
		})
	}
}

func TestWhatMustSurviveExistsAndIsNotRemoved(t *testing.T) {
	for _, era := range []Era{EraOtopi, EraLegacy} {
		t.Run(string(era), func(t *testing.T) {
			opts := fakeDBs(StyleMaster, era == EraOtopi, false)
			if era == EraLegacy {
				opts = fakeDBs(Style330, false, false)
			}
			opts.Era = era
			h := Build(t, t.TempDir(), opts)
			survive, removed := h.MustSurvive(), h.MustBeRemoved()
			for _, p := range slices.Concat(survive, removed) {
				if !exists(t, h.Path(p)) {
					t.Errorf("%s is listed but missing", p)
				}
			}
			for _, p := range removed {
				if slices.Contains(survive, p) {
					t.Errorf("%s must both survive and be removed", p)
				}
			}
			for _, p := range []string{pathNotes, pathPKIDir + "/certs/host1.example.com.cer", pathPKIDir + "/requests/host1.example.com.req", pathExports} {
				if !slices.Contains(survive, p) {
					t.Errorf("%s is not among the files that must survive", p)
				}
			}
			if h.ISOExport == "" || !slices.Contains(survive, h.ISOExport) {
				t.Errorf("the ISO export %q must survive", h.ISOExport)
			}
			for _, p := range removed {
				if strings.HasPrefix(p, h.ISOExport+"/") {
					t.Errorf("%s of the ISO export is to be removed", p)
				}
			}
			if era == EraOtopi {
				for _, p := range []string{pathCustomConf, pathEngineDBConf + ".20240101000000", pathPostInstall + ".20240101000000"} {
					if !slices.Contains(h.UserFiles, p) {
						t.Errorf("%s is not a user file", p)
					}
				}
				for _, p := range []string{pathEngineDBConf, pathPKIConf, pathPostInstall, pathPKIDir + "/keys/engine.p12", pathPKIDir + "/apache-ca.pem"} {
					if !slices.Contains(removed, p) {
						t.Errorf("%s is not to be removed", p)
					}
				}
				if !slices.Contains(h.Unremovable, pathOtopiSysctl) || slices.Contains(removed, pathOtopiSysctl) {
					t.Errorf("the sysctl file is unremovable")
				}
			} else {
				if !slices.Equal(h.Records, []string{pathLegacyPgpass}) || len(h.Manifests) != 0 || exists(t, h.Path(pathPostInstall)) {
					t.Errorf("legacy records %v, manifests %v", h.Records, h.Manifests)
				}
				if !slices.Contains(survive, pathLegacySysctl) || !slices.Contains(survive, pathPKIDir+"/private/ca.pem") {
					t.Errorf("sysctl and the untracked CA key must survive a legacy cleanup")
				}
				if len(h.PKIFiles) != len(legacyPKIFiles()) {
					t.Errorf("legacy PKI files %v", h.PKIFiles)
				}
			}
		})
	}
}

func TestAHostNeverSetUpHasOnlyPackagesAndUserFiles(t *testing.T) {
	h := Build(t, t.TempDir(), Options{})
	if len(h.Records)+len(h.Manifests)+len(h.RecordedFiles)+len(h.PKIFiles)+len(h.Services) != 0 {
		t.Errorf("records %v, manifests %v, recorded %v, PKI %v, services %v", h.Records, h.Manifests, h.RecordedFiles, h.PKIFiles, h.Services)
	}
	if exists(t, h.Path(pathPostInstall)) || exists(t, h.Path(pathUninstallDir)) || !exists(t, h.Path(pathEngineDefaults)) {
		t.Errorf("a host never set up has the packages and nothing of setup")
	}
	if len(h.MustBeRemoved()) != 0 {
		t.Errorf("nothing to clean, yet %v", h.MustBeRemoved())
	}
}

func TestServicesAreRecordedAsAsked(t *testing.T) {
	opts := fakeDBs(StyleMaster, false, false)
	opts.Services = []string{svcEngine, svcNotifier}
	h := Build(t, t.TempDir(), opts)
	for _, s := range opts.Services {
		target, err := os.Readlink(h.Path(pathWants + "/" + s + ".service"))
		if err != nil || target != pathUnits+"/"+s+".service" {
			t.Errorf("%s: wants link %q, %v", s, target, err)
		}
	}
	if exists(t, h.Path(pathWants+"/"+svcWebSocketProxy+".service")) {
		t.Errorf("a service not asked for is enabled")
	}
}

func TestBadOptionsAreRefused(t *testing.T) {
	good := fakeDBs(Style330, true, true)
	for _, c := range []struct {
		name   string
		change func(o *Options)
		want   string
	}{
		{"an unknown era", func(o *Options) { o.Era = "ancient" }, "unknown era"},
		{"a legacy version in the otopi era", func(o *Options) { o.EngineVersion = "3.2.0" }, "predates otopi"},
		{"an otopi version in the legacy era", func(o *Options) { o.Era, o.DWH, o.Reports = EraLegacy, nil, nil; o.EngineVersion = "4.5.6" }, "not of the legacy era"},
		{"a bare $ with the master writer", func(o *Options) { o.PasswordStyle = StyleMaster }, "unreadable"},
		{"DWH without an engine", func(o *Options) { o.Engine = nil }, "need an engine"},
		{"Reports without DWH", func(o *Options) { o.DWH = nil }, "Reports needs DWH"},
		{"a password with surrounding blanks", func(o *Options) { o.Engine.Password = " pw" }, "surrounding blanks"},
		{"a port out of range", func(o *Options) { o.Engine.Port = 0 }, "port"},
		{"an unknown style", func(o *Options) { o.PasswordStyle = "4.0" }, "unknown password style"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := good
			e := *good.Engine
			o.Engine = &e
			c.change(&o)
			_, err := normalize(o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("normalize = %v, want an error with %q", err, c.want)
			}
		})
	}
	if _, err := normalize(good); err != nil {
		t.Errorf("the good options are refused: %v", err)
	}
}
