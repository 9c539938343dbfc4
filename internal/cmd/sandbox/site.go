package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/engine-cleanup/engine-cleanup/internal/testenv/ovirthost"
	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest"
	"github.com/engine-cleanup/engine-cleanup/internal/testenv/pgtest/schema"
	"github.com/engine-cleanup/engine-cleanup/internal/testenv/systemdtest"
)

// component is one of the host's databases.
type component struct {
	name      string // "engine", "dwh", "reports"
	db        *ovirthost.DB
	size      schema.Options
	schema    *schema.Schema
	backupDir string // as recorded; under the root
}

// site is a sandboxed engine host and what runs for it.
type site struct {
	out    io.Writer
	legacy bool
	times  *timings

	dir       string // the temporary directory holding everything below
	root      string // the host's "/"
	binDir    string // engine-cleanup
	pluginDir string // the example plugin
	buildTags string // the tags engine-cleanup was built with
	// libvirtURI is where engine-cleanup looks for libvirt domains: the
	// private daemon of addLibvirtDomains, or an empty test-driver host
	// when none can run, so that the sandbox never reaches the host's own
	// libvirt.
	libvirtURI string
	// libvirt is the private libvirtd and its domains, when one runs.
	libvirt *libvirtHost

	cluster *pgtest.Cluster
	manager *systemdtest.Manager
	host    *ovirthost.Host
	comps   []*component
	units   []string // started and runtime-enabled, without ".service"
}

// serviceExec stands in for every oVirt service.
const serviceExec = "/bin/sleep infinity"

// newSite builds the whole site. It returns a non-nil site as soon as the
// temporary directory exists, even with an error: the caller then tears
// it down.
func newSite(ctx context.Context, o options, times *timings) (*site, error) {
	dir, err := os.MkdirTemp("", "engine-cleanup-sandbox-")
	if err != nil {
		return nil, fmt.Errorf("create the sandbox directory: %w", err)
	}
	s := &site{out: o.out, legacy: o.legacy, times: times, dir: dir, root: filepath.Join(dir, "root"),
		binDir: filepath.Join(dir, "bin"), pluginDir: filepath.Join(dir, "plugins")}
	fmt.Fprintf(s.out, "== building a sandboxed %s in %s\n", s.kind(), dir)
	// The three are independent: the binaries build while PostgreSQL loads
	// its schemas and systemd starts its units.
	err = parallel(
		func() error { return s.buildBinaries(ctx) },
		func() error { return s.startDatabasesAndHost(ctx) },
		func() error { return s.startServices(ctx) },
	)
	if err != nil {
		return s, err
	}
	if err := ctx.Err(); err != nil {
		return s, err
	}
	empty := filepath.Join(dir, "libvirt-empty.xml")
	if err := os.WriteFile(empty, []byte("<node>\n</node>\n"), 0o644); err != nil {
		return s, fmt.Errorf("write the empty libvirt host: %w", err)
	}
	s.libvirtURI = "test://" + empty
	if err := addLibvirtDomains(ctx, s); err != nil {
		return s, fmt.Errorf("libvirt domains: %w", err)
	}
	return s, nil
}

func (s *site) kind() string {
	if s.legacy {
		return "legacy-era (3.2) engine host"
	}
	return "otopi-era (4.5) engine host with DWH and Reports"
}

