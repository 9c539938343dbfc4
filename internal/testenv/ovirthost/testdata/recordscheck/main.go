// Command recordscheck reads a host built by ovirthost with the records
// package and prints, as JSON, what the records package makes of it.
//
// Go's internal-package rule keeps plugins/internal/records out of reach
// of internal/testenv/ovirthost, so the tests compile this file with
// "go build -overlay" as if it lived under plugins/internal/; nothing is
// written into that tree.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

type creds struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	User     string `json:"user"`
	Password string `json:"password"`
	Alt      string `json:"alt,omitempty"`
	Database string `json:"database"`
	Secured  bool   `json:"secured"`
	Err      string `json:"err,omitempty"`
}

type fileRecord struct {
	Path string `json:"path"`
	Algo string `json:"algo"`
	Hex  string `json:"hex"`
}

type lineEdit struct {
	Path    string `json:"path"`
	Change  string `json:"change"`
	Added   string `json:"added"`
	Removed string `json:"removed"`
}

type group struct {
	Name      string       `json:"name"`
	Files     []fileRecord `json:"files"`
	LineEdits []lineEdit   `json:"lineEdits"`
}

type manifest struct {
	File  string   `json:"file"`
	Algos []string `json:"algos"`
	Err   string   `json:"err,omitempty"`
}

type pgpassEntry struct {
	User     string `json:"user"`
	Host     string `json:"host"`
	Port     string `json:"port"`
	Password string `json:"password"`
	Alt      string `json:"alt,omitempty"`
}

type report struct {
	Layout       map[string]any    `json:"layout"`
	Engine       creds             `json:"engine"`
	EngineDWH    creds             `json:"engineDWH"`
	DWH          creds             `json:"dwh"`
	DWHEngine    creds             `json:"dwhEngine"`
	ReportsDWH   creds             `json:"reportsDWH"`
	Reports      creds             `json:"reports"`
	PKI          map[string]string `json:"pki"`
	ConfigErr    string            `json:"configErr,omitempty"`
	Manifests    []manifest        `json:"manifests"`
	Inventory    []string          `json:"inventoryManifests"`
	Groups       []group           `json:"groups"`
	Unremovable  []fileRecord      `json:"unremovable"`
	InventoryErr string            `json:"inventoryErr,omitempty"`
	PgpassUser   *pgpassEntry      `json:"pgpassUser,omitempty"`
	PgpassAdmin  *pgpassEntry      `json:"pgpassAdmin,omitempty"`
	PgpassErr    string            `json:"pgpassErr,omitempty"`
}

