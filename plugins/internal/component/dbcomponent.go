package component

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/engine-cleanup/engine-cleanup/internal/version"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/files"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
	"github.com/engine-cleanup/engine-cleanup/sdk"
	"github.com/engine-cleanup/engine-cleanup/sdk/otopi"
)

// Spec describes a component that has services, one database and its own
// records: DWH and Reports. The files and manifests engine-setup recorded
// for the whole host are the engine plugin's.
type Spec struct {
	Name, Description string
	DependsOn         []string
	// EnableKey is the post-install key that says the component was set
	// up, e.g. OVESETUP_DWH_CORE/enable.
	EnableKey string
	Services  []string
	// DropKey and DropAnswerKey name the drop question.
	DropKey, DropAnswerKey string
	// Database describes the database; Creds, CredsFile and CredsProblem
	// are filled in by ReadCreds.
	Database Database
	// CredsRecord is the record ReadCreds reads (recorded path).
	CredsRecord string
	// ReadCreds reads the database credentials under root.
	ReadCreds func(root string) (records.DBCreds, error)
	// Records are removed in the component's forget stage. The credentials
	// record (CredsRecord) is not among them: the engine plugin removes
	// every component's credentials after the post-install file, so that a
	// killed run never leaves a post-install file naming a component whose
	// credentials are gone (which would refuse the rerun).
	Records []string
	// Extra plans actions of the component's own, e.g. DWH's
	// unregistration from the engine database.
	Extra func(ctx context.Context, c *DBComponent, plan *Plan) []sdk.Problem
}

// DBComponent is the plugin for a Spec.
type DBComponent struct {
	Spec      Spec
	Env       sdk.Environment
	installed bool
	db        Database
	svc       *Services
	svcErr    error
	answers   sdk.Answers
	plan      Plan
	note      string
	problems  []sdk.Problem
	built     bool
}

// NewDBComponent returns the plugin for spec.
func NewDBComponent(spec Spec) *DBComponent { return &DBComponent{Spec: spec} }

var (
	_ sdk.Initializer = (*DBComponent)(nil)
	_ sdk.Validator   = (*DBComponent)(nil)
	_ sdk.Confirmer   = (*DBComponent)(nil)
	_ sdk.Executor    = (*DBComponent)(nil)
	_ sdk.Closer      = (*DBComponent)(nil)
)

// Info implements sdk.Plugin.
func (c *DBComponent) Info(context.Context, sdk.InfoRequest) (sdk.InfoResponse, error) {
	return sdk.InfoResponse{Name: c.Spec.Name, Version: version.Version, Description: c.Spec.Description,
		DependsOn: c.Spec.DependsOn, AnswerKeys: []string{c.Spec.DropAnswerKey}}, nil
}

// Exists reports whether a recorded path exists under root.
func Exists(root, recorded string) bool {
	p, err := records.Resolve(root, recorded)
	if err != nil {
		return false
	}
	_, err = os.Lstat(p)
	return err == nil
}

// Shown is a recorded path as it is under root, for messages.
func Shown(root, recorded string) string {
	if p, err := records.Resolve(root, recorded); err == nil {
		return p
	}
	return recorded
}

