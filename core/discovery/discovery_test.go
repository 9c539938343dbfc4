package discovery

import (
	"slices"
	"strings"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

func TestDefaultSearchPath(t *testing.T) {
	tests := []struct {
		name     string
		extra    []string
		admin    string
		packaged string
		want     []Dir
	}{
		{
			name:     "plugin dirs come first in the order given, then admin, then packaged",
			extra:    []string{"/b", "/a"},
			admin:    "/etc/p",
			packaged: "/usr/p",
			want: []Dir{
				{"/b", OriginFlag}, {"/a", OriginFlag},
				{"/etc/p", OriginAdmin}, {"/usr/p", OriginPackaged},
			},
		},
		{
			name:     "without plugin dirs the admin dir comes before the packaged dir",
			admin:    "/etc/p",
			packaged: "/usr/p",
			want:     []Dir{{"/etc/p", OriginAdmin}, {"/usr/p", OriginPackaged}},
		},
		{
			name:     "empty paths are left out",
			extra:    []string{""},
			packaged: "/usr/p",
			want:     []Dir{{"/usr/p", OriginPackaged}},
		},
		{
			name:     "a directory given twice keeps its first place and origin",
			extra:    []string{"/etc/p/", "/x", "/x"},
			admin:    "/etc/p",
			packaged: "/usr/p",
			want:     []Dir{{"/etc/p", OriginFlag}, {"/x", OriginFlag}, {"/usr/p", OriginPackaged}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DefaultSearchPath(tt.extra, tt.admin, tt.packaged).Dirs
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidNameFollowsTheSDKRule(t *testing.T) {
	names := []string{
		"", "a", "engine", "my-plugin", "x1", "a-", "1a", "-a", "A", "Bad_Name", "a_b", "a.b",
		"a b", "é", strings.Repeat("a", 64), strings.Repeat("a", 65), "a~",
	}
	for _, n := range names {
		if got, want := validName(n), sdk.ValidName(n); got != want {
			t.Errorf("validName(%q) = %v, sdk.ValidName says %v", n, got, want)
		}
	}
}

func TestLaunchable(t *testing.T) {
	tests := []struct {
		name   string
		status Status
		want   bool
	}{
		{"a candidate that is ok is launchable", StatusOK, true},
		{"a candidate with a warning is not launchable", StatusWarning, false},
		{"a candidate with an error is not launchable", StatusError, false},
		{"a candidate without a status is not launchable", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Candidate{Status: tt.status}).Launchable(); got != tt.want {
				t.Errorf("Launchable() = %v, want %v", got, tt.want)
			}
		})
	}
}
