package discovery

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

const (
	goodContent = "#!/bin/sh\necho good\n"
	goodSHA     = "941f5e6bd9a6202ac570c9f1126adfd3218f55ee16977adb02a426e2cebd0e9c"
	badContent  = "#!/bin/sh\necho bad\n"
	badSHA      = "142f9eb3eebc5c96a7c326c6b373a31906db9d2de9d85792ec053be90ad7c69a"

	strangerUID = 12345
)

func isRoot() bool { return os.Geteuid() == 0 }

// tree builds files under a temporary root and resolves paths against it.
type tree struct {
	t    *testing.T
	root string
}

func newTree(t *testing.T) *tree {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &tree{t: t, root: root}
}

func (tr *tree) path(rel string) string { return filepath.Join(tr.root, rel) }

// dir and file set the mode with Chmod, so the umask cannot weaken a test.
func (tr *tree) dir(rel string, mode os.FileMode) {
	tr.t.Helper()
	p := tr.path(rel)
	if err := os.MkdirAll(p, 0o700); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) file(rel, content string, mode os.FileMode) {
	tr.t.Helper()
	p := tr.path(rel)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) symlink(target, rel string) {
	tr.t.Helper()
	if err := os.Symlink(target, tr.path(rel)); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) chown(rel string, uid int) {
	tr.t.Helper()
	if err := os.Lchown(tr.path(rel), uid, -1); err != nil {
		tr.t.Fatal(err)
	}
}

// expand replaces $R with the tree's root.
func (tr *tree) expand(s string) string { return strings.ReplaceAll(s, "$R", tr.root) }

