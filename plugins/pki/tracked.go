package pki

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/engine-cleanup/engine-cleanup/plugins/internal/files"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
)

// PKI groups of the uninstall manifests (otopi era), as engine-setup and
// its plugins name them.
const (
	GroupKeys   = "ca_pki"    // "PKI keys": CA, keystores, certificates
	GroupConfig = "ca_config" // "PKI configuration": 10-setup-pki.conf
)

// IsPKIGroup reports whether a manifest group holds PKI files: ca_pki,
// ca_config, the ca_pki_<component> groups (wsp, reports, grafana, oip,
// vmp_engine) and the *_pki groups (vmconsole_proxy_pki,
// vmconsole_proxy_helper_pki).
func IsPKIGroup(name string) bool {
	return name == GroupKeys || name == GroupConfig ||
		strings.HasPrefix(name, GroupKeys+"_") || strings.HasSuffix(name, "_pki")
}

// Tracked returns the files the manifests record in PKI groups, minus
// those any manifest marks [unremovable], sorted. A nil inventory tracks
// nothing.
func Tracked(inv *records.Inventory) []string {
	if inv == nil {
		return nil
	}
	var out []string
	for _, g := range inv.Groups {
		if !IsPKIGroup(g.Name) {
			continue
		}
		for _, f := range g.Files {
			if !inv.IsUnremovable(f.Path) {
				out = append(out, f.Path)
			}
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// LegacyTracked returns the PKI files oVirt 3.0-3.2 created, as absolute
// paths: legacy setup kept no manifest, and its engine-cleanup deleted
// exactly these (records.LegacyPKIFiles). The CA key (private/ca.pem) is
// not among them, so it stays, as it did then.
func LegacyTracked() []string {
	var out []string
	for _, f := range records.LegacyPKIFiles() {
		out = append(out, path.Join(records.PKIDir, f))
	}
	sort.Strings(out)
	return out
}

// Sources returns what Archive should save: the PKI tree, its
// configuration, and every tracked file outside them, so that nothing is
// removed without being in the archive.
func Sources(tracked []string) []string {
	out := []string{records.PKIDir, records.PKIConf}
	for _, p := range tracked {
		c := path.Clean(p)
		if c != records.PKIConf && !within(c, records.PKIDir) {
			out = append(out, c)
		}
	}
	slices.Sort(out[2:])
	return slices.Compact(out)
}

func within(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// RemoveTracked removes the tracked files with files.Remove (so a symlink
// is removed as itself, protected paths and directories are refused,
// nothing outside the root is reached) and refuses any symlink on the way
// to a file (see the package comment). Files in the PKI tree go first and
// the rest (the configuration with the keystore passwords) last, so a run
// killed part way keeps the passwords of the keystores that remain.
// Untracked files are never touched, nor directories. Problems name each
// file and what to do; the rest is still done.
func RemoveTracked(root string, tracked []string) (removed, alreadyGone []string, problems []error) {
	order := slices.Clone(tracked)
	sort.SliceStable(order, func(i, j int) bool {
		ii, ij := within(path.Clean(order[i]), records.PKIDir), within(path.Clean(order[j]), records.PKIDir)
		if ii != ij {
			return ii
		}
		return order[i] < order[j]
	})
	for _, p := range slices.Compact(order) {
		switch out, err := files.Remove(root, p, files.RefuseSymlinkDirs()); {
		case err != nil:
			problems = append(problems, fmt.Errorf("pki: %w", err))
		case out == files.Removed:
			removed = append(removed, p)
		default:
			alreadyGone = append(alreadyGone, p)
		}
	}
	return removed, alreadyGone, problems
}

// Untracked returns every file and symlink under pkiDir (a recorded path,
// normally records.PKIDir) that is not tracked, sorted: what stays after
// RemoveTracked, for the summary. A missing tree has none.
func Untracked(root, pkiDir string, tracked []string) ([]string, error) {
	set := map[string]bool{}
	for _, p := range tracked {
		set[path.Clean(p)] = true
	}
	var out []string
	err := files.Walk(context.Background(), root, pkiDir, func(n *files.Node) error {
		if !n.Mode.IsDir() && !set[n.Path] {
			out = append(out, n.Path)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pki: listing untracked files: %w", err)
	}
	return out, nil
}

// State is what validation needs to know about the PKI; finding it
// changes nothing.
type State struct {
	// TreeExists: records.PKIDir is there.
	TreeExists bool
	// Present are the tracked files that exist: to archive, then remove.
	Present []string
	// Gone are tracked files already removed (a re-run).
	Gone []string
	// Untracked stay, and are listed in the summary.
	Untracked []string
	// Leftover: the tree exists but no record tracks any file in it. That
	// is a note, not a problem: it is what a finished cleanup leaves (host
	// certificates), or the tree of a setup that wrote no manifest.
	Leftover bool
	// Problems are tracked paths RemoveTracked would refuse (a directory,
	// a special file, a symlink on the way or out of the root, a protected
	// path), each naming the file and what to do.
	Problems []error
}

// Check finds the State of the PKI under root for the tracked files
// (Tracked or LegacyTracked).
func Check(root string, tracked []string) (State, error) {
	var st State
	tree, err := files.Inspect(root, records.PKIDir)
	if err != nil {
		return st, fmt.Errorf("pki: checking %s: %w", records.PKIDir, err)
	}
	st.TreeExists = tree.Kind == files.Directory
	for _, p := range tracked {
		info, err := files.Inspect(root, p, files.RefuseSymlinkDirs())
		switch {
		case err != nil:
			st.Problems = append(st.Problems, fmt.Errorf("pki: %w", err))
		case info.Protected != "":
			st.Problems = append(st.Problems, fmt.Errorf("pki: %s %s; it will be left in place: %w", info.Path, info.Protected, files.ErrProtected))
		case info.Kind == files.Missing:
			st.Gone = append(st.Gone, p)
		case info.Kind == files.Directory, info.Kind == files.Special:
			st.Problems = append(st.Problems, fmt.Errorf("pki: %s is a %s, but setup recorded a file there; engine-cleanup will leave it: check what it is and remove it by hand if it is no longer needed", info.Path, info.Kind))
		default:
			st.Present = append(st.Present, p)
		}
	}
	if st.TreeExists {
		if st.Untracked, err = Untracked(root, records.PKIDir, tracked); err != nil {
			return st, err
		}
		st.Leftover = !slices.ContainsFunc(tracked, func(p string) bool { return within(path.Clean(p), records.PKIDir) })
	}
	return st, nil
}
