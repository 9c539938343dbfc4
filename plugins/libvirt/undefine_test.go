//go:build cgo

package libvirt

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"libvirt.org/go/libvirt"
)

// scriptedDriver stands for drivers this machine cannot run (lxc, an old
// server, esx): it refuses what they refuse, the way libvirt does, and
// records every call.
type scriptedDriver struct {
	// accepts are the undefine flags the driver knows; others are refused
	// with VIR_ERR_INVALID_ARG before anything happens (virCheckFlags).
	accepts libvirt.DomainUndefineFlagsValues
	// noUndefineFlags: the driver lacks virDomainUndefineFlags.
	noUndefineFlags bool
	// metadataOnly: snapshot and checkpoint metadata can be deleted alone.
	metadataOnly  bool
	noManagedSave bool
	managedSave   bool
	snapshots     int
	checkpoints   int
	failWith      *libvirt.Error // returned by an accepted undefine
	calls         []string
	undefined     bool
}

func (s *scriptedDriver) UndefineFlags(f libvirt.DomainUndefineFlagsValues) error {
	s.calls = append(s.calls, "UndefineFlags("+flagNames(f)+")")
	if s.noUndefineFlags {
		return libvirt.Error{Code: libvirt.ERR_NO_SUPPORT, Message: "this function is not supported by the connection driver: virDomainUndefineFlags"}
	}
	if f&^s.accepts != 0 {
		return libvirt.Error{Code: libvirt.ERR_INVALID_ARG, Message: fmt.Sprintf("unsupported flags (0x%x) in function scriptedDomainUndefineFlags", uint32(f&^s.accepts))}
	}
	return s.undefine(f)
}

func (s *scriptedDriver) undefine(f libvirt.DomainUndefineFlagsValues) error {
	if s.failWith != nil {
		return *s.failWith
	}
	if s.snapshots > 0 && f&libvirt.DOMAIN_UNDEFINE_SNAPSHOTS_METADATA == 0 {
		return libvirt.Error{Code: libvirt.ERR_OPERATION_INVALID, Message: fmt.Sprintf("cannot delete inactive domain with %d snapshots", s.snapshots)}
	}
	if s.checkpoints > 0 && f&libvirt.DOMAIN_UNDEFINE_CHECKPOINTS_METADATA == 0 {
		return libvirt.Error{Code: libvirt.ERR_OPERATION_INVALID, Message: fmt.Sprintf("cannot delete inactive domain with %d checkpoints", s.checkpoints)}
	}
	if s.managedSave && f&libvirt.DOMAIN_UNDEFINE_MANAGED_SAVE == 0 {
		return libvirt.Error{Code: libvirt.ERR_OPERATION_INVALID, Message: "Refusing to undefine while domain managed save image exists"}
	}
	s.undefined = true
	return nil
}

func (s *scriptedDriver) Undefine() error {
	s.calls = append(s.calls, "Undefine()")
	return s.undefine(0)
}

func (s *scriptedDriver) ManagedSaveRemove(uint32) error {
	s.calls = append(s.calls, "ManagedSaveRemove")
	if s.noManagedSave {
		return libvirt.Error{Code: libvirt.ERR_NO_SUPPORT, Message: "not supported"}
	}
	s.managedSave = false
	return nil
}

func (s *scriptedDriver) deleteSnapshotMetadata() (int, error) {
	s.calls = append(s.calls, "deleteSnapshotMetadata")
	if !s.metadataOnly {
		return 0, libvirt.Error{Code: libvirt.ERR_INVALID_ARG, Message: "unsupported flags (0x2) in function scriptedSnapshotDelete"}
	}
	n := s.snapshots
	s.snapshots = 0
	return n, nil
}

func (s *scriptedDriver) deleteCheckpointMetadata() (int, error) {
	s.calls = append(s.calls, "deleteCheckpointMetadata")
	if !s.metadataOnly {
		return 0, libvirt.Error{Code: libvirt.ERR_INVALID_ARG, Message: "unsupported flags (0x1) in function scriptedCheckpointDelete"}
	}
	n := s.checkpoints
	s.checkpoints = 0
	return n, nil
}

