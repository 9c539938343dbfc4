package discovery

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// Scan reads every directory of path in order and reports every plugin
// candidate, without executing anything. builtins are the names of the
// built-in plugins; self is the user whose files are trusted besides root's.
func Scan(path SearchPath, builtins []string, self Identity) Result {
	s := &scanner{self: self, dirs: make(map[string]*dirHandle)}
	defer s.close()

	var res Result
	type job struct {
		dir  Dir
		h    *dirHandle
		file string
	}
	var jobs []job
	scanned := make(map[string]bool)
	for _, d := range path.Dirs {
		st, h, files := s.readDir(d, scanned)
		res.Dirs = append(res.Dirs, st)
		for _, file := range files {
			jobs = append(jobs, job{st.Dir, h, file})
		}
	}
	// Hashing dominates a scan (about 20 MB per Go plugin): inspect the
	// files on every CPU, keeping the search path order in the result.
	if len(jobs) == 0 {
		return res
	}
	res.Candidates = make([]Candidate, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.NumCPU(), len(jobs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				res.Candidates[i] = s.inspect(jobs[i].dir, jobs[i].h, jobs[i].file)
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	settle(res.Candidates, builtins)
	return res
}

// settle turns the findings of the checks into statuses, and applies
// built-in clashes and shadowing. Shadowing goes by name alone: a broken
// file in an earlier directory still hides a good one in a later directory,
// because falling back to a file the administrator did not put first would
// be a surprise.
func settle(cands []Candidate, builtins []string) {
	builtin := make(map[string]bool, len(builtins))
	for _, b := range builtins {
		builtin[b] = true
	}
	active := make(map[string]int)
	for i := range cands {
		c := &cands[i]
		if c.Reason != "" {
			c.Status = StatusError
		} else {
			c.Status = StatusOK
		}
		if !validName(c.Name) {
			continue
		}
		var warning string
		switch first, ok := active[c.Name]; {
		case builtin[c.Name]:
			warning = fmt.Sprintf("clashes with the built-in plugin %s; the built-in is used", c.Name)
		case ok:
			cands[first].Shadows = append(cands[first].Shadows, c.Path)
			warning = "shadowed by " + cands[first].Path
		default:
			active[c.Name] = i
		}
		if warning != "" && c.Status == StatusOK {
			c.Status = StatusWarning
			c.Reason = warning
		}
	}
}

type scanner struct {
	self Identity
	// mu guards dirs: files are inspected concurrently.
	mu sync.Mutex
	// dirs holds an open handle on every real directory seen, so that each
	// is checked once and files are opened relative to the very directory
	// that was checked.
	dirs map[string]*dirHandle
}

type dirHandle struct {
	real     string   // the directory's path with every symlink resolved
	f        *os.File // nil when the directory could not be opened
	err      error
	problems []problem
}

// problem is one failed check: what, worded to follow "is", and how to fix it.
type problem struct {
	what, fix string
}

func (s *scanner) close() {
	for _, h := range s.dirs {
		if h.f != nil {
			h.f.Close()
		}
	}
}

// readDir lists the candidate file names of one search path directory,
// sorted, and registers the directory's handle for the checks.
func (s *scanner) readDir(d Dir, scanned map[string]bool) (DirStatus, *dirHandle, []string) {
	st := DirStatus{Dir: d}
	abs, err := filepath.Abs(d.Path)
	if err != nil {
		st.Err = fmt.Sprintf("cannot make %s an absolute path: %v", d.Path, errText(err))
		return st, nil, nil
	}
	st.Dir.Path = abs
	if scanned[abs] {
		st.Exists = true
		st.Err = fmt.Sprintf("%s is already earlier in the search path; it is not scanned again", abs)
		return st, nil, nil
	}
	scanned[abs] = true

	f, err := os.Open(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return st, nil, nil
	case err != nil:
		st.Exists = true
		st.Err = fmt.Sprintf("cannot read %s: %v", abs, errText(err))
		return st, nil, nil
	}
	st.Exists = true
	fi, err := f.Stat()
	if err == nil && !fi.IsDir() {
		err = fmt.Errorf("%s is not a directory", abs)
	}
	var entries []os.DirEntry
	if err == nil {
		// On an error ReadDir still returns what it read, and those files
		// are worth reporting.
		entries, err = f.ReadDir(-1)
		if err != nil {
			err = fmt.Errorf("cannot read %s: %v", abs, errText(err))
		}
	}
	if err != nil {
		st.Err = err.Error()
		if entries == nil {
			f.Close()
			return st, nil, nil
		}
	}

	realDir, rerr := filepath.EvalSymlinks(abs)
	if rerr != nil {
		realDir = abs
	}
	h := s.dirs[realDir]
	if h == nil {
		h = &dirHandle{real: realDir, f: f, problems: s.dirProblems(realDir, fi)}
		s.dirs[realDir] = h
	} else {
		f.Close()
	}

	var files []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), Prefix) {
			files = append(files, e.Name())
		}
	}
	// Unlike os.ReadDir, File.ReadDir keeps the directory's own order.
	slices.Sort(files)
	return st, h, files
}

