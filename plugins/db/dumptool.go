package db

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DumpTool is a pg_dump binary and its version.
type DumpTool struct {
	Path    string
	Version string // "15.18"
	// Major is 15 for 15.x and 9 for 9.x.
	Major int
}

func (d DumpTool) String() string { return fmt.Sprintf("%s (PostgreSQL %s)", d.Path, d.Version) }

// ErrNoDumpTool matches the error of CheckDumpTool when no pg_dump fits.
var ErrNoDumpTool = errors.New("no suitable pg_dump")

// dumpToolGlobs are where distributions install versioned PostgreSQL
// clients beside the one on PATH: Debian and Ubuntu, the PGDG packages for
// RHEL, and the software collections that oVirt 4.2 and 4.3 used on EL7.
func dumpToolGlobs() []string {
	return []string{
		"/usr/lib/postgresql/*/bin/pg_dump",
		"/usr/pgsql-*/bin/pg_dump",
		"/opt/rh/rh-postgresql*/root/usr/bin/pg_dump",
	}
}

// CheckDumpTool finds a pg_dump that can dump a server of major version
// serverMajor (see Inspection.ServerMajor): pg_dump refuses servers newer
// than itself, so its major version must be at least the server's. It
// takes the pg_dump on PATH when that is new enough, else the newest of
// the versioned installations (/usr/lib/postgresql/<N>/bin,
// /usr/pgsql-<N>/bin, /opt/rh/rh-postgresql<NN>). Debian's pg_wrapper is
// skipped: it picks a version by its own rules at run time.
//
// The error, matching ErrNoDumpTool, names the server's version, every
// pg_dump found, and the package to install.
func CheckDumpTool(ctx context.Context, serverMajor int) (DumpTool, error) {
	return checkDumpTool(ctx, serverMajor, dumpToolGlobs())
}

func checkDumpTool(ctx context.Context, serverMajor int, globs []string) (DumpTool, error) {
	var onPath string
	if p, err := exec.LookPath("pg_dump"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && filepath.Base(real) == "pg_dump" {
			onPath = real
		}
	}
	var versioned []string
	for _, g := range globs {
		m, _ := filepath.Glob(g) // patterns are constant and valid
		versioned = append(versioned, m...)
	}

	var found []DumpTool
	seen := map[string]bool{}
	probe := func(path string) (DumpTool, bool) {
		if seen[path] {
			return DumpTool{}, false
		}
		seen[path] = true
		d, err := dumpToolVersion(ctx, path)
		if err != nil {
			return DumpTool{}, false
		}
		found = append(found, d)
		return d, true
	}
	if onPath != "" {
		if d, ok := probe(onPath); ok && d.Major >= serverMajor {
			return d, nil
		}
	}
	var best DumpTool
	for _, p := range versioned {
		if d, ok := probe(p); ok && d.Major >= serverMajor && d.Major > best.Major {
			best = d
		}
	}
	if best.Path != "" {
		return best, nil
	}
	if err := ctx.Err(); err != nil {
		return DumpTool{}, fmt.Errorf("looking for pg_dump: %w", err)
	}

	sort.Slice(found, func(i, j int) bool { return found[i].Major > found[j].Major })
	have := "none was found on PATH or in " + strings.Join(globs, ", ")
	if len(found) > 0 {
		list := make([]string, len(found))
		for i, d := range found {
			list[i] = d.String()
		}
		have = "found only " + strings.Join(list, ", ")
	}
	return DumpTool{}, fmt.Errorf("%w: the database server runs PostgreSQL %d and pg_dump must be of that major version or later, but %s; "+
		"install the PostgreSQL %d client (Debian/Ubuntu: postgresql-client-%d; RHEL and derivatives: postgresql%d from the PostgreSQL repository, or the postgresql:%d module) and run again",
		ErrNoDumpTool, serverMajor, have, serverMajor, serverMajor, serverMajor, serverMajor)
}

var dumpVersionPattern = regexp.MustCompile(`\(PostgreSQL\) (\d+)(?:\.(\d+))?`)

// dumpToolVersion runs pg_dump --version ("pg_dump (PostgreSQL) 15.18
// (Debian 15.18-0+deb12u1)").
func dumpToolVersion(ctx context.Context, path string) (DumpTool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return DumpTool{}, fmt.Errorf("running %s --version: %w", path, err)
	}
	m := dumpVersionPattern.FindStringSubmatch(string(out))
	if m == nil {
		return DumpTool{}, fmt.Errorf("%s --version printed %q, which names no PostgreSQL version", path, strings.TrimSpace(string(out)))
	}
	major, _ := strconv.Atoi(m[1]) // digits by the pattern
	version := m[1]
	if m[2] != "" {
		version += "." + m[2]
	}
	return DumpTool{Path: path, Version: version, Major: major}, nil
}
