package engine

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/component"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
	"github.com/engine-cleanup/engine-cleanup/sdk"
	"github.com/engine-cleanup/engine-cleanup/sdk/otopi"
)

// era is the generation of engine-setup whose records are on the host.
type era string

const (
	eraNone   era = ""
	eraOtopi  era = "otopi"  // 3.3 and later
	eraLegacy era = "legacy" // 3.0 to 3.2
)

// newestMajor is the newest engine-setup major version whose records this
// build understands: a post-install file from a later one may mean records
// we would misread.
const newestMajor = 4

// installation is what the records on the host say was set up. Detection
// only reads: it never changes the host.
type installation struct {
	era era

	// postInstall is the parsed post-install file, nil when absent.
	postInstall     otopi.Env
	postInstallPath string // as shown (under the root)
	version         string // OVESETUP_CORE/generatedByVersion
	engineEnabled   bool

	// creds are the engine database credentials, when a record holds them.
	creds *records.DBCreds
	// credsFile is where they are recorded (shown under the root).
	credsFile string
	// credsProblem says why there are no usable credentials although the
	// engine was set up; it blocks only when the database is to be cleared.
	credsProblem *sdk.Problem

	legacyPgpass *records.Pgpass

	inventory *records.Inventory

	// present lists the records found, as recorded paths.
	present []string
	// pkiTree is true when the PKI directory exists.
	pkiTree bool

	problems []sdk.Problem
}

// installed reports whether anything of the engine was set up here.
func (in *installation) installed() bool { return in.era != eraNone }

func exists(root, recorded string) bool { return component.Exists(root, recorded) }

func shown(root, recorded string) string { return component.Shown(root, recorded) }

// detect reads every record of the engine under root.
func detect(root string) *installation {
	in := &installation{}
	for _, r := range []string{records.PostInstallFile, records.EngineDatabaseConf, records.PKIConf,
		records.LegacyPgpass, records.UninstallDir} {
		if exists(root, r) {
			in.present = append(in.present, r)
		}
	}
	in.pkiTree = exists(root, records.PKIDir)

	in.readPostInstall(root)
	in.readManifests(root)
	switch {
	case in.postInstall != nil:
		// The engine plugin also owns what engine-setup records for the
		// whole host (manifests, the post-install file), DWH- or
		// Reports-only hosts included.
		in.era = eraOtopi
	case in.postInstall == nil && (len(in.inventory.Manifests) > 0 || exists(root, records.PKIConf) ||
		slices.ContainsFunc(credentialRecords(), func(r string) bool { return exists(root, r) })):
		// A cleanup that stopped while forgetting the records removed the
		// post-install file first: what is left still describes the host.
		in.era = eraOtopi
	case in.postInstall == nil && exists(root, records.LegacyPgpass):
		in.readLegacy(root)
	}
	if in.era == eraOtopi && (in.engineEnabled || in.postInstall == nil) {
		in.readCredentials(root)
	}
	// A tree holding only what a cleanup leaves (host certificates) is no
	// news; one with a CA or keystores that no record describes is.
	if in.era == eraNone && (exists(root, records.PKIDir+"/ca.pem") || exists(root, records.PKIDir+"/keys/engine.p12")) {
		in.problems = append(in.problems, sdk.Problem{Severity: sdk.Warning, Kind: sdk.KindLeftover,
			Message: fmt.Sprintf("%s exists but no setup record describes it: it is left alone", shown(root, records.PKIDir)),
			Remedy:  "if no engine will use it, archive and remove it by hand"})
	}
	return in
}

func (in *installation) readPostInstall(root string) {
	post, problem := component.PostInstall(root)
	if post == nil {
		return
	}
	in.postInstall, in.postInstallPath = post, shown(root, records.PostInstallFile)
	if problem != nil {
		in.problems = append(in.problems, *problem)
		// Treat the host as set up: an unreadable record is not an absent one.
		in.engineEnabled = true
		return
	}
	in.engineEnabled, _ = in.postInstall.Bool("OVESETUP_ENGINE_CORE/enable")
	in.version, _ = in.postInstall.Str("OVESETUP_CORE/generatedByVersion")
	if major, ok := majorOf(in.version); ok && major > newestMajor {
		v := in.postInstall["OVESETUP_CORE/generatedByVersion"]
		in.problems = append(in.problems, component.SeqII(v.File, v.Line,
			fmt.Sprintf("the records were written by engine-setup %s, newer than this engine-cleanup understands", in.version),
			"use the engine-cleanup of that oVirt version, or clean the host by hand"))
	}
}

func majorOf(version string) (int, bool) {
	head, _, _ := strings.Cut(version, ".")
	n, err := strconv.Atoi(head)
	return n, err == nil
}

func (in *installation) readManifests(root string) {
	inv, err := records.LoadManifests(root)
	if err != nil {
		file, line := component.Locate(err, shown(root, records.UninstallDir))
		in.problems = append(in.problems, component.SeqII(file, line,
			"an uninstall manifest cannot be read, so the files setup created are unknown: "+err.Error(),
			"restore the manifest from a backup, or clean the host by hand"))
		inv = &records.Inventory{}
	}
	in.inventory = inv
}

func (in *installation) readCredentials(root string) {
	in.credsFile = shown(root, records.EngineDatabaseConf)
	if !exists(root, records.EngineDatabaseConf) {
		if in.postInstall != nil {
			p := component.SeqII(in.credsFile, 0,
				"the post-install file "+in.postInstallPath+" says the engine was set up, but its database credentials file is missing",
				"restore the file from a backup, run with -d to keep the database, or clean the database by hand")
			in.credsProblem = &p
		}
		return
	}
	cfg, err := records.LoadConfig(root, records.EngineConfigBases()...)
	var creds records.DBCreds
	if err == nil {
		creds, err = records.DatabaseCredentials(cfg, records.PrefixEngine)
	}
	if err != nil {
		file, line := component.Locate(err, in.credsFile)
		p := component.SeqII(file, line, "the engine database credentials cannot be read: "+err.Error(),
			"restore the file from a backup, run with -d to keep the database, or clean the database by hand")
		in.credsProblem = &p
		return
	}
	in.creds = &creds
}

func (in *installation) readLegacy(root string) {
	path := shown(root, records.LegacyPgpass)
	data, err := records.ReadRecord(root, records.LegacyPgpass)
	var pg *records.Pgpass
	if err == nil {
		pg, err = records.ParsePgpass(path, bytes.NewReader(data))
	}
	switch {
	case errors.Is(err, records.ErrNotConfigured):
		// A .pgpass without the engine's section is the administrator's own.
		return
	case err != nil:
		file, line := component.Locate(err, path)
		in.era = eraLegacy
		p := component.SeqII(file, line, "the legacy database credentials cannot be read: "+err.Error(),
			"restore the file from a backup, run with -d to keep the database, or clean the database by hand")
		in.credsProblem = &p
		return
	}
	in.era, in.legacyPgpass, in.credsFile = eraLegacy, pg, path
	u := pg.User()
	creds := records.DBCreds{Host: u.Host, Port: records.LegacyDefaultDBPort, User: u.User, Password: u.Password,
		AltPassword: u.AltPassword, Database: u.Database}
	if port, err := strconv.Atoi(u.Port); err == nil {
		creds.Port = port
	}
	if creds.Host == "" || creds.Host == "*" {
		creds.Host = records.LegacyDefaultDBHost
	}
	if creds.Database == "" || creds.Database == "*" {
		creds.Database = records.LegacyDefaultDBName
	}
	in.creds = &creds
}
