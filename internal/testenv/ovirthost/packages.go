package ovirthost

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// packageSet is what the installed rpms own: the files, and the
// directories that rpm creates with them.
type packageSet struct {
	files []pkgFile
	dirs  []pkgDir
}

type pkgFile struct {
	path string
	data []byte
	mode fs.FileMode
	// config is %config: rpm -e keeps a changed one as <path>.rpmsave.
	config bool
	// engine: owned by an ovirt-engine* package, which "yum remove
	// ovirt-engine" removes; DWH and Reports packages stay.
	engine bool
}

type pkgDir struct {
	path   string
	mode   fs.FileMode
	engine bool
}

// packagesFor returns the packages of a host of options o, version v.
func packagesFor(o Options, v version) *packageSet {
	ps := &packageSet{}
	eng := func(p, data string, mode fs.FileMode, config bool) {
		ps.files = append(ps.files, pkgFile{path: p, data: []byte(data), mode: mode, config: config, engine: true})
	}
	other := func(p, data string, mode fs.FileMode, config bool) {
		ps.files = append(ps.files, pkgFile{path: p, data: []byte(data), mode: mode, config: config})
	}
	dir := func(p string, mode fs.FileMode) { ps.dirs = append(ps.dirs, pkgDir{path: p, mode: mode, engine: true}) }

	if o.Era == EraLegacy {
		eng(pathLegacyDefaults, legacyDefaults(v), 0o644, false)
		eng("/usr/share/ovirt-engine/conf/ovirt-engine-proxy.conf.in", proxyConfTemplate, 0o644, false)
		eng("/usr/share/ovirt-engine/scripts/engine-setup.py", script("exec python /usr/share/ovirt-engine/scripts/engine_setup.py \"$@\""), 0o755, false)
		eng("/usr/bin/engine-setup", script("exec /usr/share/ovirt-engine/scripts/engine-setup.py \"$@\""), 0o755, false)
		eng("/usr/bin/engine-cleanup", script("exec /usr/share/ovirt-engine/scripts/engine-cleanup.py \"$@\""), 0o755, false)
		eng("/usr/share/ovirt-engine/scripts/engine-cleanup.py", script("# legacy engine-cleanup"), 0o755, false)
		eng(pathEngineConf, "#Timeout value in miliseconds for stop checking if DB connectivity is available\n#OnStartConnectionTimeout=300000\n", 0o644, true)
		eng(pathLegacySysconfig, legacySysconfigOriginal, 0o644, true)
		eng("/etc/ovirt-engine/notifier/notifier.conf", "MAIL_SERVER=\nMAIL_PORT=25\n", 0o640, true)
		eng("/etc/ovirt-engine/engine-config/engine-config.conf", "# engine-config settings\n", 0o644, true)
		eng(pathUnits+"/ovirt-engine.service", unitFile("oVirt Engine", "/usr/bin/engine-service start"), 0o644, false)
		eng("/etc/rc.d/init.d/engine-notifierd", script("# chkconfig: - 65 34\n# description: oVirt Engine notifier\n. /etc/rc.d/init.d/functions"), 0o755, false)
		// 3.2 shipped its CA configuration in the package.
		eng(pathPKIDir+"/openssl.conf", opensslConf, 0o644, true)
		eng(pathPKIDir+"/cacert.template", caCertTemplate, 0o644, true)
		eng(pathPKIDir+"/cert.template", certTemplate(""), 0o644, true)
		eng(pathPKIDir+"/database.txt", "", 0o644, true)
		eng(pathPKIDir+"/serial.txt", "1000\n", 0o644, true)
		for _, d := range []string{"", "/certs", "/keys", "/requests", "/private"} {
			dir(pathPKIDir+d, 0o755)
		}
		dir(pathEngineCache, 0o755)
		return ps
	}

	eng(pathEngineDefaults, engineDefaults(v), 0o644, false)
	eng("/usr/share/ovirt-engine/services/ovirt-engine/ovirt-engine.py", "#!/usr/bin/python3\n\"\"\"oVirt engine service.\"\"\"\n", 0o755, false)
	eng(pathSetupConfigPy, setupConfigPy(v), 0o644, false)
	eng("/usr/share/ovirt-engine/setup/bin/ovirt-engine-setup", script("exec otopi \"BASE/pluginGroups=str:otopi:ovirt-engine-common:ovirt-engine-setup\" \"$@\""), 0o755, false)
	eng("/usr/share/ovirt-engine/setup/bin/ovirt-engine-remove", script("exec otopi \"BASE/pluginGroups=str:otopi:ovirt-engine-common:ovirt-engine-remove\" \"$@\""), 0o755, false)
	eng("/usr/bin/engine-setup", script("exec /usr/share/ovirt-engine/setup/bin/ovirt-engine-setup \"$@\""), 0o755, false)
	eng("/usr/bin/engine-cleanup", script("exec /usr/share/ovirt-engine/setup/bin/ovirt-engine-remove \"$@\""), 0o755, false)
	eng("/usr/share/ovirt-engine/conf/ovirt-engine-proxy.conf.v2.in", proxyConfTemplate, 0o644, false)
	eng("/usr/share/ovirt-engine/conf/ovirt-engine-root-redirect.conf.in", rootRedirectTemplate, 0o644, false)
	for _, s := range []string{"pki-create-ca.sh", "pki-enroll-pkcs12.sh", "pki-enroll-request.sh", "pki-pkcs12-extract.sh"} {
		eng("/usr/share/ovirt-engine/bin/"+s, script(". \"$(dirname \"$0\")/pki-common.sh\""), 0o755, false)
	}
	eng("/usr/share/ovirt-engine/dbscripts/schema.sh", script("# engine database schema tool"), 0o755, false)
	for _, s := range []struct{ name, desc string }{
		{svcEngine, "oVirt Engine"},
		{svcNotifier, "oVirt Engine Notifier"},
		{svcFenceKdump, "oVirt Engine fence_kdump Listener"},
		{svcWebSocketProxy, "oVirt Engine websockets proxy"},
	} {
		eng(pathUnits+"/"+s.name+".service", unitFile(s.desc, "/usr/share/ovirt-engine/services/"+s.name+"/"+s.name+".py start"), 0o644, false)
	}
	eng(pathPackagingConf, "[environment:default]\nOVESETUP_APACHE/configureRootRedirectionDefault=bool:True\nOVESETUP_CONFIG/validFirewallManagers=str:firewalld\n", 0o644, true)
	if v.atLeast(4, 0) {
		eng(pathPackagingJBoss, "[environment:default]\nOVESETUP_CONFIG/jbossHome=str:/usr/share/ovirt-engine-wildfly\nOVESETUP_RPMDISTRO/jbossPackages=str:ovirt-engine-wildfly,ovirt-engine-wildfly-overlay\n", 0o644, true)
	}
	if v.atLeast(4, 4) {
		eng(pathJBossOverlay, "ENGINE_JAVA_MODULEPATH=\"/usr/share/ovirt-engine-wildfly-overlay/modules:${ENGINE_JAVA_MODULEPATH}\"\n", 0o644, true)
	}
	eng(pathEngineConfReadme, "ovirt-engine service configuration directory\n\nOnly *.conf are considered.\n\nFiles are sorted by name, last wins.\n", 0o644, false)
	eng("/etc/ovirt-engine/engine-config/engine-config.conf", "# engine-config settings\n", 0o644, true)
	eng("/etc/logrotate.d/ovirt-engine", "/var/log/ovirt-engine/*.log {\n\tmonthly\n\tmissingok\n\tcompress\n}\n", 0o644, true)
	eng(pathPKIDir+"/cacert.template.in", caCertTemplate, 0o644, true)
	eng(pathPKIDir+"/cert.template.in", certTemplate("@AIA@"), 0o644, true)
	eng(pathPKIDir+"/openssl.conf", opensslConf, 0o644, true)
	pkiDirs := []string{"", "/certs", "/keys", "/requests", "/private"}
	if v.atLeast(4, 4) {
		pkiDirs = append(pkiDirs, "/certs-qemu", "/requests-qemu")
	}
	for _, d := range pkiDirs {
		mode := fs.FileMode(0o755)
		if d == "/private" {
			mode = 0o750
		}
		dir(pathPKIDir+d, mode)
	}
	dir(pathEngineCache, 0o755)
	dir(pathSetupLogs, 0o755)

	if o.DWH != nil {
		other(pathDWHDefaults, dwhDefaults(v), 0o644, false)
		other(pathUnits+"/"+svcDWH+".service", unitFile("oVirt Engine Data Warehouse", "/usr/share/ovirt-engine-dwh/services/ovirt-engine-dwhd/ovirt-engine-dwhd.py start"), 0o644, false)
		other(pathDWHConfD+"/README", "ovirt-engine-dwhd configuration directory\n", 0o644, false)
	}
	if o.Reports != nil {
		other(pathReportsDefaults, reportsDefaults, 0o644, false)
		other(pathUnits+"/"+svcReports+".service", unitFile("oVirt Engine Reports", "/usr/share/ovirt-engine-reports/services/ovirt-engine-reportsd/ovirt-engine-reportsd.py start"), 0o644, false)
		other(pathReportsConfD+"/README", "ovirt-engine-reports configuration directory\n", 0o644, false)
	}
	return ps
}

