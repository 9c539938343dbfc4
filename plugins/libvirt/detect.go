//go:build cgo

package libvirt

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"sort"
	"strings"

	"libvirt.org/go/libvirt"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// domainFacts is what the plugin knows about one domain to clean. Reading
// them changes nothing.
type domainFacts struct {
	UUID, Name string
	// RecordLine is the domain's line in RecordFile, 0 when only tagged.
	RecordLine int
	Tagged     bool

	State       libvirt.DomainState
	Active      bool
	Persistent  bool
	ManagedSave bool // as libvirt caches it: informative only, never a gate
	Snapshots   int
	Checkpoints int
	NVRAM       string // the NVRAM path the XML names, "" when none
	TPM         bool   // the XML has an emulated TPM, whose state may persist
}

// label names the domain in messages: name and UUID.
func (f *domainFacts) label() string { return fmt.Sprintf("%s (%s)", quote(f.Name), f.UUID) }

// resource names the domain in a plan.
func (f *domainFacts) resource() string { return "libvirt-domain:" + f.UUID + " " + f.Name }

// survey is what a scan found.
type survey struct {
	targets []*domainFacts
	// gone are recorded domains that no longer exist.
	gone []recordedDomain
	// mismatched are recorded UUIDs whose domain now has another name:
	// they stay, and so does the record.
	mismatched int
	problems   []sdk.Problem
}

// scan finds the domains to clean and reads their state. It needs a
// connection and changes nothing.
func (p *plugin) scan(ctx context.Context) survey {
	var s survey
	seen := map[string]bool{}
	if p.record != nil {
		for _, r := range p.record.Domains {
			seen[r.UUID] = true
			p.scanRecorded(ctx, &s, r)
		}
	}
	doms, err := p.conn.ListAllDomains(0)
	if err != nil {
		s.problems = append(s.problems, sdk.Blocker(sdk.KindGeneral,
			fmt.Sprintf("cannot list the domains at %s to find those tagged with the engine's metadata: %s", p.uriText(), lvMessage(err)),
			"check that this user may manage domains at that URI, then run again"))
		return s
	}
	defer func() {
		for i := range doms {
			doms[i].Free()
		}
	}()
	var tagged []*domainFacts
	for i := range doms {
		d := &doms[i]
		if ctx.Err() != nil {
			break
		}
		uuid, err := d.GetUUIDString()
		if err != nil || seen[uuid] {
			continue
		}
		ok, err := hasTag(d)
		if err == nil && ok {
			f := &domainFacts{UUID: uuid, Tagged: true}
			if err = inspect(ctx, d, f); err == nil {
				tagged = append(tagged, f)
			}
		}
		if err != nil && !isCode(err, libvirt.ERR_NO_DOMAIN) {
			name, _ := d.GetName()
			s.problems = append(s.problems, sdk.Blocker(sdk.KindGeneral,
				fmt.Sprintf("cannot read domain %s (%s) at %s to see whether the installation created it: %s", quote(name), uuid, p.uriText(), lvMessage(err)),
				"check that libvirtd is running and this user may manage the domain, then run again"))
		}
	}
	sort.Slice(tagged, func(i, j int) bool {
		if tagged[i].Name != tagged[j].Name {
			return tagged[i].Name < tagged[j].Name
		}
		return tagged[i].UUID < tagged[j].UUID
	})
	s.targets = append(s.targets, tagged...)
	return s
}

