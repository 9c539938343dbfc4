package pki

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

// The PKI of an engine host, built once per test binary with openssl (as
// engine-setup's pki-enroll scripts do) and copied into each test's root.
var template string

const storePass = "mypass" // what engine-setup used as the default keystore password

func TestMain(m *testing.M) {
	os.Exit(func() int {
		if _, err := exec.LookPath("openssl"); err != nil {
			fmt.Fprintln(os.Stderr, "pki tests need the openssl command: apt-get install -y openssl")
			return 1
		}
		dir, err := os.MkdirTemp("", "pki-template-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		template = filepath.Join(dir, "root")
		if err := buildHost(template); err != nil {
			fmt.Fprintln(os.Stderr, "building the PKI fixture:", err)
			return 1
		}
		return m.Run()
	}())
}

const (
	ovirtUID  = 108 // the ovirt user on EL
	apacheUID = 48
)

// trackedFiles are the files the fixture's manifests put in PKI groups,
// relative to the PKI directory unless absolute.
var trackedFiles = []string{
	"ca.pem", "private/ca.pem", ".truststore", "apache-ca.pem",
	"certs/engine.cer", "certs/apache.cer", "keys/engine.p12", "keys/apache.p12",
	"keys/apache.key.nopass", "keys/engine_id_rsa",
	"certs/vmconsole-proxy-helper.cer", "keys/vmconsole-proxy-helper.key.nopass",
	"/etc/pki/ovirt-vmconsole/proxy-ssh_host_rsa",
	"/etc/ovirt-engine/engine.conf.d/10-setup-pki.conf",
}

// unremovable is tracked, but a manifest marks it [unremovable].
const unremovable = "keys/engine_id_rsa"

func abs(p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return filepath.Join(records.PKIDir, p)
}

func buildHost(root string) error {
	pki := filepath.Join(root, records.PKIDir)
	for _, d := range []struct {
		p    string
		mode os.FileMode
	}{{"", 0o755}, {"private", 0o700}, {"keys", 0o750}, {"certs", 0o755}, {"requests", 0o755}} {
		if err := os.MkdirAll(filepath.Join(pki, d.p), d.mode); err != nil {
			return err
		}
		os.Chmod(filepath.Join(pki, d.p), d.mode)
	}
	work, err := os.MkdirTemp("", "pki-work-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	in := func(p string) string { return filepath.Join(pki, p) }
	ossl := func(args ...string) error {
		out, err := exec.Command("openssl", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	subj := func(cn string) string { return "/C=US/O=engine-cleanup test/CN=" + cn }
	steps := [][]string{
		{"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", in("private/ca.pem"), "-out", in("ca.pem"), "-days", "3650", "-subj", subj("ca.engine.test")},
	}
	for _, c := range []struct{ name, cn, req string }{
		{"engine", "engine.test", "requests/engine.req"},
		{"apache", "engine.test", "requests/apache.req"},
		{"host1", "host1.test", "requests/host1.req"},
		{"vmconsole-proxy-helper", "engine.test", "requests/vmconsole-proxy-helper.req"},
	} {
		key := filepath.Join(work, c.name+".key")
		steps = append(steps,
			[]string{"req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", in(c.req), "-subj", subj(c.cn)},
			[]string{"x509", "-req", "-in", in(c.req), "-CA", in("ca.pem"), "-CAkey", in("private/ca.pem"), "-set_serial", fmt.Sprint(1000 + len(steps)), "-days", "365", "-out", in("certs/" + c.name + ".cer")},
		)
	}
	steps = append(steps,
		[]string{"pkcs12", "-export", "-in", in("certs/engine.cer"), "-inkey", filepath.Join(work, "engine.key"), "-certfile", in("ca.pem"), "-name", "1", "-passout", "pass:" + storePass, "-out", in("keys/engine.p12")},
		[]string{"pkcs12", "-export", "-in", in("certs/apache.cer"), "-inkey", filepath.Join(work, "apache.key"), "-name", "1", "-passout", "pass:" + storePass, "-out", in("keys/apache.p12")},
		[]string{"pkcs12", "-export", "-nokeys", "-in", in("ca.pem"), "-name", "cacert", "-passout", "pass:" + storePass, "-out", in(".truststore")},
		[]string{"pkey", "-in", filepath.Join(work, "apache.key"), "-out", in("keys/apache.key.nopass")},
		[]string{"pkey", "-in", filepath.Join(work, "vmconsole-proxy-helper.key"), "-out", in("keys/vmconsole-proxy-helper.key.nopass")},
		[]string{"genpkey", "-algorithm", "ed25519", "-out", in("keys/engine_id_rsa")},
		[]string{"genpkey", "-algorithm", "ed25519", "-out", filepath.Join(root, "etc/pki/ovirt-vmconsole/proxy-ssh_host_rsa")},
	)
	os.MkdirAll(filepath.Join(root, "etc/pki/ovirt-vmconsole"), 0o755)
	for _, s := range steps {
		if err := ossl(s...); err != nil {
			return err
		}
	}
	write := func(p, content string, mode os.FileMode) error {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			return err
		}
		return os.Chmod(p, mode)
	}
	for p, c := range map[string]string{
		records.PKIDir + "/index.txt":                            "V\t350101000000Z\t\t03F2\tunknown\t/C=US/O=engine-cleanup test/CN=host1.test\n",
		records.PKIDir + "/serial.txt":                           "03F3\n",
		records.PKIConf:                                          `ENGINE_PKI_TRUST_STORE_PASSWORD="` + storePass + "\"\nENGINE_PKI_ENGINE_STORE_PASSWORD=\"" + storePass + "\"\n",
		"/etc/ovirt-engine/engine.conf.d/10-setup-database.conf": "ENGINE_DB_PASSWORD=\"x\"\n",
		"/var/lib/exports/iso/11111111-2222-3333-4444-555555555555/dom_md/metadata": "CLASS=Iso\n",
		"/etc/pki/tls/certs/localhost.crt":                                          "not ours\n",
		"/etc/passwd":                                                               "root:x:0:0:root:/root:/bin/bash\napache:x:48:48::/usr/share/httpd:/sbin/nologin\novirt:x:108:108::/var/lib/ovirt-engine:/sbin/nologin\n",
		"/etc/group":                                                                "root:x:0:\napache:x:48:\novirt:x:108:\n",
	} {
		mode := os.FileMode(0o644)
		if p == records.PKIConf {
			mode = 0o640
		}
		if err := write(p, c, mode); err != nil {
			return err
		}
	}
	if err := os.Symlink("ca.pem", in("apache-ca.pem")); err != nil {
		return err
	}
	// Modes and owners as engine-setup leaves them.
	for p, mode := range map[string]os.FileMode{
		"private/ca.pem": 0o600, "keys/engine.p12": 0o600, "keys/apache.p12": 0o600, "keys/apache.key.nopass": 0o600,
		"keys/engine_id_rsa": 0o600, "keys/vmconsole-proxy-helper.key.nopass": 0o600, ".truststore": 0o644,
		"ca.pem": 0o644, "certs/engine.cer": 0o644,
	} {
		if err := os.Chmod(in(p), mode); err != nil {
			return err
		}
	}
	if os.Geteuid() == 0 {
		for p, uid := range map[string]int{"keys": ovirtUID, "keys/engine.p12": ovirtUID, "keys/apache.key.nopass": apacheUID, "keys/engine_id_rsa": ovirtUID} {
			if err := os.Lchown(in(p), uid, uid); err != nil {
				return err
			}
		}
		if err := os.Lchown(filepath.Join(root, records.PKIConf), 0, ovirtUID); err != nil {
			return err
		}
	}
	// Times far enough in the past that a rewrite would show.
	old := time.Date(2019, 3, 14, 15, 9, 26, 535897932, time.UTC)
	filepath.Walk(filepath.Join(root, "etc"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode()&os.ModeSymlink == 0 {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	return writeManifests(root)
}

// writeManifests writes the uninstall manifests, as engine-setup 4.3
// (setup) and a later upgrade would, with real digests.
func writeManifests(root string) error {
	digest := func(p string) string {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			return ""
		}
		s := sha256.Sum256(b)
		return hex.EncodeToString(s[:])
	}
	group := func(name, desc string, optional bool, paths []string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "[file_group_%s]\ndescription = %s\noptional = %v\n", name, desc, map[bool]string{true: "True", false: "False"}[optional])
		for i, p := range paths {
			fmt.Fprintf(&b, "file.%03d.name = %s\n", i, p)
			if fi, err := os.Lstat(filepath.Join(root, p)); err == nil && fi.Mode().IsRegular() {
				fmt.Fprintf(&b, "file.%03d.sha256 = %s\n", i, digest(p))
			}
		}
		return b.String() + "\n"
	}
	var keys, helper []string
	for _, f := range trackedFiles {
		switch {
		case strings.Contains(f, "vmconsole"):
			helper = append(helper, abs(f))
		case f == records.PKIConf:
		default:
			keys = append(keys, abs(f))
		}
	}
	setup := group("core", "Core files", false, []string{"/etc/ovirt-engine/engine.conf.d/10-setup-database.conf"}) +
		group(GroupKeys, "PKI keys", true, keys) +
		group(GroupConfig, "PKI configuration", true, []string{records.PKIConf}) +
		"[file_group_ssl]\ndescription = Apache SSL configuration\noptional = True\n" +
		"line.000000.name = /etc/httpd/conf.d/ssl.conf\nline.000000.content.added = SSLCertificateFile /etc/pki/ovirt-engine/certs/apache.cer\n\n"
	upgrade := group("vmconsole_proxy_helper_pki", "VMConsole Helper PKI keys", true, helper) +
		"[unremovable]\ndescription = Unremovable files\noptional = False\n" +
		"file.000.name = " + abs(unremovable) + "\nfile.000.sha256 = " + digest(abs(unremovable)) + "\n\n"
	dir := filepath.Join(root, records.UninstallDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, content := range map[string]string{"20190314150926-uninstall.conf": setup, "20200101120000-uninstall.conf": upgrade} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// newHost gives a test its own copy of the fixture, a directory outside
// its root, and a symlink in the PKI tree to a file there (recorded in a
// PKI group, as a hostile or damaged manifest might).
func newHost(t *testing.T) (root, outside string) {
	t.Helper()
	base := t.TempDir()
	root, outside = filepath.Join(base, "root"), filepath.Join(base, "outside")
	if out, err := exec.Command("cp", "-a", template, root).CombinedOutput(); err != nil {
		t.Fatalf("copying the fixture: %v\n%s", err, out)
	}
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("outside secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, records.PKIDir, "certs/evil.cer")); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(root, records.UninstallDir, "20200101120000-uninstall.conf")
	b, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), "[unremovable]", "[file_group_ca_pki_wsp]\ndescription = WSP PKI keys\noptional = True\nfile.000.name = "+abs("certs/evil.cer")+"\n\n[unremovable]", 1))
	if err := os.WriteFile(manifest, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return root, outside
}

// wantTracked is what Tracked must find in the fixture.
func wantTracked() []string {
	var out []string
	for _, f := range trackedFiles {
		if f != unremovable {
			out = append(out, abs(f))
		}
	}
	out = append(out, abs("certs/evil.cer"))
	sort.Strings(out)
	return out
}

func loadTracked(t *testing.T, root string) []string {
	t.Helper()
	inv, err := records.LoadManifests(root)
	if err != nil {
		t.Fatal(err)
	}
	return Tracked(inv)
}

// entry is what a file is, for comparing trees.
type entry struct {
	kind    string
	perm    os.FileMode
	content string
	uid     uint32
	gid     uint32
	mtime   time.Time
}

// snapshot records every entry below dir (names relative to dir).
func snapshot(t *testing.T, dir string) map[string]entry {
	t.Helper()
	m := map[string]entry{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		st := fi.Sys().(*syscall.Stat_t)
		e := entry{perm: fi.Mode() & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky), uid: st.Uid, gid: st.Gid, mtime: fi.ModTime()}
		switch {
		case fi.IsDir():
			e.kind = "dir"
		case fi.Mode()&os.ModeSymlink != 0:
			e.kind = "symlink"
			target, _ := os.Readlink(p)
			e.content = target
			e.perm, e.mtime = 0, time.Time{} // not kept by tar for links
		case fi.Mode().IsRegular():
			e.kind = "file"
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			e.content = string(b)
		default:
			e.kind = "special"
		}
		m[rel] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
