// Package pending is the built-in plugin for a component whose cleanup is
// not part of this build yet. It is a real plugin process: it detects the
// component's records under the root and, when it finds any, refuses the
// run rather than let the core report "nothing to clean" on a host that
// has something installed.
package pending

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// Component describes the component a pending plugin stands for.
type Component struct {
	Name        string
	Version     string
	Description string
	DependsOn   []string
	AnswerKeys  []string
	// Records are absolute paths whose presence means the component was
	// set up on this host.
	Records []string
}

// New returns the plugin for c.
func New(c Component) sdk.Plugin { return &plugin{c: c} }

type plugin struct {
	c     Component
	found []string
}

var (
	_ sdk.Initializer = (*plugin)(nil)
	_ sdk.Validator   = (*plugin)(nil)
)

func (p *plugin) Info(context.Context, sdk.InfoRequest) (sdk.InfoResponse, error) {
	return sdk.InfoResponse{Name: p.c.Name, Version: p.c.Version, Description: p.c.Description,
		DependsOn: p.c.DependsOn, AnswerKeys: p.c.AnswerKeys}, nil
}

func (p *plugin) Init(ctx context.Context, req sdk.InitRequest) (sdk.InitResponse, error) {
	p.found = nil
	for _, r := range p.c.Records {
		path := filepath.Join(req.Environment.Root, r)
		if _, err := os.Lstat(path); err == nil {
			p.found = append(p.found, r)
		}
	}
	sdk.Logger(ctx).Debug("looked for records", "found", len(p.found), "known", len(p.c.Records))
	if len(p.found) == 0 {
		return sdk.InitResponse{}, nil
	}
	return sdk.InitResponse{Installed: true, Findings: []string{fmt.Sprintf("records found: %v", p.found)}}, nil
}

func (p *plugin) Validate(context.Context, sdk.ValidateRequest) (sdk.ValidateResponse, error) {
	if len(p.found) == 0 {
		return sdk.ValidateResponse{}, nil
	}
	return sdk.ValidateResponse{Problems: []sdk.Problem{sdk.Blocker(sdk.KindGeneral,
		fmt.Sprintf("the %s component is installed (%s), but this build of engine-cleanup cannot clean it yet", p.c.Name, p.found[0]),
		"use an engine-cleanup build that includes the "+p.c.Name+" component, or clean it by hand").At(p.found[0], 0)}}, nil
}