// startDatabasesAndHost starts the cluster, creates the components' roles
// and databases as engine-setup provisions them, and then, concurrently,
// loads their schemas and builds the host tree whose records point at
// them.
func (s *site) startDatabasesAndHost(ctx context.Context) error {
	done := s.times.start("PostgreSQL cluster")
	c, err := pgtest.StartCluster(pgtest.WithTCP())
	done()
	if err != nil {
		return err
	}
	s.cluster = c
	if err := ctx.Err(); err != nil {
		return err
	}

	opts := ovirthost.Options{}
	if s.legacy {
		opts.Era = ovirthost.EraLegacy
	} else {
		opts.DWH, opts.Reports = &ovirthost.DB{}, &ovirthost.DB{}
	}
	done = s.times.start("roles and databases")
	opts.Engine, opts.DWH, opts.Reports, err = ovirthost.NewDatabasesErr(c, opts)
	done()
	if err != nil {
		return err
	}
	s.comps = []*component{{name: "engine", db: opts.Engine, size: schema.Full(), backupDir: "/var/lib/ovirt-engine/backups"}}
	if opts.DWH != nil {
		s.comps = append(s.comps, &component{name: "dwh", db: opts.DWH, size: schema.Small(), backupDir: "/var/lib/ovirt-engine-dwh/backups"})
	}
	if opts.Reports != nil {
		s.comps = append(s.comps, &component{name: "reports", db: opts.Reports, size: schema.Small(), backupDir: "/var/lib/ovirt-engine-reports/backups"})
	}

	work := []func() error{func() error {
		done := s.times.start("host tree (records, PKI, files)")
		defer done()
		h, err := ovirthost.New(s.root, opts)
		if err != nil {
			return fmt.Errorf("build the host tree: %w", err)
		}
		s.host = h
		return nil
	}}
	for _, comp := range s.comps {
		work = append(work, func() error {
			done := s.times.start("schema of the " + comp.name + " database")
			defer done()
			sch, err := ovirthost.PopulateDatabaseErr(c, *comp.db, comp.size)
			comp.schema = sch
			return err
		})
	}
	return parallel(work...)
}

// startServices starts the private systemd manager and runs the
// components' services as units, started and enabled at runtime.
func (s *site) startServices(ctx context.Context) error {
	done := s.times.start("systemd manager and units")
	defer done()
	m, err := systemdtest.StartManager()
	if err != nil {
		return err
	}
	s.manager = m
	// The services of the era: 3.2 had no websocket proxy, and its
	// notifier had another name.
	units := []string{"ovirt-engine", "engine-notifierd"}
	if !s.legacy {
		units = []string{"ovirt-engine", "ovirt-engine-notifier", "ovirt-websocket-proxy", "ovirt-engine-dwhd", "ovirt-engine-reportsd"}
	}
	var names []string
	for _, u := range units {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := m.InstallUnitErr(u+".service", systemdtest.SimpleServiceUnit(serviceExec)); err != nil {
			return err
		}
		names = append(names, u+".service")
	}
	s.units = units
	if _, err := m.SystemctlErr(append([]string{"start"}, names...)...); err != nil {
		return err
	}
	if _, err := m.SystemctlErr(append([]string{"enable", "--runtime"}, names...)...); err != nil {
		return err
	}
	return nil
}

// unitState is a unit's ActiveState and main PID ("0" when it has none).
func (s *site) unitState(unit string) (state, pid string, err error) {
	out, err := s.manager.SystemctlErr("show", "-p", "ActiveState,MainPID", unit+".service")
	if err != nil {
		return "", "", err
	}
	for _, line := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "ActiveState":
			state = v
		case "MainPID":
			pid = v
		}
	}
	return state, pid, nil
}

// env is the environment of engine-cleanup: DBUS_SYSTEM_BUS_ADDRESS points
// at the private manager, so that its services plugin manages the units.
func (s *site) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DBUS_SYSTEM_BUS_ADDRESS=") {
			env = append(env, kv)
		}
	}
	return append(env, "DBUS_SYSTEM_BUS_ADDRESS="+s.manager.BusAddress())
}

// objects counts, by component, what each database's role owns in it.
func (s *site) objects() (map[string]int, error) {
	counts := map[string]int{}
	for _, c := range s.comps {
		objs, err := s.cluster.ObjectsOwnedByErr(c.db.Database, c.db.User)
		if err != nil {
			return nil, err
		}
		counts[c.name] = len(objs)
	}
	return counts, nil
}

