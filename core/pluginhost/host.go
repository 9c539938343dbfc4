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

// Spec says how to start one plugin.
type Spec struct {
	// Name is the name the plugin is known by before it answers: its file
	// name without the prefix, or the built-in's name.
	Name    string
	Path    string
	Args    []string
	BuiltIn bool
	// SHA256 is the digest of the executable, for reports.
	SHA256 string
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

// Plugin is a running plugin process.
type Plugin struct {
	Spec     Spec
	Info     sdk.InfoResponse
	Protocol int
	PID      int
	// StartTime is how long start, handshake and Info took.
	StartTime time.Duration

	client *plugin.Client
	rpc    *sdk.Client
	stderr *stderrSink
	stdout *stderrSink
	closed chan struct{}
	once   sync.Once
}

// Launch starts a plugin, completes the handshake and asks for its Info.
func Launch(ctx context.Context, spec Spec, opts Options) (*Plugin, error) {
	if opts.Mask == nil {
		opts.Mask = func(s string) string { return s }
	}
	if opts.Log == nil {
		opts.Log = hclog.NewNullLogger()
	}
	begin := time.Now()
	p := &Plugin{Spec: spec, closed: make(chan struct{})}
	p.stderr = newStderrSink(opts.Log.Named("plugin."+spec.Name), opts.Mask)
	p.stdout = newStderrSink(opts.Log.Named("plugin."+spec.Name+".stdout"), opts.Mask)

	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Env = pluginEnv()
	// Own process group: terminal signals stay with the core, and the core can
	// kill the plugin together with its children. Parent-death signal: the
	// plugin dies with the core even when the core is SIGKILLed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p.client = plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.VersionedPlugins(nil),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Cmd:              cmd,
		SkipHostEnv:      true,
		StartTimeout:     opts.StartTimeout,
		// The sink logs plugin lines itself, under the plugin's own name;
		// go-plugin's logger would repeat them under the binary's name.
		Logger: hclog.NewNullLogger(),
		Stderr: p.stderr,
		// What the plugin writes to os.Stderr after its handshake travels
		// over go-plugin's stdio stream; keep it too: a crash message
		// printed by the plugin is what the administrator needs to see.
		SyncStderr: p.stderr,
		// Plugins must not write to stdout; if one does, log it.
		SyncStdout:      p.stdout,
		GRPCDialOptions: sdk.DialOptions(),
	})

	if err := p.start(); err != nil {
		p.Close()
		return nil, p.fail("start", classifyStart(err, opts.StartTimeout))
	}
	rpcClient, err := p.client.Client()
	if err == nil {
		var raw interface{}
		raw, err = rpcClient.Dispense(sdk.PluginKey)
		if err == nil {
			p.rpc = raw.(*sdk.Client)
		}
	}
	if err != nil {
		p.Close()
		return nil, p.fail("start", err)
	}
	p.Protocol = p.client.NegotiatedVersion()
	if rc := p.client.ReattachConfig(); rc != nil {
		p.PID = rc.Pid
	}
	err = p.Call(ctx, "info", opts.StartTimeout, func(ctx context.Context) error {
		info, err := p.rpc.Info(ctx, sdk.InfoRequest{CoreVersion: opts.CoreVersion})
		p.Info = info
		return err
	})
	if err != nil {
		p.Close()
		return nil, err
	}
	if err := checkInfo(spec, p.Info); err != nil {
		p.Close()
		return nil, p.fail("info", err)
	}
	p.StartTime = time.Since(begin)
	return p, nil
}

// start forks the plugin from a goroutine locked to its OS thread, and keeps
// that thread alive until the plugin is closed: the parent-death signal fires
// when the forking thread exits, not when the process does.
func (p *Plugin) start() error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		_, err := p.client.Start()
		started <- err
		<-p.closed
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
	err := fn(callCtx)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return p.fail(phase, ctx.Err())
	}
	if errors.Is(callCtx.Err(), context.DeadlineExceeded) {
		return p.fail(phase, fmt.Errorf("no answer within %s: the plugin hangs", timeout))
	}
	if p.waitExited(200 * time.Millisecond) {
		return p.fail(phase, fmt.Errorf("the plugin process crashed: %v", err))
	}
	return p.fail(phase, err)
}

// waitExited gives go-plugin a moment to notice a dead process: an RPC on a
// crashed plugin fails a little before the exit is reaped.
func (p *Plugin) waitExited(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if p.client.Exited() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *Plugin) fail(phase string, err error) *Error {
	return &Error{Plugin: p.Spec.Name, Path: p.Spec.Path, Phase: phase, Err: err, Stderr: p.stderr.Tail()}
}

// StderrTail returns the last lines the plugin wrote on stderr.
func (p *Plugin) StderrTail() []string { return p.stderr.Tail() }

// Close ends the plugin: a graceful shutdown request, then SIGKILL to its
// whole process group so that nothing it started survives. Safe to call more
// than once.
func (p *Plugin) Close() {
	p.once.Do(func() {
		p.client.Kill()
		if p.PID > 0 {
			_ = syscall.Kill(-p.PID, syscall.SIGKILL)
		}
		close(p.closed)
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

// LaunchAll starts every plugin concurrently. Its results are parallel to
// specs: for each, either the running plugin or the launch failure.
func LaunchAll(ctx context.Context, specs []Spec, opts Options) ([]*Plugin, []error) {
	plugins := make([]*Plugin, len(specs))
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
