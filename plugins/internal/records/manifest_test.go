package records

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const (
	md5DB    = "0123456789abcdef0123456789abcdef"
	md5Post  = "fedcba9876543210fedcba9876543210"
	md5PostU = "FEDCBA9876543210FEDCBA9876543210" // upper case: digests are case-insensitive
	md5P12   = "00112233445566778899aabbccddeeff"
	md5CA    = "ffeeddccbbaa99887766554433221100"
	sha256DB = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	sha256CA = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
)

// manifest2013 is what a 3.3 engine-setup wrote: md5 digests and the 3.3
// "content" key, as Python's configparser writes it.
const manifest2013 = `[file_group_core]
description = Core files
optional = False
file.000.name = /etc/ovirt-engine/engine.conf.d/10-setup-database.conf
file.000.md5 = ` + md5DB + `
file.001.name = /etc/ovirt-engine-setup.conf.d/20-setup-ovirt-post.conf
file.001.md5 = ` + md5PostU + `

[file_group_ca_pki]
description = PKI keys
optional = True
file.000.name = /etc/pki/ovirt-engine/keys/engine.p12
file.000.md5 = ` + md5P12 + `

[file_group_ssl]
description = Apache SSL configuration
optional = True
line.000000.name = /etc/httpd/conf.d/ssl.conf
line.000000.content = SSLCertificateFile /etc/pki/ovirt-engine/certs/apache.cer

[unremovable]
description = Unremovable files
optional = False
file.000.name = /etc/pki/ovirt-engine/ca.pem
file.000.md5 = ` + md5CA + `

`

// manifest2019 is what engine-setup 4.3 wrote on upgrade: sha256, added
// and removed lines, a multi-line description.
const manifest2019 = `[file_group_core]
description = Core files
optional = False
file.000.name = /etc/ovirt-engine/engine.conf.d/10-setup-database.conf
file.000.sha256 = ` + sha256DB + `

[file_group_versionlock]
description = Version lock
	of the engine packages

	(yum plugin)
optional = True
line.000000.name = /etc/yum/pluginconf.d/versionlock.list
line.000000.content.added = ovirt-engine-4.3.0-1.el7.noarch
line.000001.name = /etc/yum/pluginconf.d/versionlock.list
line.000001.content.added = ovirt-engine-backend-4.3.0-1.el7.noarch
line.000001.content.removed = ovirt-engine-backend-4.2.8-1.el7.noarch

[file_group_ssl]
description = Apache SSL configuration
optional = True
line.000000.name = /etc/httpd/conf.d/ssl.conf
line.000000.content.removed = SSLProtocol all -SSLv2
; a comment between keys
line.000001.name = /etc/httpd/conf.d/ssl.conf
line.000001.content.added = SSLProtocol all -SSLv2 -SSLv3 # 100%% sure

[unremovable]
description = Unremovable files
optional = False
file.000.name = /etc/pki/ovirt-engine/ca.pem
file.000.sha256 = ` + sha256CA + `

`

// manifest2020 recorded the post-install file again without a digest,
// which clears the older one, as oVirt does.
const manifest2020 = `[file_group_core]
description = Core files (renamed)
optional = False
file.000.name = /etc/ovirt-engine-setup.conf.d/20-setup-ovirt-post.conf
`

func writeManifests(t *testing.T, root string) []string {
	t.Helper()
	var paths []string
	for name, content := range map[string]string{
		"20131105101010-uninstall.conf": manifest2013,
		"20190301090000-uninstall.conf": manifest2019,
		"20200101000000-uninstall.conf": manifest2020,
	} {
		p := filepath.Join(root, UninstallDir, name)
		writeFile(t, p, content)
		paths = append(paths, p)
	}
	return paths
}