// dirHandle returns the handle on a real directory, opening it on first use.
func (s *scanner) dirHandle(realDir string) *dirHandle {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.dirs[realDir]; h != nil {
		return h
	}
	h := &dirHandle{real: realDir}
	s.dirs[realDir] = h
	// O_NOFOLLOW: realDir has every symlink resolved, so a symlink here
	// means the tree changed since, and the checks would be about another
	// directory.
	f, err := os.OpenFile(realDir, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		h.err = err
		return h
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		h.err = err
		return h
	}
	h.f = f
	h.problems = s.dirProblems(realDir, fi)
	return h
}

func (s *scanner) dirProblems(dir string, fi fs.FileInfo) []problem {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return []problem{{fmt.Sprintf("in directory %s, whose owner cannot be determined", dir), "move it to a plugin directory owned by root"}}
	}
	var ps []problem
	if !s.trusted(st.Uid) {
		ps = append(ps, problem{
			fmt.Sprintf("in directory %s, which is owned by uid %d, %s", dir, st.Uid, s.notTrusted()),
			"run chown root on " + dir,
		})
	}
	if st.Mode&0o022 != 0 {
		ps = append(ps, problem{
			fmt.Sprintf("in directory %s, which is writable by group or others (mode %04o)", dir, st.Mode&0o7777),
			"run chmod go-w on " + dir,
		})
	}
	return ps
}

func (s *scanner) trusted(uid uint32) bool {
	return uid == 0 || int64(uid) == int64(s.self.UID)
}

func (s *scanner) notTrusted() string {
	if s.self.UID == 0 {
		return "not by root or the invoking user"
	}
	return fmt.Sprintf("not by root or the invoking user (uid %d)", s.self.UID)
}

// inspect checks one candidate file of a search path directory. It fills in
// Reason with every check that failed and leaves Status to settle.
func (s *scanner) inspect(d Dir, h *dirHandle, file string) Candidate {
	c := Candidate{
		Name: strings.TrimPrefix(file, Prefix),
		Path: filepath.Join(d.Path, file),
		Dir:  d,
	}
	var reasons []string
	if !validName(c.Name) {
		reasons = append(reasons, fmt.Sprintf(
			"%s has an invalid plugin name %q: a name is 1 to 64 lowercase letters, digits and dashes, starting with a letter; rename the file",
			c.Path, c.Name))
	}
	target, sum, reason := s.check(c.Path, h, file)
	c.Target, c.SHA256 = target, sum
	if reason != "" {
		reasons = append(reasons, reason)
	}
	c.Reason = strings.Join(reasons, "; ")
	return c
}