func main() {
	root := flag.String("root", "", "host root")
	flag.Parse()
	r := report{
		Layout: map[string]any{
			"EngineConfigDefaults": records.EngineConfigDefaults, "EngineConfig": records.EngineConfig,
			"EngineDatabaseConf": records.EngineDatabaseConf, "EngineDWHDatabaseConf": records.EngineDWHDatabaseConf,
			"PKIConf": records.PKIConf, "PKIDir": records.PKIDir, "EngineBackupDir": records.EngineBackupDir,
			"DWHConfigDefaults": records.DWHConfigDefaults, "DWHConfig": records.DWHConfig,
			"DWHDatabaseConf": records.DWHDatabaseConf, "DWHUUIDConf": records.DWHUUIDConf, "DWHBackupDir": records.DWHBackupDir,
			"ReportsConfigDefaults": records.ReportsConfigDefaults, "ReportsConfig": records.ReportsConfig,
			"ReportsDatabaseConf": records.ReportsDatabaseConf, "ReportsBuildomaticProperties": records.ReportsBuildomaticProperties,
			"SetupConfig": records.SetupConfig, "PostInstallFile": records.PostInstallFile, "UninstallDir": records.UninstallDir,
			"SetupLogDir": records.SetupLogDir, "EngineDumpPrefix": records.EngineDumpPrefix, "DWHDumpPrefix": records.DWHDumpPrefix,
			"DumpSuffix": records.DumpSuffix, "LegacyPgpass": records.LegacyPgpass, "LegacySysctlConf": records.LegacySysctlConf,
			"LegacyDBBackupDir": records.LegacyDBBackupDir, "LegacyLogDir": records.LegacyLogDir,
			"LegacyPKIFiles": records.LegacyPKIFiles(), "PrefixEngine": records.PrefixEngine, "PrefixDWH": records.PrefixDWH,
			"FileGroupPrefix": records.FileGroupPrefix, "UnremovableSection": records.UnremovableSection,
			"EngineServices": records.EngineServices(), "LegacyEngineServices": records.LegacyEngineServices(),
			"ServiceDWH": records.ServiceDWH, "ServiceReports": records.ServiceReports,
		},
		PKI: map[string]string{},
	}
	if *root == "" {
		fail(json.NewEncoder(os.Stdout).Encode(r))
		return
	}

	loadCreds := func(bases []string, prefix string) creds {
		cfg, err := records.LoadConfig(*root, bases...)
		if err != nil {
			return creds{Err: err.Error()}
		}
		return toCreds(records.DatabaseCredentials(cfg, prefix))
	}
	r.Engine = loadCreds(records.EngineConfigBases(), records.PrefixEngine)
	r.EngineDWH = loadCreds(records.EngineConfigBases(), records.PrefixDWH)
	r.DWH = loadCreds(records.DWHConfigBases(), records.PrefixDWH)
	r.DWHEngine = loadCreds(records.DWHConfigBases(), records.PrefixEngine)
	r.ReportsDWH = loadCreds(records.ReportsConfigBases(), records.PrefixDWH)
	if data, err := records.ReadRecord(*root, records.ReportsBuildomaticProperties); err != nil {
		r.Reports = creds{Err: err.Error()}
	} else {
		r.Reports = toCreds(records.ReportsDatabaseCredentials(records.ReportsBuildomaticProperties, bytes.NewReader(data)))
	}
	if cfg, err := records.LoadConfig(*root, records.EngineConfigBases()...); err != nil {
		r.ConfigErr = err.Error()
	} else {
		for _, k := range []string{"ENGINE_PKI_ENGINE_STORE_PASSWORD", "ENGINE_PKI_TRUST_STORE_PASSWORD", "ENGINE_HTTPS_PKI_TRUST_STORE_PASSWORD", "ENGINE_PKI_ENGINE_STORE"} {
			if v, _, ok := cfg.Get(k); ok {
				r.PKI[k] = v
			}
		}
	}

	paths, err := records.ManifestPaths(*root)
	if err != nil {
		r.InventoryErr = err.Error()
	}
	for _, p := range paths {
		m := manifest{File: p}
		data, err := records.ReadRecord(*root, p)
		if err == nil {
			var pm *records.Manifest
			if pm, err = records.ParseManifest(p, bytes.NewReader(data)); err == nil {
				seen := map[string]bool{}
				for _, g := range pm.Groups {
					for _, f := range g.Files {
						if !seen[string(f.Hash.Algo)] {
							seen[string(f.Hash.Algo)] = true
							m.Algos = append(m.Algos, string(f.Hash.Algo))
						}
					}
				}
			}
		}
		if err != nil {
			m.Err = err.Error()
		}
		r.Manifests = append(r.Manifests, m)
	}
	if inv, err := records.LoadManifests(*root); err != nil {
		r.InventoryErr = err.Error()
	} else {
		for _, m := range inv.Manifests {
			rel, _ := filepath.Rel(*root, m)
			r.Inventory = append(r.Inventory, "/"+filepath.ToSlash(rel))
		}
		for _, g := range inv.Groups {
			out := group{Name: g.Name}
			for _, f := range g.Files {
				out.Files = append(out.Files, fileRecord{f.Path, string(f.Hash.Algo), f.Hash.Hex})
			}
			for _, e := range g.LineEdits {
				out.LineEdits = append(out.LineEdits, lineEdit{e.Path, e.Change.String(), e.Added, e.Removed})
			}
			r.Groups = append(r.Groups, out)
		}
		for _, f := range inv.Unremovable {
			r.Unremovable = append(r.Unremovable, fileRecord{f.Path, string(f.Hash.Algo), f.Hash.Hex})
		}
	}

	if data, err := records.ReadRecord(*root, records.LegacyPgpass); err != nil {
		r.PgpassErr = err.Error()
	} else if p, err := records.ParsePgpass(records.LegacyPgpass, bytes.NewReader(data)); err != nil {
		r.PgpassErr = err.Error()
	} else {
		conv := func(e records.PgpassEntry) *pgpassEntry {
			return &pgpassEntry{User: e.User, Host: e.Host, Port: e.Port, Password: e.Password.Reveal(), Alt: e.AltPassword.Reveal()}
		}
		r.PgpassUser, r.PgpassAdmin = conv(p.User()), conv(p.Admin())
	}
	fail(json.NewEncoder(os.Stdout).Encode(r))
}

func toCreds(c records.DBCreds, err error) creds {
	if err != nil {
		return creds{Err: err.Error()}
	}
	return creds{Host: c.Host, Port: c.Port, User: c.User, Password: c.Password.Reveal(), Alt: c.AltPassword.Reveal(),
		Database: c.Database, Secured: c.Secured}
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