// teardown stops everything the site started and removes what it made,
// except, with keep, the temporary directory, into which it then copies
// the logs of the server, the manager and the units. Then it checks, by
// PID and start time, that none of the processes that ran for the site
// survived. It works on a half-built site too.
func (s *site) teardown(keep bool) error {
	done := s.times.start("teardown")
	defer done()
	fmt.Fprintf(s.out, "\n== tearing down\n")
	procs := s.processes()
	var errs []error
	logs := filepath.Join(s.dir, "logs")
	if keep {
		errs = append(errs, os.MkdirAll(logs, 0o755))
	}
	errs = append(errs, s.stopLibvirt(keep, logs))
	if m := s.manager; m != nil {
		if len(s.units) > 0 {
			args := []string{"stop"}
			for _, u := range s.units {
				args = append(args, u+".service")
			}
			if _, err := m.SystemctlErr(args...); err != nil {
				errs = append(errs, fmt.Errorf("stop the units: %w", err))
			}
		}
		if keep {
			errs = append(errs, copyFile(m.LogPath(), filepath.Join(logs, "systemd-manager.log")))
			for _, u := range s.units {
				if _, err := os.Stat(m.UnitLogPath(u + ".service")); err == nil {
					errs = append(errs, copyFile(m.UnitLogPath(u+".service"), filepath.Join(logs, u+".service.log")))
				}
			}
		}
		if err := m.Shutdown(); err != nil {
			errs = append(errs, err)
		} else {
			fmt.Fprintf(s.out, "systemd manager %d stopped with its units; cgroup %s and %s removed\n", m.PID(), m.CgroupName(), m.RuntimeDir())
		}
	}
	if c := s.cluster; c != nil {
		pid := c.PID()
		if keep {
			errs = append(errs, copyFile(c.ServerLogPath(), filepath.Join(logs, "postgresql.log")))
		}
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		} else {
			fmt.Fprintf(s.out, "PostgreSQL %d stopped; %s removed\n", pid, c.SocketDir())
		}
	}
	if err := pgtest.RemoveTemplate(); err != nil {
		errs = append(errs, err)
	}
	if keep {
		fmt.Fprintf(s.out, "kept %s (host tree in root/, binaries in bin/, logs in logs/)\n", s.dir)
	} else if err := os.RemoveAll(s.dir); err != nil {
		errs = append(errs, fmt.Errorf("remove the sandbox directory: %w", err))
	} else {
		fmt.Fprintf(s.out, "%s removed\n", s.dir)
	}
	if left := survivors(procs, s.dir, 5*time.Second); len(left) > 0 {
		errs = append(errs, fmt.Errorf("processes left behind: %s", strings.Join(left, ", ")))
	} else {
		fmt.Fprintf(s.out, "no process left behind (checked by PID: %s)\n", describeProcs(procs))
	}
	return errors.Join(errs...)
}

// copyFile copies a log into the kept directory; a missing log is not an
// error.
func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("keep a log: %w", err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		return fmt.Errorf("keep a log: %w", err)
	}
	return nil
}

// parallel runs fns concurrently and joins their errors.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// timings records how long each step took, for the summary.
type timings struct {
	mu    sync.Mutex
	begin time.Time
	steps []step
}

type step struct {
	name string
	d    time.Duration
}

func newTimings() *timings { return &timings{begin: time.Now()} }

// start starts timing a step; the returned function ends it.
func (t *timings) start(name string) func() {
	begin := time.Now()
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.steps = append(t.steps, step{name, time.Since(begin)})
	}
}

func (t *timings) print(w io.Writer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(w, "\n== timings\n")
	for _, st := range t.steps {
		fmt.Fprintf(w, "%-40s %6.2fs\n", st.name, st.d.Seconds())
	}
	fmt.Fprintf(w, "%-40s %6.2fs\n", "total", time.Since(t.begin).Seconds())
}