func parseManifestFile(t *testing.T, p string) *Manifest {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := ParseManifest(p, f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestParseManifestReadsA33Manifest(t *testing.T) {
	m, err := ParseManifest("/m.conf", strings.NewReader(manifest2013))
	if err != nil {
		t.Fatal(err)
	}
	want := &Manifest{
		File: "/m.conf",
		Groups: []ManifestGroup{
			{Name: "core", Description: "Core files", At: Location{"/m.conf", 1}, Files: []FileRecord{
				{"/etc/ovirt-engine/engine.conf.d/10-setup-database.conf", Hash{MD5, md5DB}, Location{"/m.conf", 4}},
				{"/etc/ovirt-engine-setup.conf.d/20-setup-ovirt-post.conf", Hash{MD5, md5Post}, Location{"/m.conf", 6}},
			}},
			{Name: "ca_pki", Description: "PKI keys", Optional: true, At: Location{"/m.conf", 9}, Files: []FileRecord{
				{"/etc/pki/ovirt-engine/keys/engine.p12", Hash{MD5, md5P12}, Location{"/m.conf", 12}},
			}},
			{Name: "ssl", Description: "Apache SSL configuration", Optional: true, At: Location{"/m.conf", 15}, LineEdits: []LineEdit{
				{Path: "/etc/httpd/conf.d/ssl.conf", Change: LineAdded, Added: "SSLCertificateFile /etc/pki/ovirt-engine/certs/apache.cer", At: Location{"/m.conf", 18}},
			}},
		},
		Unremovable: []FileRecord{{"/etc/pki/ovirt-engine/ca.pem", Hash{MD5, md5CA}, Location{"/m.conf", 24}}},
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("ParseManifest =\n%+v\nwant\n%+v", m, want)
	}
}

func TestParseManifestReadsMultiLineValuesCommentsAndPercentSigns(t *testing.T) {
	m, err := ParseManifest("/m.conf", strings.NewReader(manifest2019))
	if err != nil {
		t.Fatal(err)
	}
	vl := m.Groups[1]
	if want := "Version lock\nof the engine packages\n\n(yum plugin)"; vl.Description != want {
		t.Errorf("description = %q, want %q", vl.Description, want)
	}
	ssl := m.Groups[2].LineEdits
	if len(ssl) != 2 || ssl[0].Change != LineRemoved || ssl[1].Added != "SSLProtocol all -SSLv2 -SSLv3 # 100% sure" {
		t.Errorf("ssl edits = %+v", ssl)
	}
	if got := vl.LineEdits[1]; got.Change != LineReplaced || got.Removed != "ovirt-engine-backend-4.2.8-1.el7.noarch" {
		t.Errorf("replaced edit = %+v", got)
	}
}

func TestMergeManifestsLetsLaterDigestsWinAndKeepsEveryEdit(t *testing.T) {
	root := t.TempDir()
	paths := writeManifests(t, root)
	var list []*Manifest
	for _, p := range paths { // map order: MergeManifests must sort
		list = append(list, parseManifestFile(t, p))
	}
	inv, err := MergeManifests(list)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, UninstallDir)
	m13, m19, m20 := filepath.Join(dir, "20131105101010-uninstall.conf"), filepath.Join(dir, "20190301090000-uninstall.conf"), filepath.Join(dir, "20200101000000-uninstall.conf")
	if !reflect.DeepEqual(inv.Manifests, []string{m13, m19, m20}) {
		t.Errorf("Manifests = %q, want them in timestamp order", inv.Manifests)
	}
	var names []string
	for _, g := range inv.Groups {
		names = append(names, g.Name)
	}
	if got := strings.Join(names, ","); got != "ca_pki,core,ssl,versionlock" {
		t.Errorf("groups = %s", got)
	}

	core, ok := inv.Group("core")
	if !ok {
		t.Fatal("no core group")
	}
	wantCore := []FileRecord{
		{"/etc/ovirt-engine-setup.conf.d/20-setup-ovirt-post.conf", Hash{}, Location{m20, 4}},
		{"/etc/ovirt-engine/engine.conf.d/10-setup-database.conf", Hash{SHA256, sha256DB}, Location{m19, 4}},
	}
	if !reflect.DeepEqual(core.Files, wantCore) || core.Description != "Core files (renamed)" {
		t.Errorf("core = %+v\nwant files %+v", core, wantCore)
	}
	if ca, _ := inv.Group("ca_pki"); len(ca.Files) != 1 || ca.Files[0].Hash != (Hash{MD5, md5P12}) {
		t.Errorf("ca_pki = %+v", ca)
	}
	if _, ok := inv.Group("nfs_config"); ok {
		t.Error("Group found a group nobody recorded")
	}

	if !inv.IsUnremovable("/etc/pki/ovirt-engine/ca.pem") || inv.IsUnremovable("/etc/pki/ovirt-engine/keys/engine.p12") {
		t.Errorf("unremovable = %+v", inv.Unremovable)
	}
	if got := inv.Unremovable["/etc/pki/ovirt-engine/ca.pem"].Hash; got != (Hash{SHA256, sha256CA}) {
		t.Errorf("ca.pem digest = %+v, want the 2019 sha256", got)
	}

	var edits []string
	for _, e := range inv.LineEdits() {
		edits = append(edits, fmt.Sprintf("%s:%d %s %s", filepath.Base(e.At.File), e.At.Line, e.Change, filepath.Base(e.Path)))
	}
	want := []string{
		"20131105101010-uninstall.conf:18 added ssl.conf",
		"20190301090000-uninstall.conf:13 added versionlock.list",
		"20190301090000-uninstall.conf:15 replaced versionlock.list",
		"20190301090000-uninstall.conf:22 removed ssl.conf",
		"20190301090000-uninstall.conf:25 added ssl.conf",
	}
	if !reflect.DeepEqual(edits, want) {
		t.Errorf("LineEdits() =\n%s\nwant\n%s", strings.Join(edits, "\n"), strings.Join(want, "\n"))
	}
}

func TestMergeManifestsRefusesTheSameManifestTwice(t *testing.T) {
	m, err := ParseManifest("/a.conf", strings.NewReader(manifest2020))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := MergeManifests([]*Manifest{m, m}); err == nil {
		t.Error("no error")
	}
	if inv, err := MergeManifests(nil); err != nil || len(inv.Groups) != 0 || inv.Unremovable == nil {
		t.Errorf("MergeManifests(nil) = %+v, %v; want an empty inventory", inv, err)
	}
}

func TestParseManifestRejectsWhatEngineSetupNeverWrites(t *testing.T) {
	const head = "[file_group_core]\ndescription = Core files\n"
	tests := []struct {
		name    string
		input   string
		line    int
		msg     string
		wantErr error
	}{
		{"an unknown section", head + "[other]\ndescription = x\n", 3, "unknown section [other]", nil},
		{"a section name with a terminal escape", "[\x1b[31mred]\n", 1, `\x1b[31mred`, nil},
		{"a DEFAULT section", "[DEFAULT]\ndescription = x\n", 1, "unknown section [DEFAULT]", nil},
		{"a group without a name", "[file_group_]\ndescription = x\n", 1, "unknown section", nil},
		{"a group name with a slash", "[file_group_a/b]\ndescription = x\n", 1, "unknown section", nil},
		{"a malformed section header", "[file_group_core\n", 1, "malformed section header", nil},
		{"a section twice", head + "[file_group_core]\n", 3, "appears twice (first on line 1)", nil},
		{"a key before any section", "description = x\n", 1, "before the first [section]", nil},
		{"a line without a delimiter", head + "file.000.name\n", 3, "neither key = value", nil},
		{"an empty key", head + "= x\n", 3, "empty key", nil},
		{"an unknown key", head + "owner = root\n", 3, `unknown key "owner"`, nil},
		{"an unknown digest", head + "file.000.name = /a\nfile.000.sha1 = 00\n", 4, `unknown key "file.000.sha1"`, nil},
		{"a file index that is not a number", head + "file.x.name = /a\n", 3, "unknown key", nil},
		{"a line edit in unremovable", "[unremovable]\nline.000000.name = /a\n", 2, "unknown key", nil},
		{"an unknown line field", head + "line.000000.content.changed = x\n", 3, "unknown key", nil},
		{"a key twice", head + "file.000.name = /a\nfile.000.name = /b\n", 4, "file.000.name appears twice in [file_group_core] (first on line 3)", nil},
		{"a path under two indexes", head + "file.000.name = /a\nfile.001.name = /a\n", 4, "both file.000 and file.001", nil},
		{"a digest without a name", head + "file.000.md5 = " + md5DB + "\n", 3, "file.000 has no name", nil},
		{"an md5 of the wrong length", head + "file.000.name = /a\nfile.000.md5 = abc\n", 4, "not a md5 digest (32 hex digits)", nil},
		{"a sha256 that is not hex", head + "file.000.name = /a\nfile.000.sha256 = " + strings.Repeat("g", 64) + "\n", 4, "not a sha256 digest", nil},
		{"an md5 where a sha256 belongs", head + "file.000.name = /a\nfile.000.sha256 = " + md5DB + "\n", 4, "not a sha256 digest", nil},
		{"a relative path", head + "file.000.name = etc/a\n", 3, "not an absolute path", nil},
		{"a line edit without a name", head + "line.000000.content.added = x\n", 3, "line.000000 has no name", nil},
		{"a line edit without content", head + "line.000000.name = /etc/a\n", 3, "records no content", nil},
		{"both 3.3 and later content", head + "line.000000.name = /etc/a\nline.000000.content = x\nline.000000.content.added = x\n", 3, "both .content", nil},
		{"a group without description", "[file_group_core]\noptional = False\n", 1, "no description", nil},
		{"an optional that is not a boolean", head + "optional = sometimes\n", 3, "not True or False", nil},
		{"line content over several lines", head + "line.000000.name = /etc/a\nline.000000.content.added = a\n  b\n", 4, "spans several lines", nil},
		{"a path over several lines", head + "file.000.name = /etc/a\n  b\n", 3, "spans several lines", nil},
		{"a lone percent sign", head + "line.000000.name = /etc/a\nline.000000.content.added = 100% sure\n", 4, "% not followed by %", nil},
		{"two digests of one path in one run", head + "file.000.name = /a\nfile.000.md5 = " + md5DB + "\n[file_group_ssl]\ndescription = s\nfile.000.name = /a\nfile.000.md5 = " + md5P12 + "\n", 7, "by the same run", nil},
		{"a NUL byte", head + "file.000.name = /a\x00\n", 3, "NUL", ErrNUL},
		{"invalid UTF-8", head + "description2 = \xc3\x28\n", 3, "UTF-8", ErrInvalidUTF8},
		{"an oversized line", head + "line.000000.content.added = " + strings.Repeat("x", MaxLineLength) + "\n", 3, "longer", ErrLineTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseManifest("/etc/ovirt-engine/uninstall.d/x.conf", strings.NewReader(tt.input))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error = %v, want a *SyntaxError", err)
			}
			if se.File != "/etc/ovirt-engine/uninstall.d/x.conf" || se.Line != tt.line || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("error = %v, want line %d containing %q", err, tt.line, tt.msg)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantErr)
			}
			if strings.ContainsAny(err.Error(), "\x00\x1b") {
				t.Errorf("error %q carries raw control characters", err)
			}
		})
	}
}

