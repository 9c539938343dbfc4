package ovirthost

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// isSetupRecordName reports whether base names a configuration file setup
// writes as a record: NN-setup-*.conf (10-setup-database.conf,
// 11-setup-sso.conf ...).
func isSetupRecordName(base string) bool {
	return len(base) > len("00-setup-.conf") && base[0] >= '0' && base[0] <= '9' && base[1] >= '0' && base[1] <= '9' &&
		strings.HasPrefix(base[2:], "-setup-") && strings.HasSuffix(base, ".conf")
}

// finish enables the services, writes the state to disk and fills in the
// Host from the state and the runs.
func (b *builder) finish() error {
	h, st := b.h, b.st
	b.services()
	if err := st.flush(); err != nil {
		return fmt.Errorf("writing the host under %s: %w", st.root, err)
	}

	// What the manifests record, and with which digest last.
	recorded := map[string]bool{}
	latest := map[string]hash{}
	for _, r := range b.runs {
		add := func(ps []string) {
			for _, p := range ps {
				if _, ok := st.files[p]; ok {
					recorded[p] = true
				}
			}
		}
		add(r.modified)
		for _, g := range r.groups {
			add(g.files)
		}
		for _, p := range r.unremovable {
			if st.exists(p) && !slices.Contains(h.Unremovable, p) {
				h.Unremovable = append(h.Unremovable, p)
			}
		}
		for p, hash := range r.hashes {
			latest[p] = hash
		}
	}
	for p := range recorded {
		if st.files[p].link != "" {
			h.RecordedSymlinks = append(h.RecordedSymlinks, p)
		} else {
			h.RecordedFiles = append(h.RecordedFiles, p)
		}
		if strings.HasPrefix(p, pathPKIDir+"/") {
			h.PKIFiles = append(h.PKIFiles, p)
		}
		if isSetupRecordName(path.Base(p)) || p == pathPostInstall {
			h.Records = append(h.Records, p)
		}
	}
	if b.o.Era == EraLegacy && b.o.Engine != nil {
		for _, rel := range legacyPKIFiles() {
			if p := pathPKIDir + "/" + rel; st.files[p] != nil {
				h.PKIFiles = append(h.PKIFiles, p)
			}
		}
	}
	h.Records = append(h.Records, b.records...)
	for _, p := range st.under(pathPKIDir) {
		if !slices.Contains(h.PKIFiles, p) {
			h.UntrackedPKI = append(h.UntrackedPKI, p)
		}
	}

	// Files whose digest no longer matches: the administrator's changes.
	for p, hash := range latest {
		if data, ok := st.get(p); ok && digest(hash.Algo, data) != hash.Hex && !slices.Contains(h.ChangedFiles, p) {
			h.ChangedFiles = append(h.ChangedFiles, p)
		}
	}

	// Shared files and their edits.
	edit := func(p string) Edit {
		cur, _ := st.get(p)
		return Edit{Original: []byte(b.originals[p]), Edited: cur, Missing: missingLines(cur, h.recordedAdded[p])}
	}
	for _, p := range []string{pathSSLConf, pathYumVersionlock} {
		if len(h.recordedAdded[p]) > 0 {
			h.LineEdits[p] = edit(p)
		}
	}
	if len(h.recordedAdded[pathExports]) > 0 || h.KeptLineEdits[pathExports].Original != nil {
		h.KeptLineEdits[pathExports] = edit(pathExports)
	}

	if iso := st.under(pathISOExport); len(iso) > 0 {
		h.ISOExport = pathISOExport
		b.preserved = append(b.preserved, iso...)
		b.preserved = append(b.preserved, pathExports)
	}
	if st.files[pathOtopiSysctl] != nil {
		b.preserved = append(b.preserved, pathOtopiSysctl)
	}
	h.Preserved = b.preserved
	for _, p := range b.userFiles {
		if strings.HasPrefix(p, pathPKIDir+"/") {
			continue // otopi's copies in the PKI tree: untracked PKI
		}
		h.UserFiles = append(h.UserFiles, p)
	}
	h.Manifests = b.manifests
	h.PackageFiles = h.pkg.paths(false)

	for _, db := range []*DB{b.o.Engine, b.o.DWH, b.o.Reports} {
		if db != nil {
			h.Passwords = append(h.Passwords, db.Password)
		}
	}
	if b.o.Engine != nil {
		h.Passwords = append(h.Passwords, b.storePassword)
		if b.o.Era == EraOtopi {
			h.Passwords = append(h.Passwords, b.ssoSecret)
			if b.v.atLeastPatch(4, 5, 6) {
				h.Passwords = append(h.Passwords, b.ovnSecret)
			}
		}
		h.KeystorePassword = b.storePassword
	}
	h.Passwords = append(h.Passwords, b.passwords...)

	for _, l := range []*[]string{&h.RecordedFiles, &h.RecordedSymlinks, &h.PKIFiles, &h.UntrackedPKI, &h.UserFiles,
		&h.Preserved, &h.Unremovable, &h.Records, &h.ChangedFiles, &h.Passwords, &h.Services} {
		slices.Sort(*l)
		*l = slices.Compact(*l)
	}
	return nil
}

// services records the enabled services as "systemctl --root DIR enable"
// does: a wants link with the unit's path inside DIR as target.
func (b *builder) services() {
	list := b.o.Services
	if list == nil && b.o.Engine != nil {
		if b.o.Era == EraLegacy {
			list = []string{svcEngine}
		} else {
			list = []string{svcEngine, svcWebSocketProxy, svcFenceKdump}
			if b.o.DWH != nil {
				list = append(list, svcDWH)
			}
			if b.o.Reports != nil {
				list = append(list, svcReports)
			}
		}
	}
	for _, s := range list {
		b.st.symlinkVerbatim(path.Join(pathWants, s+".service"), path.Join(pathUnits, s+".service"))
	}
	b.h.Services = slices.Clone(list)
}

// missingLines returns the recorded added lines that data does not hold.
func missingLines(data []byte, addedLines []string) []string {
	have := map[string]bool{}
	for _, l := range splitLines(string(data)) {
		have[strings.TrimSpace(l)] = true
	}
	var out []string
	for _, l := range addedLines {
		if !have[strings.TrimSpace(l)] && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}
