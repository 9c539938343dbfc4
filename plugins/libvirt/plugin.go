//go:build cgo

package libvirt

import (
	"context"
	"fmt"
	"sync"
	"time"

	"libvirt.org/go/libvirt"

	"github.com/engine-cleanup/engine-cleanup/internal/version"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// New returns the libvirt plugin.
func New() sdk.Plugin { return newPlugin(options{}) }

// options configure a plugin; the zero value is what New uses.
type options struct {
	// open connects to uri; the plugin calls release once it is done with
	// the connection. Nil: libvirt.NewConnect, released with Close. Tests
	// pass one shared connection, because the state of a test:///file URI
	// belongs to the connection that loaded it.
	open func(uri string) (conn *libvirt.Connect, release func(), err error)
	// shutdownTimeout replaces ShutdownTimeout when positive.
	shutdownTimeout time.Duration
}

func newPlugin(o options) *plugin {
	if o.open == nil {
		o.open = func(uri string) (*libvirt.Connect, func(), error) {
			c, err := libvirt.NewConnect(uri)
			if err != nil {
				return nil, nil, err
			}
			return c, func() { c.Close() }, nil
		}
	}
	if o.shutdownTimeout <= 0 {
		o.shutdownTimeout = ShutdownTimeout
	}
	return &plugin{opts: o}
}

type plugin struct {
	opts options
	env  sdk.Environment

	record    *domainRecord
	recordErr error

	// unavailable says why libvirt cannot be used in this process ("" when
	// it can); connErr why the connection failed.
	unavailable string
	conn        *libvirt.Connect
	release     func()
	connErr     error
	connected   bool // Init connected: the plan needs a connection

	plan     []sdk.Action
	handlers map[string]handler
	// mu guards conn (reopened by Execute, which the core calls
	// concurrently in the backup stage) and ladder.
	mu sync.Mutex
	// ladder is the first undefine attempt the driver did not refuse: the
	// flags a driver accepts do not change between domains.
	ladder int
}

// handler executes one action on conn. The core runs the backup stage's
// actions concurrently: handlers share nothing else that changes.
type handler func(ctx context.Context, conn *libvirt.Connect, progress func(sdk.Progress)) sdk.ExecuteResponse

var (
	_ sdk.Initializer = (*plugin)(nil)
	_ sdk.Validator   = (*plugin)(nil)
	_ sdk.Confirmer   = (*plugin)(nil)
	_ sdk.Executor    = (*plugin)(nil)
	_ sdk.Closer      = (*plugin)(nil)
)

const description = "libvirt domains the installation recorded or tagged, with managed saves, snapshot and checkpoint metadata and NVRAM"

func (p *plugin) Info(context.Context, sdk.InfoRequest) (sdk.InfoResponse, error) {
	d := description
	if reason := unavailable(); reason != "" {
		d += "; libvirt unavailable: " + reason
	}
	return sdk.InfoResponse{Name: "libvirt", Version: version.Version, Description: d}, nil
}

// unavailable says why libvirt cannot be used in this process, or "".
// Built with libvirt_dlopen, the first call opens libvirt.so.0; a missing
// or broken library fails it, and every call after it.
func unavailable() string {
	if _, err := libvirt.GetVersion(); err != nil {
		if reason := dlopenError(); reason != "" {
			return reason
		}
		return lvMessage(err)
	}
	return ""
}

func (p *plugin) Init(ctx context.Context, req sdk.InitRequest) (sdk.InitResponse, error) {
	p.closeConn()
	p.connected = false
	p.env = req.Environment
	log := sdk.Logger(ctx)
	var resp sdk.InitResponse

	p.record, p.recordErr = readRecord(p.env.Root)
	if p.recordErr != nil {
		resp.Installed = true
		resp.Problems = append(resp.Problems, recordProblem(p.env.Root, p.recordErr))
		return resp, nil
	}
	recorded := 0
	if p.record != nil {
		recorded = len(p.record.Domains)
		resp.Installed = true
		resp.Findings = append(resp.Findings, fmt.Sprintf("%s lists %d domain(s)", p.record.Path, recorded))
	}

	if p.unavailable = unavailable(); p.unavailable != "" {
		log.Info("libvirt unavailable", "reason", p.unavailable, "recorded", recorded)
		resp.Findings = append(resp.Findings, "libvirt unavailable: "+p.unavailable)
		if recorded > 0 {
			resp.Problems = append(resp.Problems, sdk.Blocker(sdk.KindGeneral,
				fmt.Sprintf("libvirt is unavailable (%s), but %d domain(s) are recorded for removal", p.unavailable, recorded),
				"install libvirt's client library (package libvirt0, or libvirt-libs) and run again; or undefine the domains by hand "+
					"(virsh undefine --managed-save --snapshots-metadata --checkpoints-metadata --nvram DOMAIN) and delete the record").
				At(p.record.Path, 0))
		}
		return resp, nil
	}
	p.conn, p.release, p.connErr = p.opts.open(p.env.LibvirtURI)
	p.connected = p.connErr == nil
	if p.connErr != nil {
		log.Info("libvirt not reachable", "uri", p.uriText(), "error", p.connErr)
		resp.Findings = append(resp.Findings, fmt.Sprintf("libvirt not reachable at %s: %s", p.uriText(), lvMessage(p.connErr)))
		if recorded > 0 {
			resp.Problems = append(resp.Problems, sdk.Blocker(sdk.KindGeneral,
				fmt.Sprintf("cannot connect to libvirt at %s (%s), but %d domain(s) are recorded for removal", p.uriText(), lvMessage(p.connErr), recorded),
				"start libvirtd, or give the right URI with --libvirt-uri, and run again").At(p.record.Path, 0))
		}
		return resp, nil
	}

	s := p.scan(ctx)
	if len(s.targets) > 0 {
		resp.Installed = true
	}
	resp.Findings = append(resp.Findings, s.findings()...)
	log.Info("domains found", "uri", p.uriText(), "recorded", recorded, "to clean", len(s.targets), "gone", len(s.gone))
	return resp, nil
}

// uriText shows the URI in messages.
func (p *plugin) uriText() string {
	if p.env.LibvirtURI == "" {
		if p.conn != nil {
			if u, err := p.conn.GetURI(); err == nil {
				return u + " (the default)"
			}
		}
		return "the default URI"
	}
	return p.env.LibvirtURI
}

// alive reports whether the connection is open and its daemon still there.
func (p *plugin) alive() bool {
	if p.conn == nil {
		return false
	}
	ok, err := p.conn.IsAlive()
	return err == nil && ok
}

func (p *plugin) closeConn() {
	if p.release != nil {
		p.release()
	}
	p.conn, p.release, p.connErr = nil, nil, nil
}

func (p *plugin) Validate(ctx context.Context, req sdk.ValidateRequest) (sdk.ValidateResponse, error) {
	plan, problems := p.build(ctx)
	return sdk.ValidateResponse{Plan: plan, Problems: problems}, nil
}

func (p *plugin) Confirm(ctx context.Context, req sdk.ConfirmRequest) (sdk.ConfirmResponse, error) {
	plan, problems := p.build(ctx)
	return sdk.ConfirmResponse{Plan: plan, Problems: problems}, nil
}

func (p *plugin) Execute(ctx context.Context, req sdk.ExecuteRequest) (sdk.ExecuteResponse, error) {
	h, ok := p.handlers[req.ActionID]
	if !ok {
		return failed("unknown action "+req.ActionID, "report this to the engine-cleanup developers"), nil
	}
	sdk.Logger(ctx).Info("executing", "action", req.ActionID)
	conn, err := p.connection()
	if err != nil {
		uri := p.env.LibvirtURI
		if uri == "" {
			uri = "the default URI"
		}
		return failed(fmt.Sprintf("cannot connect to libvirt at %s: %s", uri, lvMessage(err)),
			"start libvirtd and run engine-cleanup again"), nil
	}
	return h(ctx, conn, req.Progress), nil
}

// connection returns the connection for an action: the one Init opened or,
// when Closeup released it or its daemon restarted while other plugins
// backed up their databases, a new one. It is nil when Init could not
// connect, which only an empty record's plan allows.
func (p *plugin) connection() (*libvirt.Connect, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.connected || p.alive() {
		return p.conn, nil
	}
	p.closeConn()
	p.conn, p.release, p.connErr = p.opts.open(p.env.LibvirtURI)
	return p.conn, p.connErr
}

// Closeup releases the connection. What was left behind was said by the
// action concerned, as a note or a problem.
func (p *plugin) Closeup(context.Context, sdk.CloseupRequest) (sdk.CloseupResponse, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeConn()
	return sdk.CloseupResponse{}, nil
}

// failed is the response of an action that could not be done.
func failed(message, remedy string) sdk.ExecuteResponse {
	if remedy == "" {
		remedy = "fix the cause and run engine-cleanup again"
	}
	return sdk.ExecuteResponse{Problems: []sdk.Problem{sdk.Blocker(sdk.KindGeneral, message, remedy)}}
}
