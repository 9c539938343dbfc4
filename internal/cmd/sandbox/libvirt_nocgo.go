//go:build !cgo

package main

import (
	"context"
	"fmt"
	"io"
)

// libvirtHost is empty without cgo: the libvirt binding needs it.
type libvirtHost struct{}

// addLibvirtDomains says that the host has no domain: without cgo there is
// no libvirt client to define them.
func addLibvirtDomains(ctx context.Context, s *site) error {
	fmt.Fprintf(s.out, "note: built without cgo, the host has no libvirt domain\n")
	return nil
}

func (s *site) describeLibvirt(w io.Writer) {
	fmt.Fprintf(w, "libvirt      %s: no domains (built without cgo)\n", s.libvirtURI)
}

func (s *site) libvirtOutcome(map[string]bool, bool) []string { return nil }
func (s *site) libvirtPIDs() []int                            { return nil }
func (s *site) stopLibvirt(keep bool, logs string) error      { return nil }
