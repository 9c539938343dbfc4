package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// Spec says how to start one plugin process.
type Spec struct {
	// Name is the name the plugin is known by before it answers: its file
	// name without the prefix, or the built-in's name.
	Name string
	Path string
	Args []string
	// Serves lists the plugins the process serves when it serves several
	// (the built-ins share one process); empty means just Name.
	Serves  []string
	BuiltIn bool
	// SHA256 is the digest of the executable, for reports.
	SHA256 string
}

func (s Spec) Names() []string {
	if len(s.Serves) > 0 {
		return s.Serves
	}
	return []string{s.Name}
}

// Options apply to every plugin the host starts.
type Options struct {
	// Log receives every plugin's log lines, under "plugin.<name>".
	Log hclog.Logger
	// Mask hides secrets in plugin output before it is logged or quoted.
	Mask func(string) string
	// StartTimeout bounds start, handshake and Info.
	StartTimeout time.Duration
	// CoreVersion is sent to plugins in the Info request.
	CoreVersion string
}

// envAllowed are the only variables of the core's environment a plugin sees,
// so a plugin cannot be steered by whatever the invoking shell exported.
var envAllowed = []string{
	"PATH", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "HOME",
	"DBUS_SYSTEM_BUS_ADDRESS", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR",
	"LIBVIRT_DEFAULT_URI", "GOCOVERDIR", "NO_COLOR",
}

func pluginEnv() []string {
	var env []string
	for _, k := range envAllowed {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// process is a running plugin process; it may serve several plugins.
type process struct {
	spec   Spec
	client *plugin.Client
	rpc    *sdk.Client
	stderr *stderrSink
	stdout *stderrSink
	pid    int
	closed chan struct{}
	once   sync.Once

	mu   sync.Mutex
	refs int
}

// Plugin is one plugin served by a running process.
type Plugin struct {
	// Spec describes the plugin: Name is the plugin's, Path and Args the
	// process's.
	Spec     Spec
	Info     sdk.InfoResponse
	Protocol int
	PID      int
	// StartTime is how long start, handshake and Info took.
	StartTime time.Duration

	proc *process
	rpc  *sdk.Client
	once sync.Once
}

// Launch starts a plugin process, completes the handshake and asks every
// plugin it serves for its Info. It returns one Plugin per served name, in
// order, or the failure (which then concerns every name).
func Launch(ctx context.Context, spec Spec, opts Options) ([]*Plugin, error) {
	if opts.Mask == nil {
		opts.Mask = func(s string) string { return s }
	}
	if opts.Log == nil {
		opts.Log = hclog.NewNullLogger()
	}
	begin := time.Now()
	names := spec.Names()
	proc := &process{spec: spec, closed: make(chan struct{})}
	logName := "plugin"
	if len(spec.Serves) == 0 {
		// A bundle's plugins name themselves in their log lines.
		logName += "." + spec.Name
	}
	proc.stderr = newStderrSink(opts.Log.Named(logName), opts.Mask)
	proc.stdout = newStderrSink(opts.Log.Named(logName+".stdout"), opts.Mask)

	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Env = pluginEnv()
	// Own process group: terminal signals stay with the core, and the core can
	// kill the plugin together with its children. Parent-death signal: the
	// plugin dies with the core even when the core is SIGKILLed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	proc.client = plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.VersionedPlugins(nil),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Cmd:              cmd,
		SkipHostEnv:      true,
		StartTimeout:     opts.StartTimeout,
		// The sink logs plugin lines itself, under the plugin's own name;
		// go-plugin's logger would repeat them under the binary's name.
		Logger: hclog.NewNullLogger(),
		Stderr: proc.stderr,
		// What the plugin writes to os.Stderr after its handshake travels
		// over go-plugin's stdio stream; keep it too: a crash message
		// printed by the plugin is what the administrator needs to see.
		SyncStderr: proc.stderr,
		// Plugins must not write to stdout; if one does, log it.
		SyncStdout:      proc.stdout,
		GRPCDialOptions: sdk.DialOptions(),
	})

	if err := proc.start(); err != nil {
		proc.kill()
		return nil, proc.fail(spec.Name, "start", classifyStart(err, opts.StartTimeout))
	}
	rpcClient, err := proc.client.Client()
	if err == nil {
		var raw interface{}
		raw, err = rpcClient.Dispense(sdk.PluginKey)
		if err == nil {
			proc.rpc = raw.(*sdk.Client)
		}
	}
	if err != nil {
		proc.kill()
		return nil, proc.fail(spec.Name, "start", err)
	}
	if rc := proc.client.ReattachConfig(); rc != nil {
		proc.pid = rc.Pid
	}
	var plugins []*Plugin
	for _, name := range names {
		p := &Plugin{Spec: spec, Protocol: proc.client.NegotiatedVersion(), PID: proc.pid, proc: proc, rpc: proc.rpc}
		p.Spec.Name = name
		if len(spec.Serves) > 0 {
			p.rpc = proc.rpc.For(name)
		}
		err := p.Call(ctx, "info", opts.StartTimeout, func(ctx context.Context) (err error) {
			p.Info, err = p.rpc.Info(ctx, sdk.InfoRequest{CoreVersion: opts.CoreVersion})
			return err
		})
		if err == nil {
			if cerr := checkInfo(p.Spec, p.Info); cerr != nil {
				err = proc.fail(name, "info", cerr)
			}
		}
		if err != nil {
			proc.kill()
			return nil, err
		}
		plugins = append(plugins, p)
	}
	proc.refs = len(plugins)
	took := time.Since(begin)
	for _, p := range plugins {
		p.StartTime = took
	}
	return plugins, nil
}