func TestScan(t *testing.T) {
	tr := newTree(t)
	const p = Prefix

	tr.dir("first", 0o755)
	tr.file("first/"+p+"good", goodContent, 0o755)
	tr.file("first/"+p+"noexec", goodContent, 0o644)
	tr.file("first/"+p+"groupwritable", goodContent, 0o775)
	tr.file("first/real-binary", goodContent, 0o755)
	tr.symlink("real-binary", "first/"+p+"link-good")
	tr.dir("elsewhere", 0o755)
	tr.file("elsewhere/noexec-binary", badContent, 0o644)
	tr.symlink("../elsewhere/noexec-binary", "first/"+p+"link-bad")
	tr.symlink(tr.path("admin/helper"), "first/"+p+"link-unsafe-dir")
	tr.symlink("missing-binary", "first/"+p+"dangling")
	tr.dir("first/"+p+"subdir", 0o755)
	if err := syscall.Mkfifo(tr.path("first/"+p+"fifo"), 0o755); err != nil {
		t.Fatal(err)
	}
	tr.file("first/"+p+"Bad_Name", goodContent, 0o755)
	tr.file("first/README", "not a plugin", 0o755)
	tr.file("first/"+p+"dup", goodContent, 0o755)
	tr.file("first/"+p+"engine", goodContent, 0o755)
	if isRoot() {
		tr.file("first/"+p+"stranger", goodContent, 0o755)
		tr.chown("first/"+p+"stranger", strangerUID)
		tr.dir("stranger", 0o755)
		tr.file("stranger/"+p+"instranger", goodContent, 0o755)
		tr.chown("stranger", strangerUID)
	}
	tr.file("notadir", goodContent, 0o755)
	tr.dir("admin", 0o777)
	tr.file("admin/"+p+"inopen", goodContent, 0o755)
	tr.file("admin/helper", goodContent, 0o755)
	tr.dir("packaged", 0o755)
	tr.file("packaged/"+p+"dup", badContent, 0o755)
	tr.file("packaged/"+p+"engine", goodContent, 0o755)
	tr.file("packaged/"+p+"noexec", goodContent, 0o755)

	flagDirs := []string{tr.path("first"), tr.path("stranger"), tr.path("missing"), tr.path("notadir")}
	sp := DefaultSearchPath(flagDirs, tr.path("admin"), tr.path("packaged"))
	res := Scan(sp, []string{"engine", "reports"}, CurrentIdentity())

	t.Run("every directory is reported in search path order", func(t *testing.T) {
		want := []DirStatus{
			{Dir: Dir{tr.path("first"), OriginFlag}, Exists: true},
			{Dir: Dir{tr.path("stranger"), OriginFlag}, Exists: isRoot()},
			{Dir: Dir{tr.path("missing"), OriginFlag}},
			{Dir: Dir{tr.path("notadir"), OriginFlag}, Exists: true, Err: tr.path("notadir") + " is not a directory"},
			{Dir: Dir{tr.path("admin"), OriginAdmin}, Exists: true},
			{Dir: Dir{tr.path("packaged"), OriginPackaged}, Exists: true},
		}
		if !slices.Equal(res.Dirs, want) {
			t.Errorf("dirs:\n got %+v\nwant %+v", res.Dirs, want)
		}
	})

	// The rows are in the order Scan must return the candidates.
	tests := []struct {
		name     string
		path     string
		status   Status
		reason   []string // substrings; none means an empty reason
		target   string   // "" means no target
		sha      string
		shadows  []string
		rootOnly bool
	}{
		{
			name:   "a name that breaks the naming rule is an error",
			path:   "first/" + p + "Bad_Name",
			status: StatusError,
			reason: []string{"$R/first/" + p + "Bad_Name has an invalid plugin name \"Bad_Name\"", "rename the file"},
			target: "first/" + p + "Bad_Name",
			sha:    goodSHA,
		},
		{
			name:   "a dangling symlink is an error",
			path:   "first/" + p + "dangling",
			status: StatusError,
			reason: []string{"$R/first/" + p + "dangling is a symlink to missing-binary which does not exist"},
		},
		{
			name:    "a plugin in an earlier directory is active and lists what it shadows",
			path:    "first/" + p + "dup",
			status:  StatusOK,
			target:  "first/" + p + "dup",
			sha:     goodSHA,
			shadows: []string{"packaged/" + p + "dup"},
		},
		{
			name:   "a name that clashes with a built-in is a warning",
			path:   "first/" + p + "engine",
			status: StatusWarning,
			reason: []string{"clashes with the built-in plugin engine; the built-in is used"},
			target: "first/" + p + "engine",
			sha:    goodSHA,
		},
		{
			name:   "a named pipe is an error and is not opened",
			path:   "first/" + p + "fifo",
			status: StatusError,
			reason: []string{"$R/first/" + p + "fifo is not a regular file (it is a named pipe)"},
			target: "first/" + p + "fifo",
		},
		{
			name:   "a safe executable file is launchable",
			path:   "first/" + p + "good",
			status: StatusOK,
			target: "first/" + p + "good",
			sha:    goodSHA,
		},
		{
			name:   "a group-writable file is an error",
			path:   "first/" + p + "groupwritable",
			status: StatusError,
			reason: []string{"$R/first/" + p + "groupwritable is writable by group or others (mode 0775): run chmod go-w on it"},
			target: "first/" + p + "groupwritable",
			sha:    goodSHA,
		},
		{
			name:   "a symlink to a file that is not executable is an error about its target",
			path:   "first/" + p + "link-bad",
			status: StatusError,
			reason: []string{"$R/first/" + p + "link-bad is a symlink to $R/elsewhere/noexec-binary which is not executable: run chmod +x on $R/elsewhere/noexec-binary"},
			target: "elsewhere/noexec-binary",
			sha:    badSHA,
		},
		{
			name:   "a symlink to a good file in the same directory is launchable and reports its target",
			path:   "first/" + p + "link-good",
			status: StatusOK,
			target: "first/real-binary",
			sha:    goodSHA,
		},
		{
			name:   "a symlink into a world-writable directory is an error about that directory",
			path:   "first/" + p + "link-unsafe-dir",
			status: StatusError,
			reason: []string{"$R/first/" + p + "link-unsafe-dir is a symlink to $R/admin/helper which is in directory $R/admin, which is writable by group or others (mode 0777): run chmod go-w on $R/admin"},
			target: "admin/helper",
			sha:    goodSHA,
		},
		{
			name:    "a file that is not executable is an error and still shadows a later good one",
			path:    "first/" + p + "noexec",
			status:  StatusError,
			reason:  []string{"$R/first/" + p + "noexec is not executable: run chmod +x on it"},
			target:  "first/" + p + "noexec",
			sha:     goodSHA,
			shadows: []string{"packaged/" + p + "noexec"},
		},
		{
			name:     "a file owned by another user is an error",
			path:     "first/" + p + "stranger",
			status:   StatusError,
			reason:   []string{"$R/first/" + p + "stranger is owned by uid 12345, not by root or the invoking user: run chown root on it"},
			target:   "first/" + p + "stranger",
			sha:      goodSHA,
			rootOnly: true,
		},
		{
			name:   "a directory with the prefix is an error",
			path:   "first/" + p + "subdir",
			status: StatusError,
			reason: []string{"$R/first/" + p + "subdir is a directory"},
			target: "first/" + p + "subdir",
		},
		{
			name:     "a file in a directory owned by another user is an error",
			path:     "stranger/" + p + "instranger",
			status:   StatusError,
			reason:   []string{"$R/stranger/" + p + "instranger is in directory $R/stranger, which is owned by uid 12345, not by root or the invoking user: run chown root on $R/stranger"},
			target:   "stranger/" + p + "instranger",
			sha:      goodSHA,
			rootOnly: true,
		},
		{
			name:   "a file in a world-writable directory is an error",
			path:   "admin/" + p + "inopen",
			status: StatusError,
			reason: []string{"$R/admin/" + p + "inopen is in directory $R/admin, which is writable by group or others (mode 0777): run chmod go-w on $R/admin"},
			target: "admin/" + p + "inopen",
			sha:    goodSHA,
		},
		{
			name:   "a plugin in a later directory is shadowed by the earlier one",
			path:   "packaged/" + p + "dup",
			status: StatusWarning,
			reason: []string{"shadowed by $R/first/" + p + "dup"},
			target: "packaged/" + p + "dup",
			sha:    badSHA,
		},
		{
			name:   "a clash with a built-in is reported in every directory",
			path:   "packaged/" + p + "engine",
			status: StatusWarning,
			reason: []string{"clashes with the built-in plugin engine"},
			target: "packaged/" + p + "engine",
			sha:    goodSHA,
		},
		{
			name:   "a good plugin shadowed by a broken one is not used",
			path:   "packaged/" + p + "noexec",
			status: StatusWarning,
			reason: []string{"shadowed by $R/first/" + p + "noexec"},
			target: "packaged/" + p + "noexec",
			sha:    goodSHA,
		},
	}

	byPath := make(map[string]Candidate)
	var gotOrder, wantOrder []string
	for _, c := range res.Candidates {
		byPath[c.Path] = c
		gotOrder = append(gotOrder, c.Path)
	}
	for _, tt := range tests {
		if !tt.rootOnly || isRoot() {
			wantOrder = append(wantOrder, tr.path(tt.path))
		}
	}
	t.Run("candidates come in search path order, then by name, and other files are ignored", func(t *testing.T) {
		if !slices.Equal(gotOrder, wantOrder) {
			t.Errorf("order:\n got %q\nwant %q", gotOrder, wantOrder)
		}
	})

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.rootOnly && !isRoot() {
				t.Skip("changing a file's owner needs root")
			}
			c, ok := byPath[tr.path(tt.path)]
			if !ok {
				t.Fatalf("%s is not a candidate", tt.path)
			}
			if want := strings.TrimPrefix(filepath.Base(tt.path), p); c.Name != want {
				t.Errorf("Name = %q, want %q", c.Name, want)
			}
			if c.Status != tt.status {
				t.Errorf("Status = %q, want %q (reason %q)", c.Status, tt.status, c.Reason)
			}
			if c.Launchable() != (tt.status == StatusOK) {
				t.Errorf("Launchable() = %v with status %q", c.Launchable(), c.Status)
			}
			if len(tt.reason) == 0 && c.Reason != "" {
				t.Errorf("Reason = %q, want none", c.Reason)
			}
			for _, sub := range tt.reason {
				if sub = tr.expand(sub); !strings.Contains(c.Reason, sub) {
					t.Errorf("Reason = %q\nwant it to contain %q", c.Reason, sub)
				}
			}
			if strings.HasSuffix(c.Reason, ".") || c.Reason != "" && strings.ToLower(c.Reason[:1]) != c.Reason[:1] {
				t.Errorf("Reason %q must start lowercase and have no final punctuation", c.Reason)
			}
			wantTarget := ""
			if tt.target != "" {
				wantTarget = tr.path(tt.target)
			}
			if c.Target != wantTarget {
				t.Errorf("Target = %q, want %q", c.Target, wantTarget)
			}
			if c.SHA256 != tt.sha {
				t.Errorf("SHA256 = %q, want %q", c.SHA256, tt.sha)
			}
			var wantShadows []string
			for _, s := range tt.shadows {
				wantShadows = append(wantShadows, tr.path(s))
			}
			if !slices.Equal(c.Shadows, wantShadows) {
				t.Errorf("Shadows = %q, want %q", c.Shadows, wantShadows)
			}
			if wantDir := filepath.Dir(tr.path(tt.path)); c.Dir.Path != wantDir {
				t.Errorf("Dir.Path = %q, want %q", c.Dir.Path, wantDir)
			}
		})
	}

	t.Run("only ok candidates are launchable", func(t *testing.T) {
		var got []string
		for _, c := range res.Launchable() {
			got = append(got, c.Path)
		}
		want := []string{
			tr.path("first/" + p + "dup"),
			tr.path("first/" + p + "good"),
			tr.path("first/" + p + "link-good"),
		}
		if !slices.Equal(got, want) {
			t.Errorf("Launchable() = %q, want %q", got, want)
		}
	})
}