// scanRecorded looks up one recorded domain by UUID, and cross-checks its
// name both ways.
func (p *plugin) scanRecorded(ctx context.Context, s *survey, r recordedDomain) {
	file := p.record.Path
	d, err := p.conn.LookupDomainByUUIDString(r.UUID)
	if isCode(err, libvirt.ERR_NO_DOMAIN) {
		s.gone = append(s.gone, r)
		if r.Name == "" {
			return
		}
		other, err := p.conn.LookupDomainByName(r.Name)
		if err != nil {
			return
		}
		defer other.Free()
		uuid, _ := other.GetUUIDString()
		s.problems = append(s.problems, sdk.Problem{Severity: sdk.Warning, Kind: sdk.KindLeftover,
			Message: fmt.Sprintf("domain %s exists with UUID %s, but the record names UUID %s, which no longer exists: it is not the installation's domain and is left alone; a new domain named %s will collide with it",
				quote(r.Name), uuid, r.UUID, quote(r.Name)),
			Remedy: "if it is a leftover, undefine it by hand (virsh undefine --managed-save --snapshots-metadata --checkpoints-metadata --nvram " + uuid + ")",
			File:   file, Line: r.Line})
		return
	}
	if err != nil {
		s.problems = append(s.problems, sdk.Blocker(sdk.KindGeneral,
			fmt.Sprintf("cannot look up recorded domain %s (%s) at %s: %s", quote(r.Name), r.UUID, p.uriText(), lvMessage(err)),
			"check that libvirtd is running and this user may manage domains there, then run again").At(file, r.Line))
		return
	}
	defer d.Free()
	f := &domainFacts{UUID: r.UUID, Name: r.Name, RecordLine: r.Line}
	if err := inspect(ctx, d, f); err != nil {
		if isCode(err, libvirt.ERR_NO_DOMAIN) {
			s.gone = append(s.gone, r)
			return
		}
		s.problems = append(s.problems, sdk.Blocker(sdk.KindGeneral,
			fmt.Sprintf("cannot read the state of recorded domain %s (%s): %s", quote(r.Name), r.UUID, lvMessage(err)),
			"check that libvirtd is running and this user may manage the domain, then run again").At(file, r.Line))
		return
	}
	if r.Name != "" && f.Name != r.Name {
		s.mismatched++
		s.problems = append(s.problems, sdk.Blocker(sdk.KindGeneral,
			fmt.Sprintf("the domain with the recorded UUID %s is named %s, but the record names it %s: engine-cleanup does not guess which is right, and removes neither",
				r.UUID, quote(f.Name), quote(r.Name)),
			fmt.Sprintf("if %s is the installation's domain, correct its name on line %d; if not, delete line %d; then run again", quote(f.Name), r.Line, r.Line)).
			At(file, r.Line))
		return
	}
	s.targets = append(s.targets, f)
}

// hasTag reports whether the domain carries the engine's metadata element,
// in its live or (for a running persistent domain) its next-boot XML.
func hasTag(d *libvirt.Domain) (bool, error) {
	impacts := []libvirt.DomainModificationImpact{libvirt.DOMAIN_AFFECT_CURRENT}
	if active, err := d.IsActive(); err == nil && active {
		if persistent, err := d.IsPersistent(); err == nil && persistent {
			impacts = append(impacts, libvirt.DOMAIN_AFFECT_CONFIG)
		}
	}
	for _, impact := range impacts {
		_, err := d.GetMetadata(libvirt.DOMAIN_METADATA_ELEMENT, MetadataNamespace, impact)
		switch {
		case err == nil:
			return true, nil
		case isCode(err, libvirt.ERR_NO_DOMAIN_METADATA):
		default:
			return false, err
		}
	}
	return false, nil
}

// inspect reads the state of a domain into f (its name included).
func inspect(ctx context.Context, d *libvirt.Domain, f *domainFacts) error {
	if err := inspectState(ctx, d, f); err != nil {
		return err
	}
	return inspectMetadata(d, f)
}

// inspectState reads a domain's name, state and persistence into f.
func inspectState(ctx context.Context, d *libvirt.Domain, f *domainFacts) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var err error
	if f.Name, err = d.GetName(); err != nil {
		return err
	}
	if f.State, _, err = d.GetState(); err != nil {
		return err
	}
	if f.Active, err = d.IsActive(); err != nil {
		return err
	}
	if f.Persistent, err = d.IsPersistent(); err != nil {
		return err
	}
	return nil
}

// inspectMetadata reads what a domain keeps besides its definition: the
// managed-save flag, snapshot and checkpoint counts, NVRAM and TPM. The
// removal reads it only when the driver refuses a flag.
func inspectMetadata(d *libvirt.Domain, f *domainFacts) error {
	var err error
	if f.Persistent {
		// Informative only: the cached flag can be stale (see README).
		f.ManagedSave, _ = d.HasManagedSaveImage(0)
	}
	if f.Snapshots, err = d.SnapshotNum(0); isCode(err, libvirt.ERR_NO_SUPPORT) {
		f.Snapshots, err = 0, nil
	}
	if err != nil {
		return err
	}
	cps, err := d.ListAllCheckpoints(0)
	if isCode(err, libvirt.ERR_NO_SUPPORT) {
		err = nil
	}
	if err != nil {
		return err
	}
	f.Checkpoints = len(cps)
	for i := range cps {
		cps[i].Free()
	}
	flags := libvirt.DomainXMLFlags(0)
	if f.Persistent {
		flags = libvirt.DOMAIN_XML_INACTIVE
	}
	x, err := d.GetXMLDesc(flags)
	if err != nil {
		return err
	}
	f.NVRAM, f.TPM = xmlFacts(x)
	return nil
}

