// Package engine is the built-in plugin that cleans the oVirt engine: its
// services, database, PKI, the files setup created and, last, the setup
// records — for records of both the otopi era (3.3 and later) and the
// legacy era (3.0 to 3.2). See README.md.
package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/engine-cleanup/engine-cleanup/internal/version"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
	"github.com/engine-cleanup/engine-cleanup/plugins/services"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// Question keys and their otopi answer-file keys.
const (
	keyDrop          = "engine.dropDatabase"
	keyRemoveChanged = "engine.removeChanged"
	keyStop          = "engine.stop"

	answerDrop          = "OVESETUP_REMOVE/engineDatabase"
	answerRemoveChanged = "OVESETUP_REMOVE/removeChanged"
	answerStop          = "OVESETUP_CORE/engineStop"
)

// Messages bound by the specification.
const (
	dropPrompt = "Drop database? If you want to reuse the existing database for the future installation, choose No."
	noteKeptDB = "Note that after re-install you'll have to run Hosts re-install/re-approve."
)

// stopTimeout bounds the wait for one service to stop.
const stopTimeout = 3 * time.Minute

// New returns the engine plugin.
func New() sdk.Plugin { return &plugin{} }

type plugin struct {
	env  sdk.Environment
	inst *installation

	svc       services.Manager
	svcErr    error
	units     []services.Status // engine services that exist
	engineRun bool              // the engine service is active

	answers sdk.Answers
	plan    []sdk.Action
	// handlers execute the actions of the current plan, by ID.
	handlers map[string]handler
	// dbNote says why the database needs no clearing, for the summary.
	dbNote string
	// untracked are PKI files setup did not create; they stay.
	untracked []string
	// protected are recorded files that are never removed (the NFS ISO
	// export); the summary says so.
	protected []string
}

type handler func(ctx context.Context, progress func(sdk.Progress)) sdk.ExecuteResponse

var (
	_ sdk.Initializer = (*plugin)(nil)
	_ sdk.Validator   = (*plugin)(nil)
	_ sdk.Confirmer   = (*plugin)(nil)
	_ sdk.Executor    = (*plugin)(nil)
	_ sdk.Closer      = (*plugin)(nil)
)

func (p *plugin) Info(context.Context, sdk.InfoRequest) (sdk.InfoResponse, error) {
	return sdk.InfoResponse{
		Name: "engine", Version: version.Version,
		Description: "oVirt engine: services, database, PKI, files and setup records",
		AnswerKeys: []string{answerStop, answerDrop, answerRemoveChanged,
			"OVESETUP_REMOVE/removeEngine", "OVESETUP_REMOVE/removeWsp"},
	}, nil
}

func (p *plugin) Init(ctx context.Context, req sdk.InitRequest) (sdk.InitResponse, error) {
	p.env = req.Environment
	p.inst = detect(p.env.Root)
	log := sdk.Logger(ctx)
	if p.inst.creds != nil {
		sdk.Redact(ctx, p.inst.creds.Password.Reveal(), p.inst.creds.AltPassword.Reveal())
	}
	log.Info("records read", "era", p.inst.era, "present", strings.Join(p.inst.present, ","),
		"manifests", len(p.inst.inventory.Manifests), "version", p.inst.version)
	resp := sdk.InitResponse{Problems: p.inst.problems}
	if !p.inst.installed() {
		return resp, nil
	}
	resp.Installed = true
	resp.Findings = p.findings()
	p.probeServices(ctx)
	if p.svcErr != nil {
		resp.Problems = append(resp.Problems, sdk.Blocker(sdk.KindGeneral,
			"cannot reach the service manager to stop the engine: "+p.svcErr.Error(),
			"stop the engine services by hand and run with --service-manager none"))
	}
	resp.Questions = p.questions()
	return resp, nil
}

func (p *plugin) findings() []string {
	in := p.inst
	var out []string
	switch in.era {
	case eraOtopi:
		v := in.version
		if v == "" {
			v = "unknown version"
		}
		out = append(out, fmt.Sprintf("engine set up by engine-setup %s (otopi-era records)", v))
	case eraLegacy:
		out = append(out, "engine set up by a 3.0–3.2 engine-setup (legacy records)")
	}
	if in.creds != nil {
		out = append(out, "engine database "+in.creds.String())
	}
	if n := len(in.inventory.Manifests); n > 0 {
		out = append(out, fmt.Sprintf("%d uninstall manifest(s) listing %d file(s)", n, len(in.recordedFiles())))
	}
	return out
}

// probeServices finds which engine services exist (read-only).
func (p *plugin) probeServices(ctx context.Context) {
	mgr, err := services.Open(ctx, p.env.ServiceManager, sdk.Logger(ctx).Named("services"))
	if err != nil {
		p.svcErr = err
		return
	}
	p.svc = mgr
	names := records.EngineServices()
	if p.inst.era == eraLegacy {
		names = records.LegacyEngineServices()
	}
	for _, n := range names {
		st, err := mgr.Status(ctx, n)
		if err != nil {
			p.svcErr = fmt.Errorf("reading the state of %s: %w", n, err)
			return
		}
		if st.Exists {
			p.units = append(p.units, st)
			if n == records.ServiceEngine && st.Active {
				p.engineRun = true
			}
		}
	}
}