func TestScanOwnership(t *testing.T) {
	if !isRoot() {
		t.Skip("changing a file's owner needs root")
	}
	tests := []struct {
		name   string
		self   int
		status Status
		reason string
	}{
		{"a file of the invoking user is trusted", strangerUID, StatusOK, ""},
		{"a file of another user is not trusted when root invokes", 0, StatusError, "not by root or the invoking user: run chown root on it"},
		{"the reason names the invoking user when it is not root", 54321, StatusError, "not by root or the invoking user (uid 54321)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTree(t)
			tr.dir("d", 0o755)
			tr.file("d/"+Prefix+"mine", goodContent, 0o755)
			tr.chown("d/"+Prefix+"mine", strangerUID)
			tr.chown("d", strangerUID)
			tr.file("d/"+Prefix+"roots", goodContent, 0o755)

			res := Scan(SearchPath{Dirs: []Dir{{tr.path("d"), OriginFlag}}}, nil, Identity{UID: tt.self})
			if len(res.Candidates) != 2 {
				t.Fatalf("got %d candidates, want 2: %+v", len(res.Candidates), res.Candidates)
			}
			mine, roots := res.Candidates[0], res.Candidates[1]
			if mine.Status != tt.status || !strings.Contains(mine.Reason, tt.reason) {
				t.Errorf("file of uid %d: status %q, reason %q; want %q with %q", strangerUID, mine.Status, mine.Reason, tt.status, tt.reason)
			}
			// A root-owned file in a directory of the invoking user is fine;
			// for anyone else the directory is the problem.
			if wantOK := tt.self == strangerUID; roots.Launchable() != wantOK {
				t.Errorf("root's file in a directory of uid %d with uid %d invoking: status %q, reason %q", strangerUID, tt.self, roots.Status, roots.Reason)
			}
		})
	}
}

