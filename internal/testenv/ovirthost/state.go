package ovirthost

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// state is the host being built, in memory, keyed by recorded path. Runs
// of setup read and change it the way the real tools read and change the
// disk (a run's manifest must hash files as that run left them, before the
// next run changes them), and flush writes it once at the end.
type state struct {
	root  string
	files map[string]*node
	dirs  map[string]fs.FileMode // directories with a mode other than 0755
}

type node struct {
	data []byte
	mode fs.FileMode
	// link is the target of a symlink as recorded on the host: absolute
	// targets are written under root by flush, unless verbatim.
	link     string
	verbatim bool
}

func newState(root string) *state {
	return &state{root: root, files: map[string]*node{}, dirs: map[string]fs.FileMode{}}
}

func (s *state) put(p string, data []byte, mode fs.FileMode) {
	checkRecorded(p)
	s.files[p] = &node{data: bytes.Clone(data), mode: mode}
}

func (s *state) symlink(p, target string) {
	checkRecorded(p)
	s.files[p] = &node{link: target, mode: 0o777}
}

// symlinkVerbatim writes target as it is, for links that follow the
// chroot convention of "systemctl --root".
func (s *state) symlinkVerbatim(p, target string) {
	checkRecorded(p)
	s.files[p] = &node{link: target, mode: 0o777, verbatim: true}
}

func (s *state) dir(p string, mode fs.FileMode) {
	checkRecorded(p)
	s.dirs[p] = mode
}

func (s *state) get(p string) ([]byte, bool) {
	n, ok := s.resolve(p)
	if !ok {
		return nil, false
	}
	return n.data, true
}

func (s *state) exists(p string) bool {
	_, ok := s.resolve(p)
	return ok
}

// resolve follows symlinks, as open() does when setup hashes a file.
func (s *state) resolve(p string) (*node, bool) {
	for range 40 {
		n, ok := s.files[p]
		if !ok {
			return nil, false
		}
		if n.link == "" {
			return n, true
		}
		if path.IsAbs(n.link) {
			p = n.link
		} else {
			p = path.Join(path.Dir(p), n.link)
		}
	}
	return nil, false
}

func (s *state) remove(p string) { delete(s.files, p) }

// under lists the files below dir, sorted.
func (s *state) under(dir string) []string {
	var out []string
	for p := range s.files {
		if strings.HasPrefix(p, dir+"/") {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

func checkRecorded(p string) {
	if !path.IsAbs(p) || path.Clean(p) != p {
		panic(fmt.Sprintf("ovirthost: %q is not a clean absolute path", p))
	}
}

// flush writes the state under root. Modes are set explicitly: the umask
// of the process must not decide them.
func (s *state) flush() error {
	dirs := make([]string, 0, len(s.dirs))
	for d := range s.dirs {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	for _, d := range dirs {
		hp := hostPath(s.root, d)
		if err := os.MkdirAll(hp, 0o755); err != nil {
			return err
		}
	}
	paths := make([]string, 0, len(s.files))
	for p := range s.files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	made := map[string]bool{} // directories known to exist: one MkdirAll each
	for _, p := range paths {
		n := s.files[p]
		hp := hostPath(s.root, p)
		if dir := filepath.Dir(hp); !made[dir] {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			made[dir] = true
		}
		if n.link != "" {
			target := n.link
			if path.IsAbs(target) && !n.verbatim {
				target = hostPath(s.root, target)
			}
			if err := os.Symlink(target, hp); err != nil {
				return err
			}
			continue
		}
		if err := os.WriteFile(hp, n.data, n.mode.Perm()); err != nil {
			return err
		}
		if err := os.Chmod(hp, n.mode); err != nil {
			return err
		}
	}
	for _, d := range dirs {
		if err := os.Chmod(hostPath(s.root, d), s.dirs[d]); err != nil {
			return err
		}
	}
	return nil
}

func hostPath(root, recorded string) string {
	return filepath.Join(root, filepath.FromSlash(recorded))
}

func digest(algo hashAlgo, data []byte) string {
	if algo == algoMD5 {
		sum := md5.Sum(data)
		return hex.EncodeToString(sum[:])
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
