package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// proc identifies a process by PID and start time, so that a PID reused
// by another process is not mistaken for ours.
type proc struct {
	pid   int
	start string
	what  string
}

func (p proc) String() string { return fmt.Sprintf("%d (%s)", p.pid, p.what) }

// procStat is what the sandbox needs of /proc/PID/stat.
type procStat struct {
	comm  string
	state string
	ppid  int
	start string
}

func statOf(pid int) (procStat, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, false
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return procStat{}, false
	}
	// After the command: state (field 3), ppid (4) ... starttime (22).
	f := strings.Fields(s[end+1:])
	if len(f) < 20 {
		return procStat{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	return procStat{comm: s[open+1 : end], state: f[0], ppid: ppid, start: f[19]}, true
}

// alive reports whether p still runs; a zombie counts as gone (a unit's
// orphans are reaped by PID 1, not by us).
func (p proc) alive() bool {
	st, ok := statOf(p.pid)
	return ok && st.start == p.start && st.state != "Z"
}

func allPIDs() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// processes lists what runs for the site now: the postmaster and its
// children, the manager and everything in its cgroups (units, the bus
// daemon), and any process whose executable lies in the sandbox directory
// (engine-cleanup and its plugins), and the private libvirtd with any qemu
// it runs.
func (s *site) processes() []proc {
	var ps []proc
	add := func(pid int) {
		if st, ok := statOf(pid); ok && st.state != "Z" && !slices.ContainsFunc(ps, func(p proc) bool { return p.pid == pid }) {
			ps = append(ps, proc{pid: pid, start: st.start, what: st.comm})
		}
	}
	var postmaster int
	if s.cluster != nil {
		postmaster = s.cluster.PID()
		if postmaster != 0 {
			add(postmaster)
		}
	}
	if s.manager != nil {
		add(s.manager.PID())
		for _, dir := range s.manager.CgroupDirs() {
			b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil {
					add(pid)
				}
			}
		}
	}
	for _, pid := range allPIDs() {
		if st, ok := statOf(pid); ok && postmaster != 0 && st.ppid == postmaster {
			add(pid)
		}
	}
	for _, pid := range runningFrom(s.dir) {
		add(pid)
	}
	for _, pid := range s.libvirtPIDs() {
		add(pid)
	}
	return ps
}

// runningFrom lists the processes whose executable is under dir.
func runningFrom(dir string) []int {
	var pids []int
	for _, pid := range allPIDs() {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err == nil && strings.HasPrefix(exe, dir+"/") {
			if st, ok := statOf(pid); ok && st.state != "Z" {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// survivors waits up to timeout for procs to be gone and returns those
// still running, and any process still running from dir.
func survivors(procs []proc, dir string, timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for {
		var left []string
		for _, p := range procs {
			if p.alive() {
				left = append(left, p.String())
			}
		}
		for _, pid := range runningFrom(dir) {
			left = append(left, fmt.Sprintf("%d (from %s)", pid, dir))
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// describeProcs summarises processes by command: "postgres ×6, systemd".
func describeProcs(procs []proc) string {
	if len(procs) == 0 {
		return "none was running"
	}
	count := map[string]int{}
	var names []string
	for _, p := range procs {
		if count[p.what] == 0 {
			names = append(names, p.what)
		}
		count[p.what]++
	}
	for i, n := range names {
		if count[n] > 1 {
			names[i] = fmt.Sprintf("%s ×%d", n, count[n])
		}
	}
	return strings.Join(names, ", ")
}