func TestScanSearchPathEdges(t *testing.T) {
	tests := []struct {
		name  string
		setup func(tr *tree) SearchPath
		check func(t *testing.T, tr *tree, res Result)
	}{
		{
			name: "a directory listed twice is scanned once and does not shadow itself",
			setup: func(tr *tree) SearchPath {
				d := tr.path("d")
				return SearchPath{Dirs: []Dir{{d, OriginFlag}, {d + "/", OriginAdmin}}}
			},
			check: func(t *testing.T, tr *tree, res Result) {
				if len(res.Candidates) != 1 || !res.Candidates[0].Launchable() || res.Candidates[0].Shadows != nil {
					t.Errorf("candidates = %+v, want one launchable candidate shadowing nothing", res.Candidates)
				}
				if len(res.Dirs) != 2 || !strings.Contains(res.Dirs[1].Err, "already earlier in the search path") {
					t.Errorf("dirs = %+v, want the second one reported as a repeat", res.Dirs)
				}
			},
		},
		{
			name: "a relative directory is reported with an absolute path",
			setup: func(tr *tree) SearchPath {
				tr.t.Chdir(tr.root)
				return SearchPath{Dirs: []Dir{{"d", OriginFlag}}}
			},
			check: func(t *testing.T, tr *tree, res Result) {
				if res.Dirs[0].Dir.Path != tr.path("d") {
					t.Errorf("dir path = %q, want %q", res.Dirs[0].Dir.Path, tr.path("d"))
				}
				if len(res.Candidates) != 1 || res.Candidates[0].Path != tr.path("d/"+Prefix+"x") {
					t.Errorf("candidates = %+v, want one with an absolute path", res.Candidates)
				}
			},
		},
		{
			name: "a symlinked directory is checked as its real directory",
			setup: func(tr *tree) SearchPath {
				tr.symlink(tr.path("d"), "alias")
				return SearchPath{Dirs: []Dir{{tr.path("alias"), OriginFlag}}}
			},
			check: func(t *testing.T, tr *tree, res Result) {
				c := res.Candidates[0]
				if c.Path != tr.path("alias/"+Prefix+"x") || c.Target != tr.path("d/"+Prefix+"x") || !c.Launchable() {
					t.Errorf("candidate = %+v, want path under alias, target under d, launchable", c)
				}
			},
		},
		{
			name: "an empty search path finds nothing",
			setup: func(tr *tree) SearchPath {
				return SearchPath{}
			},
			check: func(t *testing.T, tr *tree, res Result) {
				if res.Dirs != nil || res.Candidates != nil {
					t.Errorf("got %+v, want nothing", res)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTree(t)
			tr.dir("d", 0o755)
			tr.file("d/"+Prefix+"x", goodContent, 0o755)
			tt.check(t, tr, Scan(tt.setup(tr), nil, CurrentIdentity()))
		})
	}
}

func BenchmarkScan(b *testing.B) {
	root := b.TempDir()
	dir := filepath.Join(root, "plugins")
	if err := os.Mkdir(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	// A few dozen plugins the size of a small Go binary: hashing dominates.
	content := make([]byte, 8<<20)
	for i := range 30 {
		p := filepath.Join(dir, fmt.Sprintf("%splugin-%02d", Prefix, i))
		if err := os.WriteFile(p, content, 0o600); err != nil {
			b.Fatal(err)
		}
		if err := os.Chmod(p, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	sp := SearchPath{Dirs: []Dir{{dir, OriginPackaged}}}
	self := CurrentIdentity()
	for b.Loop() {
		if res := Scan(sp, nil, self); len(res.Launchable()) != 30 {
			b.Fatalf("got %d launchable candidates, want 30", len(res.Launchable()))
		}
	}
}