// install puts the packages into the state, as rpm -i does on a host that
// never had them.
func (ps *packageSet) install(st *state) {
	for _, d := range ps.dirs {
		st.dir(d.path, d.mode)
	}
	for _, f := range ps.files {
		st.put(f.path, f.data, f.mode)
	}
}

func (ps *packageSet) paths(engineOnly bool) []string {
	var out []string
	for _, f := range ps.files {
		if f.engine || !engineOnly {
			out = append(out, f.path)
		}
	}
	slices.Sort(out)
	return out
}

// EnginePackageFiles are the PackageFiles that SimulatePackageRemoval
// removes (those of the ovirt-engine* packages).
func (h *Host) EnginePackageFiles() []string { return h.pkg.paths(true) }

// SimulatePackageRemoval replays "yum remove ovirt-engine": the engine
// packages' scriptlets and file removal (DWH and Reports packages stay).
//
//   - %preun copies /etc/pki/ovirt-engine to
//     /etc/pki/ovirt-engine-backups/ovirt-engine-<date> (PKIBackup);
//   - %systemd_preun disables the engine's services;
//   - rpm -e removes the package files; a %config file that differs from
//     the package's is kept as <file>.rpmsave;
//   - %postun deletes /var/cache/ovirt-engine and the whole
//     /etc/pki/ovirt-engine, and deletes every versionlock.list line that
//     contains "ovirt-engine";
//   - directories of the packages that are left empty go.
//
// Setup's records (post-install file, 10-setup-*.conf, manifests, .pgpass)
// are not the packages' and stay: that is what makes sequence II possible.
func (h *Host) SimulatePackageRemoval(t testing.TB) {
	t.Helper()
	if h.InstalledVersion == "" {
		t.Fatalf("ovirthost: SimulatePackageRemoval: the engine packages are not installed")
	}
	now := time.Now()
	pki := h.Path(pathPKIDir)
	if _, err := os.Lstat(pki); err == nil {
		stamp := now.Format("20060102150405")
		if h.Opts.Era == EraLegacy {
			stamp = now.Format("2006_01_02_15_04_05")
		}
		backup := path.Join(pathPKIBackups, "ovirt-engine-"+stamp)
		copyTree(t, pki, h.Path(backup))
		h.PKIBackup = backup
	}

	disabled := map[string]bool{}
	for _, s := range h.Services {
		if slices.Contains(engineServices(), s) || slices.Contains(legacyEngineServices(), s) {
			removeIfExists(t, h.Path(path.Join(pathWants, s+".service")))
			disabled[s] = true
		}
	}
	h.Services = slices.DeleteFunc(h.Services, func(s string) bool { return disabled[s] })

	var emptied []string
	for _, f := range h.pkg.files {
		if !f.engine {
			continue
		}
		p := h.Path(f.path)
		data, err := os.ReadFile(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			t.Fatalf("ovirthost: %v", err)
		case f.config && !bytes.Equal(data, f.data):
			if err := os.Rename(p, p+".rpmsave"); err != nil {
				t.Fatalf("ovirthost: %v", err)
			}
		default:
			removeIfExists(t, p)
		}
		emptied = append(emptied, path.Dir(f.path))
	}

	if err := os.RemoveAll(h.Path(pathEngineCache)); err != nil {
		t.Fatalf("ovirthost: %v", err)
	}
	if err := os.RemoveAll(pki); err != nil {
		t.Fatalf("ovirthost: %v", err)
	}
	for _, vl := range []string{pathYumVersionlock, pathDNFVersionlock} {
		sedDelete(t, h.Path(vl), "ovirt-engine")
	}
	for _, d := range h.pkg.dirs {
		if d.engine {
			emptied = append(emptied, d.path)
		}
	}
	removeEmptyDirs(t, h.Root, emptied)

	if e, ok := h.LineEdits[pathYumVersionlock]; ok {
		data, err := os.ReadFile(h.Path(pathYumVersionlock))
		if err != nil {
			t.Fatalf("ovirthost: %v", err)
		}
		e.Edited = data
		e.Missing = missingLines(data, h.recordedAdded[pathYumVersionlock])
		h.LineEdits[pathYumVersionlock] = e
	}
	h.InstalledVersion = ""
}

