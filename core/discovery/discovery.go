package discovery

import (
	"os"
	"path/filepath"
)

// Prefix starts the file name of every external plugin; the rest of the file
// name is the plugin's name.
const Prefix = "engine-cleanup-plugin-"

// Origins of a directory in the search path.
const (
	OriginFlag     = "--plugin-dir"
	OriginAdmin    = "admin"
	OriginPackaged = "packaged"
)

// Dir is one directory of the search path.
type Dir struct {
	Path string
	// Origin says what put the directory in the search path: OriginFlag,
	// OriginAdmin or OriginPackaged.
	Origin string
}

// SearchPath is the ordered list of plugin directories. A plugin name found
// in an earlier directory shadows the same name in a later one.
type SearchPath struct {
	Dirs []Dir
}

// DefaultSearchPath builds the search path: the --plugin-dir directories in
// the order given, then adminDir, then packagedDir. Empty paths are left out,
// and a directory given twice keeps only its first place, so that a plugin
// is never reported as shadowing itself.
func DefaultSearchPath(extra []string, adminDir, packagedDir string) SearchPath {
	var sp SearchPath
	seen := make(map[string]bool)
	add := func(path, origin string) {
		if path == "" {
			return
		}
		path = filepath.Clean(path)
		if seen[path] {
			return
		}
		seen[path] = true
		sp.Dirs = append(sp.Dirs, Dir{Path: path, Origin: origin})
	}
	for _, p := range extra {
		add(p, OriginFlag)
	}
	add(adminDir, OriginAdmin)
	add(packagedDir, OriginPackaged)
	return sp
}

// Identity is the user the core runs as: files owned by this user are
// trusted as much as files owned by root.
type Identity struct {
	UID int
}

// CurrentIdentity returns the identity of the running process: its
// effective uid, because that is whose privileges a plugin would run with.
func CurrentIdentity() Identity {
	return Identity{UID: os.Geteuid()}
}

// Status is the verdict on one candidate.
type Status string

const (
	// StatusOK means the candidate passed every check and may be launched.
	StatusOK Status = "ok"
	// StatusWarning means the candidate is harmless but not used: its name
	// clashes with a built-in or is shadowed by an earlier directory.
	StatusWarning Status = "warning"
	// StatusError means the candidate must not be executed: it is unsafe,
	// not executable, not a regular file, or badly named.
	StatusError Status = "error"
)

// DirStatus is the outcome of reading one directory of the search path.
type DirStatus struct {
	// Dir is the directory as scanned, with an absolute path.
	Dir Dir
	// Exists is false when nothing is at the path; a missing directory is
	// not an error.
	Exists bool
	// Err says why the directory could not be read, or is empty.
	Err string
}

// Candidate is one file in a plugin directory whose name has the plugin
// prefix.
type Candidate struct {
	// Name is the file name without Prefix.
	Name string
	// Path is the file's path in its search path directory, as listed.
	Path string
	// Target is the real path of the file that was checked and hashed,
	// with every symlink resolved: the file to execute. It is empty when
	// the path could not be resolved.
	Target string
	Dir    Dir
	Status Status
	// Reason says what is wrong and what to do; empty when Status is OK.
	Reason string
	// Shadows lists the paths of later candidates with the same name, which
	// this one hides.
	Shadows []string
	// SHA256 is the hex digest of the file's content, for every regular
	// file that could be read, launchable or not.
	SHA256 string
}

// Launchable reports whether the candidate may be launched.
func (c Candidate) Launchable() bool {
	return c.Status == StatusOK
}

// Result is everything Scan found.
type Result struct {
	// Dirs lists every directory of the search path, in order, including
	// missing and unreadable ones.
	Dirs []DirStatus
	// Candidates are in search path order, then by name.
	Candidates []Candidate
}

// Launchable returns the candidates that may be launched, in order.
func (r Result) Launchable() []Candidate {
	var out []Candidate
	for _, c := range r.Candidates {
		if c.Launchable() {
			out = append(out, c)
		}
	}
	return out
}

// validName is the rule of sdk.ValidName, repeated here so that discovery
// stays free of the sdk's gRPC dependencies; a test keeps the two in step.
func validName(name string) bool {
	if len(name) == 0 || len(name) > 64 || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