func TestParseManifestAcceptsWhatConfigParserAccepts(t *testing.T) {
	tests := []struct {
		name  string
		input string
		check func(*Manifest) bool
	}{
		{"colon as delimiter", "[file_group_core]\ndescription: Core\nfile.000.name: /a\n",
			func(m *Manifest) bool { return m.Groups[0].Description == "Core" && m.Groups[0].Files[0].Path == "/a" }},
		{"no spaces around the delimiter", "[file_group_core]\ndescription=Core\n",
			func(m *Manifest) bool { return m.Groups[0].Description == "Core" }},
		{"an indented comment inside a value", "[file_group_core]\ndescription = a\n  # hidden\n  b\n",
			func(m *Manifest) bool { return m.Groups[0].Description == "a\nb" }},
		{"an empty description", "[file_group_core]\ndescription =\n",
			func(m *Manifest) bool { return m.Groups[0].Description == "" }},
		{"an empty added line", "[file_group_core]\ndescription = c\nline.000000.name = /a\nline.000000.content.added =\n",
			func(m *Manifest) bool {
				return m.Groups[0].LineEdits[0].Change == LineAdded && m.Groups[0].LineEdits[0].Added == ""
			}},
		{"a file without a digest", "[file_group_core]\ndescription = c\nfile.000.name = /a\n",
			func(m *Manifest) bool { return m.Groups[0].Files[0].Hash.IsZero() }},
		{"an empty group", "[file_group_iso_domain]\ndescription = NFS ISO domain\noptional = True\n",
			func(m *Manifest) bool { return m.Groups[0].Name == "iso_domain" && len(m.Groups[0].Files) == 0 }},
		{"group names with dashes", "[file_group_ovirt-provider-ovn]\ndescription = OVN\n",
			func(m *Manifest) bool { return m.Groups[0].Name == "ovirt-provider-ovn" }},
		{"an empty file", "",
			func(m *Manifest) bool { return len(m.Groups) == 0 && m.Unremovable == nil }},
		{"CRLF line ends", "[file_group_core]\r\ndescription = Core\r\nfile.000.name = /a\r\n",
			func(m *Manifest) bool { return m.Groups[0].Description == "Core" && m.Groups[0].Files[0].Path == "/a" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseManifest("x", strings.NewReader(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(m) {
				t.Errorf("unexpected result %+v", m)
			}
		})
	}
}
