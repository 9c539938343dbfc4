package orchestrator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/hashicorp/go-hclog"

	"github.com/engine-cleanup/engine-cleanup/core/discovery"
	"github.com/engine-cleanup/engine-cleanup/core/exitcode"
	"github.com/engine-cleanup/engine-cleanup/core/pluginhost"
	"github.com/engine-cleanup/engine-cleanup/core/report"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// Listing is what --list-plugins reports.
type Listing struct {
	SearchPath []SearchDir      `json:"search_path"`
	Plugins    []report.Plugin  `json:"plugins"`
	Problems   []report.Problem `json:"problems"`
	ExitCode   int              `json:"exit_code"`
}

// SearchDir is one directory of the plugin search path.
type SearchDir struct {
	Path   string `json:"path"`
	Origin string `json:"origin"`
	Exists bool   `json:"exists"`
	Error  string `json:"error,omitempty"`
}

// ListPlugins launches every plugin found, asks each for its info, and
// prints one row per plugin. It fails when any plugin is broken. It writes
// no log file: listing is a read-only diagnostic.
func ListPlugins(ctx context.Context, cfg Config, iop IO, log hclog.Logger) error {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	redact := sdk.NewRedactor()
	// Hashing the built-ins' executable overlaps with launching them.
	sums := make(chan map[string]string, 1)
	go func() { sums <- hashFiles(cfg.BuiltIns) }()
	l := loadPlugins(ctx, cfg, pluginhost.Options{Log: log, Mask: redact.String, StartTimeout: cfg.StartTimeout,
		CoreVersion: cfg.Version})
	pluginhost.CloseAll(l.plugins)
	digests := <-sums
	for i := range l.rows {
		if l.rows[i].Source == "built-in" {
			l.rows[i].SHA256 = digests[l.rows[i].Path]
		}
	}

	listing := Listing{Plugins: l.rows, Problems: append(l.warnings, l.problems...)}
	for _, d := range l.search.Dirs {
		listing.SearchPath = append(listing.SearchPath, SearchDir{Path: d.Dir.Path, Origin: d.Dir.Origin,
			Exists: d.Exists, Error: d.Err})
	}
	var err error
	for _, r := range l.rows {
		if r.Status == string(discovery.StatusError) {
			listing.ExitCode = exitcode.Failed
			err = exitcode.New(exitcode.Failed, fmt.Errorf("some plugins are broken: see the list above"))
		}
	}
	if listing.Plugins == nil {
		listing.Plugins = []report.Plugin{}
	}
	if listing.Problems == nil {
		listing.Problems = []report.Problem{}
	}
	if cfg.JSON {
		b, jerr := json.MarshalIndent(listing, "", "  ")
		if jerr != nil {
			return jerr
		}
		fmt.Fprintln(iop.Out, redact.String(string(b)))
		return err
	}
	printListing(iop.Out, listing)
	return err
}

func printListing(w io.Writer, l Listing) {
	fmt.Fprintln(w, "Plugin search path (earlier directories shadow later ones):")
	for i, d := range l.SearchPath {
		state := ""
		switch {
		case d.Error != "":
			state = " — unreadable: " + d.Error
		case !d.Exists:
			state = " — missing"
		}
		fmt.Fprintf(w, "  %d. %s (%s)%s\n", i+1, d.Path, d.Origin, state)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSOURCE\tVERSION\tPROTOCOL\tPHASES\tSTATUS\tSTART\tPATH\tSHA256")
	for _, p := range l.Plugins {
		proto := "-"
		if p.Protocol > 0 {
			proto = fmt.Sprint(p.Protocol)
		}
		var phases []string
		for _, ph := range p.Phases {
			phases = append(phases, string(ph))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Source, dash(p.Version), proto,
			dash(strings.Join(phases, ",")), p.Status, dash(p.Started), p.Path, dash(p.SHA256))
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, p := range l.Plugins {
		if p.Description != "" {
			fmt.Fprintf(w, "%s: %s\n", p.Name, p.Description)
		}
	}
	for _, p := range l.Plugins {
		if p.Reason == "" {
			continue
		}
		fmt.Fprintf(w, "\n%s %s (%s): %s\n", strings.ToUpper(p.Status)+":", p.Name, p.Path, p.Reason)
		if len(p.Stderr) > 0 {
			fmt.Fprintln(w, "  last lines on its stderr:")
			for _, line := range p.Stderr {
				fmt.Fprintf(w, "    %s\n", line)
			}
		}
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// hashFiles returns the sha256 of each distinct executable (the built-ins
// usually share one).
func hashFiles(specs []pluginhost.Spec) map[string]string {
	sums := map[string]string{}
	for _, s := range specs {
		if _, ok := sums[s.Path]; !ok {
			sums[s.Path] = fileSHA256(s.Path)
		}
	}
	return sums
}

func fileSHA256(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}