func (p *plugin) questions() []sdk.Question {
	var qs []sdk.Question
	if p.engineRun {
		qs = append(qs, sdk.Question{Key: keyStop, Prompt: "During execution engine service will be stopped",
			Type: sdk.Approval, Default: "true", AnswerKey: answerStop})
	}
	if p.inst.creds != nil || p.inst.credsProblem != nil {
		qs = append(qs, sdk.Question{Key: keyDrop, Prompt: dropPrompt, Type: sdk.YesNo, Default: "true",
			AnswerKey: answerDrop, Purpose: sdk.PurposeDropDatabase})
	}
	if changed := p.inst.changedFiles(p.env.Root); len(changed) > 0 {
		qs = append(qs, sdk.Question{Key: keyRemoveChanged, AnswerKey: answerRemoveChanged, Type: sdk.YesNo,
			Default: "true", Prompt: "The following files were changed since setup:\n  " +
				strings.Join(changed, "\n  ") + "\nRemove them anyway?"})
	}
	return qs
}

// wants returns the answer to a yes-no question, or its default (Yes) when
// it is not answered yet.
func wants(a sdk.Answers, key string) bool {
	v, ok := a.Bool(key)
	return !ok || v
}

func (p *plugin) Validate(ctx context.Context, req sdk.ValidateRequest) (sdk.ValidateResponse, error) {
	plan, problems := p.build(ctx, req.Answers)
	return sdk.ValidateResponse{Plan: plan, Problems: problems}, nil
}

func (p *plugin) Confirm(ctx context.Context, req sdk.ConfirmRequest) (sdk.ConfirmResponse, error) {
	plan, problems := p.build(ctx, req.Answers)
	return sdk.ConfirmResponse{Plan: plan, Problems: problems}, nil
}

// build makes the plan under the answers and checks that it can be carried
// out, without changing anything.
func (p *plugin) build(ctx context.Context, answers sdk.Answers) ([]sdk.Action, []sdk.Problem) {
	p.answers, p.plan, p.handlers = answers, nil, map[string]handler{}
	if p.inst == nil || !p.inst.installed() {
		return nil, nil
	}
	var problems []sdk.Problem
	add := func(a sdk.Action, h handler) {
		p.plan = append(p.plan, a)
		p.handlers[a.ID] = h
	}
	p.planServices(add)
	problems = append(problems, p.planDatabase(ctx, add)...)
	problems = append(problems, p.planPKI(add)...)
	problems = append(problems, p.planFiles(add)...)
	p.planRecords(add)
	// The core runs stage by stage; keep each stage's actions in the order
	// they were added.
	sort.SliceStable(p.plan, func(i, j int) bool { return stageIndex(p.plan[i].Stage) < stageIndex(p.plan[j].Stage) })
	return p.plan, problems
}

func stageIndex(s sdk.Stage) int {
	for i, v := range sdk.Stages {
		if v == s {
			return i
		}
	}
	return len(sdk.Stages)
}

func (p *plugin) planServices(add func(sdk.Action, handler)) {
	for _, st := range p.units {
		unit := st.Unit
		add(sdk.Action{ID: "engine.stop." + unit, Stage: sdk.StageStop, Description: "Stop " + unit,
			Resources: []string{"service:" + unit}}, func(ctx context.Context, _ func(sdk.Progress)) sdk.ExecuteResponse {
			out, err := p.svc.Stop(ctx, unit, stopTimeout)
			if err != nil {
				return failed(err.Error(), "")
			}
			return sdk.ExecuteResponse{Changed: out.Result == services.ResultStopped, Outcome: string(out.Result)}
		})
	}
	// Setup enabled these; the notifier it never enabled (ovirt.md §5).
	for _, st := range p.units {
		unit := st.Unit
		if !st.Enabled || strings.HasPrefix(unit, records.ServiceNotifier) || strings.HasPrefix(unit, records.LegacyServiceNotifier) {
			continue
		}
		add(sdk.Action{ID: "engine.disable." + unit, Stage: sdk.StageRemove, Description: "Disable " + unit,
			Resources: []string{"service:" + unit}}, func(ctx context.Context, _ func(sdk.Progress)) sdk.ExecuteResponse {
			out, err := p.svc.Disable(ctx, unit)
			if err != nil {
				return failed(err.Error(), "")
			}
			return sdk.ExecuteResponse{Changed: out.Result == services.ResultDisabled, Outcome: string(out.Result)}
		})
	}
}

// failed is the response of an action that could not be done.
func failed(message, remedy string) sdk.ExecuteResponse {
	if remedy == "" {
		remedy = "fix the cause and run engine-cleanup again"
	}
	return sdk.ExecuteResponse{Problems: []sdk.Problem{sdk.Blocker(sdk.KindGeneral, message, remedy)}}
}

func (p *plugin) Execute(ctx context.Context, req sdk.ExecuteRequest) (sdk.ExecuteResponse, error) {
	h, ok := p.handlers[req.ActionID]
	if !ok {
		return failed("unknown action "+req.ActionID, "report this to the engine-cleanup developers"), nil
	}
	sdk.Logger(ctx).Info("executing", "action", req.ActionID)
	return h(ctx, req.Progress), nil
}

func (p *plugin) Closeup(ctx context.Context, req sdk.CloseupRequest) (sdk.CloseupResponse, error) {
	defer func() {
		if p.svc != nil {
			p.svc.Close()
		}
	}()
	var notes []string
	if p.inst != nil && p.inst.installed() && !req.Aborted {
		if drop, ok := p.answers.Bool(keyDrop); ok && !drop {
			notes = append(notes, noteKeptDB)
		}
		notes = append(notes, p.closingNotes()...)
	}
	return sdk.CloseupResponse{Notes: notes}, nil
}