// SimulatePackageInstall replays "yum install ovirt-engine" of the version
// that was set up: the package files come back with the packages'
// content, as do the directories rpm owns (an empty PKI skeleton with its
// templates after a removal). Services are not enabled; setup's records
// are not touched.
func (h *Host) SimulatePackageInstall(t testing.TB) {
	t.Helper()
	h.SimulatePackageInstallVersion(t, h.Opts.EngineVersion)
}

// SimulatePackageInstallVersion is SimulatePackageInstall of another
// version, for the version guard: engine-cleanup must refuse to clean up
// after a setup of another x.y.
func (h *Host) SimulatePackageInstallVersion(t testing.TB, ver string) {
	t.Helper()
	v, err := parseVersion(ver)
	if err != nil {
		t.Fatalf("ovirthost: %v", err)
	}
	if h.InstalledVersion != "" {
		t.Fatalf("ovirthost: SimulatePackageInstall: version %s is installed; remove it first", h.InstalledVersion)
	}
	fresh := packagesFor(h.Opts, v)
	for _, d := range fresh.dirs {
		if !d.engine {
			continue
		}
		p := h.Path(d.path)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatalf("ovirthost: %v", err)
		}
		if err := os.Chmod(p, d.mode); err != nil {
			t.Fatalf("ovirthost: %v", err)
		}
	}
	for _, f := range fresh.files {
		if !f.engine {
			continue
		}
		p := h.Path(f.path)
		if f.config {
			// A %config(noreplace) file that is there already stays, and
			// the package's goes next to it.
			if _, err := os.Lstat(p); err == nil {
				p += ".rpmnew"
			}
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatalf("ovirthost: %v", err)
		}
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			t.Fatalf("ovirthost: %v", err)
		}
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatalf("ovirthost: %v", err)
		}
	}
	// Keep the DWH and Reports packages, which were not removed.
	for _, f := range h.pkg.files {
		if !f.engine {
			fresh.files = append(fresh.files, f)
		}
	}
	h.pkg = fresh
	h.PackageFiles = fresh.paths(false)
	h.InstalledVersion = v.String()
}

