package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/engine-cleanup/engine-cleanup/core/discovery"
	"github.com/engine-cleanup/engine-cleanup/core/pluginhost"
	"github.com/engine-cleanup/engine-cleanup/core/report"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// loaded is the outcome of finding and launching plugins.
type loaded struct {
	search  discovery.Result
	plugins []*pluginhost.Plugin
	// rows describe every plugin found, launched or not, for listing and
	// for the JSON document.
	rows []report.Plugin
	// problems are blocking for a run: a plugin that should run but cannot.
	problems []report.Problem
	// warnings are shown but do not stop a run.
	warnings []report.Problem
}

func builtinNames(specs []pluginhost.Spec) []string {
	var names []string
	for _, s := range specs {
		names = append(names, s.Names()...)
	}
	return names
}

// loadPlugins scans the search path and launches the built-ins and every
// launchable external plugin, all at once.
func loadPlugins(ctx context.Context, cfg Config, opts pluginhost.Options) *loaded {
	l := &loaded{}
	path := discovery.DefaultSearchPath(cfg.PluginDirs, cfg.AdminPluginDir, cfg.PackagedPluginDir)
	l.search = discovery.Scan(path, builtinNames(cfg.BuiltIns), discovery.Identity{UID: cfg.UID})

	// specs and rowsOf are parallel: the rows each process's plugins fill in.
	specs := slices.Clone(cfg.BuiltIns)
	var rowsOf [][]int
	for _, s := range cfg.BuiltIns {
		var rows []int
		for _, name := range s.Names() {
			l.rows = append(l.rows, report.Plugin{Name: name, Source: "built-in", Path: s.Path, SHA256: s.SHA256})
			rows = append(rows, len(l.rows)-1)
		}
		rowsOf = append(rowsOf, rows)
	}
	for _, c := range l.search.Candidates {
		l.rows = append(l.rows, report.Plugin{Name: c.Name, Source: "external", Path: c.Path, SHA256: c.SHA256,
			Status: string(c.Status), Reason: c.Reason, Shadows: c.Shadows})
		if !c.Launchable() {
			p := report.Problem{Plugin: c.Name, Phase: "discovery", Severity: sdk.Warning, Message: c.Reason}
			if c.Status == discovery.StatusError {
				p.Severity = sdk.Blocking
				p.Message = "not run: " + c.Reason
				l.problems = append(l.problems, p)
			} else {
				l.warnings = append(l.warnings, p)
			}
			continue
		}
		specs = append(specs, pluginhost.Spec{Name: c.Name, Path: c.Target, SHA256: c.SHA256})
		rowsOf = append(rowsOf, []int{len(l.rows) - 1})
	}

	started, failures := pluginhost.LaunchAll(ctx, specs, opts)
	for i, spec := range specs {
		if failures[i] == nil {
			for j, p := range started[i] {
				r := &l.rows[rowsOf[i][j]]
				l.plugins = append(l.plugins, p)
				r.Status = string(discovery.StatusOK)
				r.Version, r.Protocol, r.Phases = p.Info.Version, p.Protocol, p.Info.Phases
				r.Description = p.Info.Description
				r.Started = p.StartTime.Round(time.Millisecond).String()
			}
			continue
		}
		err := failures[i]
		detail, reason := err.Error(), err.Error()
		var stderr []string
		var pe *pluginhost.Error
		if errors.As(err, &pe) {
			reason = fmt.Sprintf("%s: %v", pe.Phase, pe.Err)
			detail, stderr = pe.Detail(), pe.Stderr
		}
		for j, ri := range rowsOf[i] {
			r := &l.rows[ri]
			r.Status, r.Reason, r.Stderr = string(discovery.StatusError), reason, stderr
			name := spec.Names()[j]
			l.problems = append(l.problems, report.Problem{Plugin: name, Phase: "start",
				Severity: sdk.Blocking, Message: detail, Remedy: "fix or remove the plugin, then run again"})
		}
	}
	return l
}
