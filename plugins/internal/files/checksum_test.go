package files

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

func TestChecksumGivesTheDigestsManifestsRecord(t *testing.T) {
	root, _ := hostTree(t)
	content := readString(t, filepath.Join(root, "etc/ovirt-engine/engine.conf.d/10-setup-pki.conf"))
	s, m := sha256.Sum256([]byte(content)), md5.Sum([]byte(content))
	for _, tt := range []struct {
		algo records.HashAlgo
		want string
	}{{records.SHA256, hex.EncodeToString(s[:])}, {records.MD5, hex.EncodeToString(m[:])}} {
		for _, recorded := range []string{"/etc/ovirt-engine/engine.conf.d/10-setup-pki.conf", "/etc/final-in", "/etc/link-in-rel/engine.conf.d/10-setup-pki.conf"} {
			got, err := Checksum(root, recorded, tt.algo)
			if err != nil || got != tt.want {
				t.Errorf("Checksum(%s, %s) = %q, %v; want %q", recorded, tt.algo, got, err, tt.want)
			}
		}
	}
	if _, err := Checksum(root, "/etc/ovirt-engine/engine.conf.d/10-setup-pki.conf", "sha1"); err == nil || !strings.Contains(err.Error(), "sha256 or md5") {
		t.Errorf("an unknown digest gave %v", err)
	}
}

func TestChecksumRefusesWhatIsNotAFileInsideTheRoot(t *testing.T) {
	root, _ := hostTree(t)
	for _, tt := range []struct {
		recorded string
		want     error
	}{
		{"/etc/final-out", records.ErrOutsideRoot}, // would read outside the root
		{"/etc/link-out-abs/secret", records.ErrOutsideRoot},
		{"/etc/nothing", fs.ErrNotExist},
		{"/etc/dangling", records.ErrOutsideRoot}, // its target lies outside
		{"/etc/ovirt-engine/empty-dir", ErrIsDirectory},
		{"/etc/ovirt-engine/fifo", ErrNotRegular},
	} {
		if _, err := Checksum(root, tt.recorded, records.SHA256); !errors.Is(err, tt.want) {
			t.Errorf("Checksum(%s): %v; want %v", tt.recorded, err, tt.want)
		}
	}
}

func TestChanged(t *testing.T) {
	root, _ := hostTree(t)
	const p = "/etc/ovirt-engine/engine.conf.d/10-setup-pki.conf"
	sum := sha256.Sum256([]byte(readString(t, filepath.Join(root, p))))
	same := hex.EncodeToString(sum[:])
	tests := []struct {
		name          string
		recorded      string
		want          records.Hash
		changed, gone bool
	}{
		{"a file as setup left it is unchanged", p, records.Hash{Algo: records.SHA256, Hex: same}, false, false},
		{"upper-case hex compares equal", p, records.Hash{Algo: records.SHA256, Hex: strings.ToUpper(same)}, false, false},
		{"a file the administrator edited is changed", p, records.Hash{Algo: records.SHA256, Hex: strings.Repeat("0", 64)}, true, false},
		{"an md5 of other content is changed", p, records.Hash{Algo: records.MD5, Hex: strings.Repeat("0", 32)}, true, false},
		{"a missing file is gone, not changed", "/etc/nothing", records.Hash{Algo: records.SHA256, Hex: same}, false, true},
		{"a record without a digest is unchanged", p, records.Hash{}, false, false},
		{"a missing file without a digest is gone", "/etc/nothing", records.Hash{}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed, gone, err := Changed(root, tt.recorded, tt.want)
			if err != nil || changed != tt.changed || gone != tt.gone {
				t.Errorf("Changed = %v, %v, %v; want %v, %v", changed, gone, err, tt.changed, tt.gone)
			}
		})
	}
}