func removeIfExists(t testing.TB, p string) {
	t.Helper()
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ovirthost: %v", err)
	}
}

// sedDelete is sed -i '/pattern/d' file: a new file with the same mode.
func sedDelete(t testing.TB, p, pattern string) {
	t.Helper()
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		t.Fatalf("ovirthost: %v", err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatalf("ovirthost: %v", err)
	}
	var kept []string
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if l != "" && !strings.Contains(l, pattern) {
			kept = append(kept, l)
		}
	}
	tmp := p + ".sedtmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(kept, "")), fi.Mode().Perm()); err != nil {
		t.Fatalf("ovirthost: %v", err)
	}
	if err := os.Chmod(tmp, fi.Mode().Perm()); err != nil {
		t.Fatalf("ovirthost: %v", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatalf("ovirthost: %v", err)
	}
}

// isSystemDir reports whether d belongs to other packages, so that it
// stays when the engine's packages leave it empty.
func isSystemDir(d string) bool {
	switch d {
	case "/", "/etc", "/usr", "/usr/share", "/usr/bin", "/usr/lib", "/usr/lib/systemd", pathUnits,
		"/etc/logrotate.d", "/etc/httpd", "/etc/httpd/conf.d", "/etc/sysconfig", "/etc/rc.d",
		"/etc/rc.d/init.d", "/etc/pki", "/var", "/var/cache", "/var/lib", "/var/log":
		return true
	}
	return false
}

func removeEmptyDirs(t testing.TB, root string, dirs []string) {
	t.Helper()
	// Deepest first, so that a parent is looked at after its children.
	slices.SortFunc(dirs, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	for _, d := range slices.Compact(dirs) {
		for ; !isSystemDir(d); d = path.Dir(d) {
			err := os.Remove(hostPath(root, d))
			if err == nil || errors.Is(err, fs.ErrNotExist) {
				continue
			}
			break // not empty
		}
	}
}

// copyTree is cp -pR: modes kept, symlinks copied as symlinks.
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			return os.Chmod(target, fi.Mode().Perm())
		case fi.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case fi.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(target, data, fi.Mode().Perm()); err != nil {
				return err
			}
			return os.Chmod(target, fi.Mode().Perm())
		}
		return fmt.Errorf("%s: cannot copy a %v", p, fi.Mode().Type())
	})
	if err != nil {
		t.Fatalf("ovirthost: copying %s: %v", src, err)
	}
}