// xmlFacts finds what in a domain's XML may leave state behind: the NVRAM
// file and an emulated TPM.
func xmlFacts(domainXML string) (nvram string, tpm bool) {
	var d struct {
		OS struct {
			NVRAM *struct {
				Path   string `xml:",chardata"`
				Source struct {
					File string `xml:"file,attr"`
				} `xml:"source"`
			} `xml:"nvram"`
		} `xml:"os"`
		Devices struct {
			TPM []struct {
				Backend struct {
					Type string `xml:"type,attr"`
				} `xml:"backend"`
			} `xml:"tpm"`
		} `xml:"devices"`
	}
	if xml.Unmarshal([]byte(domainXML), &d) != nil {
		return "", false
	}
	if n := d.OS.NVRAM; n != nil {
		nvram = strings.TrimSpace(n.Path)
		if nvram == "" {
			nvram = n.Source.File
		}
		if nvram == "" {
			nvram = "(unnamed)"
		}
	}
	for _, t := range d.Devices.TPM {
		if t.Backend.Type == "emulator" {
			tpm = true
		}
	}
	return nvram, tpm
}

// findings are the console lines of a survey.
func (s survey) findings() []string {
	const max = 20
	var out []string
	for i, f := range s.targets {
		if i == max {
			out = append(out, fmt.Sprintf("… and %d more domain(s) to remove", len(s.targets)-max))
			break
		}
		out = append(out, "domain "+f.label()+": "+f.summary())
	}
	if n := len(s.gone); n > 0 {
		out = append(out, fmt.Sprintf("%d recorded domain(s) already gone", n))
	}
	return out
}

// summary describes the domain's state in a few words.
func (f *domainFacts) summary() string {
	var parts []string
	switch {
	case !f.Persistent:
		parts = append(parts, "transient, "+stateName(f.State))
	default:
		parts = append(parts, stateName(f.State))
	}
	if f.ManagedSave {
		parts = append(parts, "managed save")
	}
	parts = append(parts, plural(f.Snapshots, "snapshot"), plural(f.Checkpoints, "checkpoint"))
	if f.NVRAM != "" {
		parts = append(parts, "NVRAM")
	}
	if f.RecordLine > 0 {
		parts = append(parts, fmt.Sprintf("recorded on line %d", f.RecordLine))
	} else {
		parts = append(parts, "tagged "+MetadataKey+":"+MetadataElement)
	}
	return strings.Join(parts, ", ")
}

func stateName(s libvirt.DomainState) string {
	switch s {
	case libvirt.DOMAIN_RUNNING:
		return "running"
	case libvirt.DOMAIN_BLOCKED:
		return "blocked"
	case libvirt.DOMAIN_PAUSED:
		return "paused"
	case libvirt.DOMAIN_SHUTDOWN:
		return "shutting down"
	case libvirt.DOMAIN_SHUTOFF:
		return "shut off"
	case libvirt.DOMAIN_CRASHED:
		return "crashed"
	case libvirt.DOMAIN_PMSUSPENDED:
		return "suspended"
	}
	return fmt.Sprintf("state %d", int(s))
}

// isCode reports whether err is a libvirt error with one of codes.
func isCode(err error, codes ...libvirt.ErrorNumber) bool {
	var le libvirt.Error
	if !errors.As(err, &le) {
		return false
	}
	for _, c := range codes {
		if le.Code == c {
			return true
		}
	}
	return false
}

// lvMessage is libvirt's own message for err, without the binding's
// decoration; other errors print as they are.
func lvMessage(err error) string {
	var le libvirt.Error
	if !errors.As(err, &le) || le.Message == "" {
		return err.Error()
	}
	nice := le.Message
	if le.Code != libvirt.ERR_INTERNAL_ERROR && le.Code != libvirt.ERR_OK {
		nice = fmt.Sprintf("%s (libvirt error %d)", le.Message, int(le.Code))
	}
	// Keep what wrapped it: "listing snapshots: <message>".
	return strings.Replace(err.Error(), le.Error(), nice, 1)
}

// recordProblem turns an error reading RecordFile into a blocking problem
// located at the file and line.
func recordProblem(root string, err error) sdk.Problem {
	p := sdk.Blocker(sdk.KindSequenceIIImpossible,
		"the record of the installation's libvirt domains cannot be read, so which domains to remove is unknown: "+err.Error(),
		"correct or restore the file (format: one UUID per line, optionally followed by the domain's name), or remove the domains by hand and delete it")
	var se *records.SyntaxError
	if errors.As(err, &se) {
		p.Message = "the record of the installation's libvirt domains cannot be read, so which domains to remove is unknown: " + se.Msg
		return p.At(se.File, se.Line)
	}
	if shown, rerr := records.Resolve(root, RecordFile); rerr == nil {
		return p.At(shown, 0)
	}
	return p
}