// start forks the plugin from a goroutine locked to its OS thread, and keeps
// that thread alive until the plugin is closed: the parent-death signal fires
// when the forking thread exits, not when the process does.
func (proc *process) start() error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		_, err := proc.client.Start()
		started <- err
		<-proc.closed
		runtime.UnlockOSThread()
	}()
	return <-started
}

func classifyStart(err error, timeout time.Duration) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "Failed to read any lines"), strings.Contains(msg, "plugin exited before we could connect"):
		return errors.New("exited before the handshake without writing anything on stdout: not a plugin, or it crashed at start")
	case strings.Contains(msg, "Unrecognized remote plugin message"):
		return fmt.Errorf("not a plugin: it wrote something other than the go-plugin handshake on stdout: %s",
			firstLine(msg))
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return fmt.Errorf("no handshake within %s: the plugin hangs or is not a plugin", timeout)
	case strings.Contains(msg, "Incompatible API version"), strings.Contains(msg, "incompatible API version"),
		strings.Contains(msg, "Incompatible core API version"):
		return fmt.Errorf("speaks another plugin protocol version (this core speaks %d): %s",
			sdk.ProtocolVersion, firstLine(msg))
	}
	return err
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func checkInfo(spec Spec, info sdk.InfoResponse) error {
	if !sdk.ValidName(info.Name) {
		return fmt.Errorf("invalid plugin name %q in its info", info.Name)
	}
	if info.Name != spec.Name {
		return fmt.Errorf("calls itself %q but is installed as %q: rename the file to engine-cleanup-plugin-%s",
			info.Name, spec.Name, info.Name)
	}
	return nil
}

// RPC returns the plugin's phase interface. Use it through Call so that
// timeouts and crashes are reported.
func (p *Plugin) RPC() *sdk.Client { return p.rpc }

// Call runs fn under timeout (0: no limit) and turns a failure into an *Error
// for phase, noticing when the plugin process has died.
func (p *Plugin) Call(ctx context.Context, phase string, timeout time.Duration, fn func(context.Context) error) error {
	callCtx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	begin := time.Now()
	err := fn(callCtx)
	if err == nil {
		return nil
	}
	name := p.Spec.Name
	if ctx.Err() != nil {
		return p.proc.fail(name, phase, ctx.Err())
	}
	// gRPC hands the deadline to the plugin, whose side may expire first
	// and reset the stream (CANCEL) a moment before ours does.
	if errors.Is(callCtx.Err(), context.DeadlineExceeded) || (timeout > 0 && time.Since(begin) >= timeout-100*time.Millisecond) {
		return p.proc.fail(name, phase, fmt.Errorf("no answer within %s: the plugin hangs", timeout))
	}
	if p.proc.waitExited(200 * time.Millisecond) {
		return p.proc.fail(name, phase, fmt.Errorf("the plugin process crashed: %v", err))
	}
	return p.proc.fail(name, phase, err)
}

// waitExited gives go-plugin a moment to notice a dead process: an RPC on a
// crashed plugin fails a little before the exit is reaped.
func (proc *process) waitExited(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if proc.client.Exited() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (proc *process) fail(name, phase string, err error) *Error {
	return &Error{Plugin: name, Path: proc.spec.Path, Phase: phase, Err: err, Stderr: proc.stderr.Tail()}
}

// StderrTail returns the last lines the plugin's process wrote on stderr.
func (p *Plugin) StderrTail() []string { return p.proc.stderr.Tail() }

// Close releases the plugin; its process ends when every plugin it serves
// is closed. Safe to call more than once.
func (p *Plugin) Close() {
	p.once.Do(func() {
		p.proc.mu.Lock()
		p.proc.refs--
		last := p.proc.refs <= 0
		p.proc.mu.Unlock()
		if last {
			p.proc.kill()
		}
	})
}

// kill ends the process: a graceful shutdown request, then SIGKILL to its
// whole process group so that nothing it started survives.
func (proc *process) kill() {
	proc.once.Do(func() {
		proc.client.Kill()
		if proc.pid > 0 {
			_ = syscall.Kill(-proc.pid, syscall.SIGKILL)
		}
		close(proc.closed)
	})
}

// Error is a failure of one plugin in one phase.
type Error struct {
	Plugin string
	Path   string
	Phase  string
	Err    error
	Stderr []string
}

func (e *Error) Error() string {
	return fmt.Sprintf("plugin %s failed in %s: %v", e.Plugin, e.Phase, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Detail renders the error with the plugin's last stderr lines.
func (e *Error) Detail() string {
	var b strings.Builder
	b.WriteString(e.Error())
	if len(e.Stderr) > 0 {
		b.WriteString("\n  last lines on its stderr:")
		for _, l := range e.Stderr {
			b.WriteString("\n    ")
			b.WriteString(l)
		}
	}
	return b.String()
}

// LaunchAll starts every process concurrently. Its results are parallel to
// specs: for each, either the plugins it serves or the launch failure.
func LaunchAll(ctx context.Context, specs []Spec, opts Options) ([][]*Plugin, []error) {
	plugins := make([][]*Plugin, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, s := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			plugins[i], errs[i] = Launch(ctx, s, opts)
		}()
	}
	wg.Wait()
	return plugins, errs
}

// CloseAll closes plugins concurrently.
func CloseAll(plugins []*Plugin) {
	var wg sync.WaitGroup
	for _, p := range plugins {
		if p == nil {
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); p.Close() }()
	}
	wg.Wait()
}
