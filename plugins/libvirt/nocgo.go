//go:build !cgo

package libvirt

import (
	"context"
	"fmt"

	"github.com/engine-cleanup/engine-cleanup/internal/version"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// withoutCgo is why this build cannot reach libvirt: the binding is cgo.
const withoutCgo = "engine-cleanup was built without cgo"

// New returns the libvirt plugin of a build without cgo: it reads the
// record, and refuses the run when the record names a domain, since it
// cannot remove one.
func New() sdk.Plugin { return &stub{} }

type stub struct{ record *domainRecord }

var (
	_ sdk.Initializer = (*stub)(nil)
	_ sdk.Validator   = (*stub)(nil)
)

func (s *stub) Info(context.Context, sdk.InfoRequest) (sdk.InfoResponse, error) {
	return sdk.InfoResponse{Name: "libvirt", Version: version.Version,
		Description: "libvirt domains the installation recorded or tagged; libvirt unavailable: " + withoutCgo}, nil
}

func (s *stub) Init(ctx context.Context, req sdk.InitRequest) (sdk.InitResponse, error) {
	resp := sdk.InitResponse{Findings: []string{"libvirt unavailable: " + withoutCgo}}
	rec, err := readRecord(req.Environment.Root)
	s.record = rec
	switch {
	case err != nil:
		resp.Installed = true
		resp.Problems = append(resp.Problems, sdk.Blocker(sdk.KindSequenceIIImpossible,
			"the record of the installation's libvirt domains cannot be read: "+err.Error(),
			"correct or restore the file, or remove the domains by hand and delete it"))
	case rec != nil && len(rec.Domains) > 0:
		resp.Installed = true
		resp.Problems = append(resp.Problems, sdk.Blocker(sdk.KindGeneral,
			fmt.Sprintf("libvirt is unavailable (%s), but %d domain(s) are recorded for removal", withoutCgo, len(rec.Domains)),
			"use an engine-cleanup built with cgo (make build), or undefine the domains by hand and delete the record").At(rec.Path, 0))
	}
	return resp, nil
}

func (s *stub) Validate(context.Context, sdk.ValidateRequest) (sdk.ValidateResponse, error) {
	return sdk.ValidateResponse{}, nil
}
