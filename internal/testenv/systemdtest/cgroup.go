package systemdtest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const cgroupRoot = "/sys/fs/cgroup"

// Filesystem magic numbers (linux/magic.h).
const (
	cgroup1Magic = 0x27e0eb
	cgroup2Magic = 0x63677270
	tmpfsMagic   = 0x01021994
)

func fsType(path string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0
	}
	return int64(st.Type)
}

func isCgroup2(path string) bool { return fsType(path) == cgroup2Magic }

// managerRoots returns the hierarchies the manager must be moved into
// before systemd starts: those systemd itself tracks processes in, i.e.
// name=systemd and, on a hybrid host, the cgroup2 one; the single cgroup2
// hierarchy on a pure cgroup2 host.
func managerRoots() ([]string, error) {
	switch fsType(cgroupRoot) {
	case cgroup2Magic:
		return []string{cgroupRoot}, nil
	case tmpfsMagic:
		v1 := filepath.Join(cgroupRoot, "systemd")
		if fsType(v1) != cgroup1Magic {
			return nil, fmt.Errorf("no name=systemd cgroup hierarchy at %s", v1)
		}
		roots := []string{v1}
		if v2 := filepath.Join(cgroupRoot, "unified"); isCgroup2(v2) {
			roots = append(roots, v2)
		}
		return roots, nil
	default:
		return nil, fmt.Errorf("unknown cgroup layout: %s is neither cgroup2 nor a tmpfs of hierarchies", cgroupRoot)
	}
}

// hierarchyRoots returns every mounted hierarchy: systemd may create its
// unit cgroups in v1 controller hierarchies too, so cleanup looks in all.
func hierarchyRoots() []string {
	if isCgroup2(cgroupRoot) {
		return []string{cgroupRoot}
	}
	entries, err := os.ReadDir(cgroupRoot)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var roots []string
	for _, e := range entries {
		// cpu and cpuacct may be symlinks to "cpu,cpuacct".
		p, err := filepath.EvalSymlinks(filepath.Join(cgroupRoot, e.Name()))
		if err != nil || seen[p] {
			continue
		}
		if t := fsType(p); t == cgroup1Magic || t == cgroup2Magic {
			seen[p] = true
			roots = append(roots, p)
		}
	}
	return roots
}

// existingCgroupDirs lists the directories of cgroup name and its
// descendants in every hierarchy, deepest first.
func existingCgroupDirs(name string) []string {
	var dirs []string
	for _, root := range hierarchyRoots() {
		_ = filepath.WalkDir(filepath.Join(root, name), func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
	}
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	return dirs
}

// removeCgroups kills the processes left in cgroup name (by PID: only
// units of a manager we started can be there) and removes its directories
// in every hierarchy.
func removeCgroups(name string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		dirs := existingCgroupDirs(name)
		if len(dirs) == 0 {
			return nil
		}
		var pids []int
		for _, d := range dirs {
			pids = append(pids, cgroupPIDs(d)...)
		}
		for _, pid := range pids {
			// Should the hazard this package guards against ever happen,
			// the host's processes would be in here: kill nothing then.
			if pid <= 1 || pid == os.Getpid() || pid == os.Getppid() {
				return fmt.Errorf("cgroup %s holds process %d, which systemdtest did not start: "+
					"not touching it; inspect /proc/%d/cgroup and move processes back by hand", name, pid, pid)
			}
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		for _, d := range dirs {
			// EBUSY while processes are dying; children go first.
			_ = syscall.Rmdir(d)
		}
		if len(existingCgroupDirs(name)) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cannot remove cgroup dirs %q (processes %v)", existingCgroupDirs(name), pids)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func cgroupPIDs(dir string) []int {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// sweepStale removes the cgroups and runtime directories of managers whose
// test binary was killed. Only names carrying the PID of a process that no
// longer exists are touched. logf reports what was done.
func sweepStale(logf func(format string, args ...any)) {
	stale := map[string]bool{}
	for _, dir := range append(hierarchyRoots(), tempRoot()) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if pid, ok := ownerPID(e.Name()); ok && e.IsDir() && pid != os.Getpid() && !processExists(pid) {
				stale[e.Name()] = true
			}
		}
	}
	for name := range stale {
		if err := removeCgroups(name); err != nil {
			logf("systemdtest: sweep stale cgroup %s: %v", name, err)
		}
		if err := os.RemoveAll(filepath.Join(tempRoot(), name)); err != nil {
			logf("systemdtest: sweep stale runtime dir %s: %v", name, err)
		}
		logf("systemdtest: swept leftovers of %s", name)
	}
}

// ownerPID parses "sdu-<pid>-<random>".
func ownerPID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "sdu-")
	if !ok {
		return 0, false
	}
	p, suffix, ok := strings.Cut(rest, "-")
	if !ok || suffix == "" {
		return 0, false
	}
	pid, err := strconv.Atoi(p)
	return pid, err == nil && pid > 0
}

func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
