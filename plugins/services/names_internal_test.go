package services

import (
	"errors"
	"strings"
	"testing"
)

func TestUnitNames(t *testing.T) {
	tests := []struct {
		name, unit     string
		systemd, sysv  string
		sysvOK, badErr bool
	}{
		{name: "bare name is a service", unit: "ovirt-engine", systemd: "ovirt-engine.service", sysv: "ovirt-engine", sysvOK: true},
		{name: "service suffix is kept for systemd, dropped for SysV", unit: "ovirt-engine.service", systemd: "ovirt-engine.service", sysv: "ovirt-engine", sysvOK: true},
		{name: "other unit types are not SysV services", unit: "ovirt-engine.socket", systemd: "ovirt-engine.socket", sysv: "ovirt-engine.socket"},
		{name: "a dot that is no unit type is part of the name", unit: "jboss.as", systemd: "jboss.as.service", sysv: "jboss.as", sysvOK: true},
		{name: "template instance", unit: "getty@tty1", systemd: "getty@tty1.service", sysv: "getty@tty1", sysvOK: true},
		{name: "legacy names", unit: "jboss-as", systemd: "jboss-as.service", sysv: "jboss-as", sysvOK: true},
		{name: "a bare suffix names nothing in SysV", unit: "x.service", systemd: "x.service", sysv: "x", sysvOK: true},
		{name: "empty", unit: "", badErr: true},
		{name: "path traversal", unit: "../../bin/sh", badErr: true},
		{name: "slash", unit: "a/b", badErr: true},
		{name: "option", unit: "--help", badErr: true},
		{name: "hidden", unit: ".service", badErr: true},
		{name: "space", unit: "ovirt engine", badErr: true},
		{name: "glob", unit: "ovirt-*", badErr: true},
		{name: "too long", unit: strings.Repeat("a", 256), badErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkName(tt.unit)
			if tt.badErr {
				if !errors.Is(err, ErrInvalidName) {
					t.Errorf("checkName(%q) = %v, want ErrInvalidName", tt.unit, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("checkName(%q): %v", tt.unit, err)
			}
			if got := systemdName(tt.unit); got != tt.systemd {
				t.Errorf("systemdName(%q) = %q, want %q", tt.unit, got, tt.systemd)
			}
			if got, ok := sysvName(tt.unit); got != tt.sysv || ok != tt.sysvOK {
				t.Errorf("sysvName(%q) = %q, %v, want %q, %v", tt.unit, got, ok, tt.sysv, tt.sysvOK)
			}
		})
	}
}

func TestDescribeStatus(t *testing.T) {
	for code, want := range map[int]struct {
		state  string
		mayRun bool
	}{
		0: {"running", true}, 1: {"dead (pid file exists)", false}, 2: {"dead (lock file exists)", false},
		3: {"not running", false}, 4: {"unknown (status exit 4)", true}, 150: {"unknown (status exit 150)", true},
	} {
		if state, mayRun := describeStatus(code); state != want.state || mayRun != want.mayRun {
			t.Errorf("describeStatus(%d) = %q, %v, want %q, %v", code, state, mayRun, want.state, want.mayRun)
		}
	}
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	var b tailBuffer
	for range 3 {
		_, _ = b.Write([]byte(strings.Repeat("x", maxScriptOutput/2)))
	}
	_, _ = b.Write([]byte("END"))
	if s := b.String(); len(s) != maxScriptOutput || !strings.HasSuffix(s, "END") {
		t.Errorf("tailBuffer kept %d bytes ending %q", len(s), s[len(s)-3:])
	}
}