// PostInstall reads the post-install file; nil when absent. An unreadable
// one is a sequence-II problem.
func PostInstall(root string) (otopi.Env, *sdk.Problem) {
	data, err := records.ReadRecord(root, records.PostInstallFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	shown := Shown(root, records.PostInstallFile)
	if err == nil {
		var f *otopi.File
		if f, err = otopi.Parse(shown, bytes.NewReader(data)); err == nil {
			return otopi.Merge(f), nil
		}
	}
	file, line := Locate(err, shown)
	p := SeqII(file, line, "the post-install file cannot be read, so what setup installed is unknown: "+err.Error(),
		"restore the file from a backup, or clean the host by hand")
	return otopi.Env{}, &p
}

// Locate returns the file and line an error of a record parser names.
func Locate(err error, fallback string) (string, int) {
	var se *records.SyntaxError
	if errors.As(err, &se) {
		return se.File, se.Line
	}
	var oe *otopi.SyntaxError
	if errors.As(err, &oe) {
		return oe.File, oe.Line
	}
	return fallback, 0
}

// Init implements sdk.Initializer: detection, read-only.
func (c *DBComponent) Init(ctx context.Context, req sdk.InitRequest) (sdk.InitResponse, error) {
	c.Env = req.Environment
	root := c.Env.Root
	post, problem := PostInstall(root)
	enabled, _ := post.Bool(c.Spec.EnableKey)
	var present []string
	for _, r := range append(slices.Clone(c.Spec.Records), c.Spec.CredsRecord) {
		if Exists(root, r) {
			present = append(present, r)
		}
	}
	// Without the post-install file a leftover record still means a
	// cleanup that stopped part way.
	c.installed = enabled || (post == nil && len(present) > 0) || (problem != nil && len(present) > 0)
	if !c.installed {
		return sdk.InitResponse{}, nil
	}
	c.db = c.Spec.Database
	c.db.CredsFile = Shown(root, c.Spec.CredsRecord)
	switch creds, err := c.Spec.ReadCreds(root); {
	case err == nil:
		c.db.Creds = &creds
		sdk.Redact(ctx, creds.Password.Reveal(), creds.AltPassword.Reveal())
	case errors.Is(err, fs.ErrNotExist):
		if enabled {
			p := SeqII(c.db.CredsFile, 0, fmt.Sprintf("the post-install file says %s was set up, but its database credentials file is missing", c.Spec.Name),
				"restore the file from a backup, run with -d to keep the database, or clean the database by hand")
			c.db.CredsProblem = &p
		}
	default:
		file, line := Locate(err, c.db.CredsFile)
		p := SeqII(file, line, fmt.Sprintf("the %s credentials cannot be read: %v", c.db.Label, err),
			"restore the file from a backup, run with -d to keep the database, or clean the database by hand")
		c.db.CredsProblem = &p
	}
	resp := sdk.InitResponse{Installed: true}
	if problem != nil {
		resp.Problems = append(resp.Problems, *problem)
	}
	resp.Findings = append(resp.Findings, c.Spec.Name+" set up on this host")
	if c.db.Creds != nil {
		resp.Findings = append(resp.Findings, c.db.Label+" "+c.db.Creds.String())
	}
	c.svc, c.svcErr = ProbeServices(ctx, c.Env.ServiceManager, c.Spec.Services)
	if c.svcErr != nil {
		resp.Problems = append(resp.Problems, sdk.Blocker(sdk.KindGeneral,
			fmt.Sprintf("cannot reach the service manager to stop %s: %v", strings.Join(c.Spec.Services, ", "), c.svcErr),
			"stop the services by hand and run with --service-manager none"))
	}
	if c.db.Recorded() {
		resp.Questions = append(resp.Questions, c.db.DropQuestion(c.Spec.DropKey, c.Spec.DropAnswerKey))
	}
	return resp, nil
}

// Validate implements sdk.Validator.
func (c *DBComponent) Validate(ctx context.Context, req sdk.ValidateRequest) (sdk.ValidateResponse, error) {
	plan, problems := c.build(ctx, req.Answers)
	return sdk.ValidateResponse{Plan: plan, Problems: problems}, nil
}

// Confirm implements sdk.Confirmer. With the answers Validate planned
// with, its plan stands: nothing changed the host since.
func (c *DBComponent) Confirm(ctx context.Context, req sdk.ConfirmRequest) (sdk.ConfirmResponse, error) {
	if c.built && maps.Equal(req.Answers, c.answers) {
		return sdk.ConfirmResponse{Plan: c.plan.Actions(), Problems: c.problems}, nil
	}
	plan, problems := c.build(ctx, req.Answers)
	return sdk.ConfirmResponse{Plan: plan, Problems: problems}, nil
}

// DropWanted reports whether the database is to be cleared.
func (c *DBComponent) DropWanted() bool { return Wants(c.answers, c.Spec.DropKey) }

func (c *DBComponent) build(ctx context.Context, answers sdk.Answers) ([]sdk.Action, []sdk.Problem) {
	c.answers, c.plan, c.note = answers, Plan{}, ""
	if !c.installed {
		return nil, nil
	}
	var problems []sdk.Problem
	if c.svc != nil {
		c.svc.Plan(c.Spec.Name, &c.plan, nil)
	}
	if c.DropWanted() {
		var p []sdk.Problem
		c.note, p = c.db.Plan(ctx, c.Env, &c.plan)
		problems = append(problems, p...)
	}
	if c.Spec.Extra != nil {
		problems = append(problems, c.Spec.Extra(ctx, c, &c.plan)...)
	}
	c.planForget()
	c.built, c.problems = true, problems
	return c.plan.Actions(), problems
}

func (c *DBComponent) planForget() {
	root := c.Env.Root
	var present []string
	for _, r := range c.Spec.Records {
		if Exists(root, r) {
			present = append(present, r)
		}
	}
	if len(present) == 0 {
		return
	}
	c.plan.Add(sdk.Action{ID: c.Spec.Name + ".forget.records", Stage: sdk.StageForget,
		Description: fmt.Sprintf("Remove the %s setup records (%d file(s))", c.Spec.Name, len(present)), Resources: present},
		func(ctx context.Context, _ func(sdk.Progress)) sdk.ExecuteResponse {
			return RemoveRecords(root, present)
		})
}

// RemoveRecords removes records in order; each is removed as itself and
// a missing one is already done.
func RemoveRecords(root string, recorded []string) sdk.ExecuteResponse {
	removed := 0
	for _, r := range recorded {
		out, err := files.Remove(root, r)
		if err != nil {
			return Failed(err.Error(), "")
		}
		if out == files.Removed {
			removed++
		}
	}
	return sdk.ExecuteResponse{Changed: removed > 0, Outcome: fmt.Sprintf("%d removed", removed)}
}

// Execute implements sdk.Executor.
func (c *DBComponent) Execute(ctx context.Context, req sdk.ExecuteRequest) (sdk.ExecuteResponse, error) {
	return c.plan.Execute(ctx, req), nil
}

// Closeup implements sdk.Closer.
func (c *DBComponent) Closeup(context.Context, sdk.CloseupRequest) (sdk.CloseupResponse, error) {
	c.svc.Close()
	if c.note == "" {
		return sdk.CloseupResponse{}, nil
	}
	return sdk.CloseupResponse{Notes: []string{strings.ToUpper(c.note[:1]) + c.note[1:] + "."}}, nil
}
