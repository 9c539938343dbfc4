package files

import "testing"

func TestProtected(t *testing.T) {
	tests := []struct {
		recorded string
		opts     []Option
		want     bool
	}{
		{"/var/lib/exports/iso", nil, true},
		{"/var/lib/exports/iso/", nil, true},
		{"/var/lib/exports/iso/uuid/images/11111111-1111-1111-1111-111111111111/x.iso", nil, true},
		{"/var/lib/exports/iso/../iso/x", nil, true},
		{"/var/lib/exports/iso-other", nil, false},
		{"/var/lib/exports", nil, false},
		{"/etc/exports", nil, true},
		{"/etc/exports.d/ovirt-engine-iso-domain.exports", nil, true},
		{"/etc/exports.bak", nil, false},
		{"/etc/sysctl.d/ovirt-engine.conf", nil, true},
		{"/etc/sysctl.d/00-ovirt-engine.conf", nil, true},
		{"/etc/sysctl.d/99-other.conf", nil, false},
		{"/var/lib/ovirt-engine/backups/engine-pki-20240101000000abcdefgh.tar.gz", nil, true},
		{"/var/lib/ovirt-engine-dwh/backups/dwh.dump", nil, true},
		{"/etc/pki/ovirt-engine-backups/ovirt-engine-2013", nil, true},
		{"/etc/pki/ovirt-engine/ca.pem", nil, false},
		{"/srv/iso/a", []Option{ProtectAlso("/srv/iso")}, true},
		{"/srv/iso2/a", []Option{ProtectAlso("/srv/iso")}, false},
		{"/srv/iso/a", []Option{ProtectAlso("srv/iso")}, false}, // ignored here; Remove reports it
		{"relative/path", nil, true},
		{"/a\x00b", nil, true},
		{"/../etc/exports", nil, true},
		{"/.hidden/../etc/exports", nil, true},
		{"/.etc/exports", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.recorded, func(t *testing.T) {
			reason, got := Protected(tt.recorded, tt.opts...)
			if got != tt.want || got != (reason != "") {
				t.Errorf("Protected(%q) = %q, %v; want %v", tt.recorded, reason, got, tt.want)
			}
		})
	}
}