// check runs the safety checks on the file at path, listed in the directory
// of h as file, and hashes it. It returns the real path of the file, its
// digest when it is a readable regular file, and what is wrong, if anything.
func (s *scanner) check(path string, h *dirHandle, file string) (target, sum, reason string) {
	li, err := os.Lstat(path)
	if err != nil {
		return "", "", fmt.Sprintf("%s cannot be checked: %v", path, errText(err))
	}
	if h == nil || h.f == nil {
		return "", "", fmt.Sprintf("%s cannot be checked: its directory could not be opened", path)
	}
	target = filepath.Join(h.real, file)
	subject, it := path, "it"
	if li.Mode()&fs.ModeSymlink != 0 {
		resolved, err := filepath.EvalSymlinks(path)
		if err != nil {
			link, _ := os.Readlink(path)
			if errors.Is(err, fs.ErrNotExist) {
				return "", "", fmt.Sprintf("%s is a symlink to %s which does not exist: fix or remove the link", path, link)
			}
			return "", "", fmt.Sprintf("%s is a symlink to %s which cannot be resolved (%v): fix or remove the link", path, link, errText(err))
		}
		target = resolved
		subject = fmt.Sprintf("%s is a symlink to %s which", path, resolved)
		it = resolved
		h = s.dirHandle(filepath.Dir(resolved))
		file = filepath.Base(resolved)
		if li, err = os.Lstat(resolved); err != nil {
			return target, "", fmt.Sprintf("%s cannot be checked: %v", subject, errText(err))
		}
		if h.f == nil {
			return target, "", fmt.Sprintf("%s cannot be checked: its directory cannot be opened: %v", subject, errText(h.err))
		}
	}
	// Only regular files are opened: opening a FIFO could block and opening
	// a device could have side effects.
	if !li.Mode().IsRegular() {
		return target, "", explain(subject, []problem{kindProblem(li.Mode())})
	}

	// The checks and the digest must be about the same file. Opening it
	// relative to the directory handle whose fstat gave the directory checks,
	// with O_NOFOLLOW, and then checking with fstat on this descriptor and
	// hashing from it, leaves no window in which a rename or a swapped
	// symlink could make the checks describe one file and the digest
	// another. The window that remains is between this scan and the exec,
	// which happens elsewhere by path: it is why the file and its directory
	// must not be writable by anyone but root or the invoking user, and the
	// digest lets the launcher or the administrator notice a change.
	// O_NONBLOCK keeps a FIFO swapped in after the Lstat from blocking the
	// scan; it has no effect on regular files.
	f, err := openat(int(h.f.Fd()), file, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_NOCTTY|syscall.O_CLOEXEC)
	if errors.Is(err, syscall.ELOOP) {
		return target, "", fmt.Sprintf("%s was replaced by a symlink while it was being checked: run the scan again", target)
	}
	if err != nil {
		return target, "", fmt.Sprintf("%s cannot be opened: %v", target, errText(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return target, "", fmt.Sprintf("%s cannot be checked: %v", target, errText(err))
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.Mode().IsRegular() || !ok {
		return target, "", explain(subject, []problem{kindProblem(fi.Mode())})
	}

	var ps []problem
	if !s.trusted(st.Uid) {
		ps = append(ps, problem{
			fmt.Sprintf("owned by uid %d, %s", st.Uid, s.notTrusted()),
			fmt.Sprintf("run chown root on %s, or remove %s if you do not trust it", it, it),
		})
	}
	if st.Mode&0o022 != 0 {
		ps = append(ps, problem{
			fmt.Sprintf("writable by group or others (mode %04o)", st.Mode&0o7777),
			"run chmod go-w on " + it,
		})
	}
	if st.Mode&0o100 == 0 {
		ps = append(ps, problem{"not executable", "run chmod +x on " + it})
	}
	ps = append(ps, h.problems...)

	hash := sha256.New()
	if _, err := io.Copy(hash, f); err != nil {
		ps = append(ps, problem{fmt.Sprintf("unreadable (%v)", errText(err)), "check the file and the disk"})
	} else {
		sum = hex.EncodeToString(hash.Sum(nil))
	}
	return target, sum, explain(subject, ps)
}

func openat(dirfd int, name string, flags int) (*os.File, error) {
	for {
		fd, err := syscall.Openat(dirfd, name, flags, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		return os.NewFile(uintptr(fd), name), nil
	}
}

func kindProblem(m fs.FileMode) problem {
	var kind string
	switch {
	case m.IsDir():
		return problem{"a directory", "remove it or move it out of the plugin directory"}
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	case m&fs.ModeCharDevice != 0:
		kind = "a character device"
	case m&fs.ModeDevice != 0:
		kind = "a block device"
	case m&fs.ModeSymlink != 0:
		kind = "a symlink"
	default:
		kind = "of type " + m.Type().String()
	}
	return problem{"not a regular file (it is " + kind + ")", "remove it from the plugin directory"}
}

// explain words the problems as one reason. subject is a path, or "<path> is
// a symlink to <target> which"; each problem's what follows "is".
func explain(subject string, ps []problem) string {
	var b strings.Builder
	for i, p := range ps {
		if i == 0 {
			fmt.Fprintf(&b, "%s is %s: %s", subject, p.what, p.fix)
		} else {
			fmt.Fprintf(&b, "; it is also %s: %s", p.what, p.fix)
		}
	}
	return b.String()
}

// errText drops the path from an *fs.PathError, which the messages already
// name.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