func TestUndefineLadder(t *testing.T) {
	const (
		ms    = libvirt.DOMAIN_UNDEFINE_MANAGED_SAVE
		snap  = libvirt.DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
		chk   = libvirt.DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
		nvram = libvirt.DOMAIN_UNDEFINE_NVRAM
		tpm   = libvirt.DOMAIN_UNDEFINE_TPM
		all   = ms | snap | chk | nvram | tpm
	)
	tests := []struct {
		name    string
		driver  scriptedDriver
		facts   domainFacts
		start   int
		calls   []string
		at      int
		err     string // part of the error; "" for success
		refused []string
		byHand  []string
		left    []string
	}{
		{name: "qemu 8.9 and later: one call with every flag",
			driver: scriptedDriver{accepts: all, managedSave: true, snapshots: 3, checkpoints: 1},
			facts:  domainFacts{ManagedSave: true, Snapshots: 3, Checkpoints: 1, NVRAM: "/var/lib/libvirt/qemu/nvram/vm_VARS.fd", TPM: true},
			calls:  []string{"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA|CHECKPOINTS_METADATA|NVRAM|TPM)"}, at: 0},
		{name: "a stale managed save is removed although libvirt says there is none",
			driver: scriptedDriver{accepts: all, managedSave: true},
			facts:  domainFacts{ManagedSave: false},
			calls:  []string{"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA|CHECKPOINTS_METADATA|NVRAM|TPM)"}, at: 0},
		{name: "libvirt 8.0 refuses TPM: the next call keeps every other flag",
			driver: scriptedDriver{accepts: ms | snap | chk | nvram, managedSave: true, snapshots: 2},
			facts:  domainFacts{ManagedSave: true, Snapshots: 2, TPM: true},
			calls: []string{"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA|CHECKPOINTS_METADATA|NVRAM|TPM)",
				"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA|CHECKPOINTS_METADATA|NVRAM)"},
			at: 1, refused: []string{"TPM"}, left: []string{"the TPM state, unless the driver removes it by default"}},
		{name: "the test driver: managed save and snapshots only",
			driver: scriptedDriver{accepts: ms | snap, managedSave: true, snapshots: 4},
			facts:  domainFacts{ManagedSave: true, Snapshots: 4},
			calls: []string{"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA|CHECKPOINTS_METADATA|NVRAM|TPM)",
				"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA|CHECKPOINTS_METADATA|NVRAM)",
				"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA|NVRAM)",
				"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA)"},
			at: 3, refused: []string{"TPM", "CHECKPOINTS_METADATA", "NVRAM"}},
		{name: "an attempt learned from an earlier domain is where the next starts",
			driver: scriptedDriver{accepts: ms | snap, snapshots: 1},
			facts:  domainFacts{Snapshots: 1}, start: 3,
			calls: []string{"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA)"},
			at:    3, refused: []string{"TPM", "CHECKPOINTS_METADATA", "NVRAM"}},
		{name: "a driver without the checkpoint flag gets its checkpoints deleted first, children first",
			driver: scriptedDriver{accepts: ms | snap | nvram, metadataOnly: true, checkpoints: 2},
			facts:  domainFacts{Checkpoints: 2},
			calls: []string{"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA|CHECKPOINTS_METADATA|NVRAM|TPM)",
				"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA|CHECKPOINTS_METADATA|NVRAM)",
				"deleteCheckpointMetadata",
				"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA|NVRAM)"},
			at: 2, refused: []string{"TPM", "CHECKPOINTS_METADATA"}, byHand: []string{"the metadata of 2 checkpoints"}},
		{name: "lxc takes no flag: managed save and snapshot metadata are removed by separate calls",
			driver: scriptedDriver{accepts: 0, metadataOnly: true, snapshots: 2, managedSave: true},
			facts:  domainFacts{Snapshots: 2, ManagedSave: true, NVRAM: "/nvram"},
			calls: []string{"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA|CHECKPOINTS_METADATA|NVRAM|TPM)",
				"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA|CHECKPOINTS_METADATA|NVRAM)",
				"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA|NVRAM)",
				"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA)",
				"ManagedSaveRemove", "deleteSnapshotMetadata", "UndefineFlags(no flags)"},
			at: 4, refused: []string{"TPM", "CHECKPOINTS_METADATA", "NVRAM", "MANAGED_SAVE|SNAPSHOTS_METADATA"},
			byHand: []string{"any managed-save image", "the metadata of 2 snapshots"}, left: []string{`the NVRAM file /nvram`}},
		{name: "a driver without UndefineFlags gets plain Undefine",
			driver: scriptedDriver{noUndefineFlags: true},
			calls: []string{"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA|CHECKPOINTS_METADATA|NVRAM|TPM)",
				"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA|CHECKPOINTS_METADATA|NVRAM)",
				"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA|NVRAM)",
				"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA)",
				"ManagedSaveRemove", "UndefineFlags(no flags)", "Undefine()"},
			at: 4, refused: []string{"TPM", "CHECKPOINTS_METADATA", "NVRAM", "MANAGED_SAVE|SNAPSHOTS_METADATA"},
			byHand: []string{"any managed-save image"}},
		{name: "snapshots a driver can neither undefine with nor delete alone are reported",
			driver: scriptedDriver{accepts: 0, snapshots: 3},
			facts:  domainFacts{Snapshots: 3},
			calls: []string{"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA|CHECKPOINTS_METADATA|NVRAM|TPM)",
				"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA|CHECKPOINTS_METADATA|NVRAM)",
				"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA|NVRAM)",
				"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA)",
				"ManagedSaveRemove", "deleteSnapshotMetadata", "UndefineFlags(no flags)"},
			at: 4, err: "cannot delete inactive domain with 3 snapshots",
			refused: []string{"TPM", "CHECKPOINTS_METADATA", "NVRAM", "MANAGED_SAVE|SNAPSHOTS_METADATA"},
			byHand:  []string{"any managed-save image"}, left: []string{"the metadata of 3 snapshots (the driver cannot delete metadata alone)"}},
		{name: "any other error is final: no call with fewer flags follows",
			driver: scriptedDriver{accepts: all, failWith: &libvirt.Error{Code: libvirt.ERR_OPERATION_FAILED, Message: "cannot remove config"}},
			calls:  []string{"UndefineFlags(MANAGED_SAVE|SNAPSHOTS_METADATA|CHECKPOINTS_METADATA|NVRAM|TPM)"},
			at:     0, err: "cannot remove config"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			drv := tc.driver
			res, at, err := undefineInactive(&drv, &tc.facts, nil, tc.start)
			if !slices.Equal(drv.calls, tc.calls) {
				t.Errorf("calls:\n got %q\nwant %q", drv.calls, tc.calls)
			}
			if at != tc.at {
				t.Errorf("answered at attempt %d, want %d", at, tc.at)
			}
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(lvMessage(err), tc.err)):
				t.Errorf("error %v, want one saying %q", err, tc.err)
			case tc.err == "" && !drv.undefined:
				t.Errorf("the domain is not undefined")
			}
			for _, c := range []struct {
				what      string
				got, want []string
			}{{"refused", res.Refused, tc.refused}, {"removed by hand", res.ByHand, tc.byHand}, {"left", res.Left, tc.left}} {
				if !slices.Equal(c.got, c.want) {
					t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
				}
			}
		})
	}
}
