// Package engine is the built-in plugin that cleans the oVirt engine: its
// services, database, PKI, the files setup created and, last, the setup
// records — for records of both the otopi era (3.3 and later) and the
// legacy era (3.0 to 3.2). See README.md.
package engine

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/engine-cleanup/engine-cleanup/internal/version"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/component"
	"github.com/engine-cleanup/engine-cleanup/plugins/internal/records"
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

// noteKeptDB is bound by the specification.
const noteKeptDB = "Note that after re-install you'll have to run Hosts re-install/re-approve."

// New returns the engine plugin.
func New() sdk.Plugin { return &plugin{} }

type plugin struct {
	env  sdk.Environment
	inst *installation
	db   *component.Database

	svc    *component.Services
	svcErr error

	answers sdk.Answers
	plan    component.Plan
	// built and problems keep the last plan's outcome for Confirm.
	built    bool
	problems []sdk.Problem
	// dbNote says why the database needs no clearing, for the summary.
	dbNote string
	// untracked are PKI files setup did not create; they stay.
	untracked []string
	// protected are recorded files that are never removed (the NFS ISO
	// export); the summary says so.
	protected []string
}

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
	p.db = &component.Database{Component: "engine", Label: "engine database", BackupLabel: "the Engine database",
		Creds: p.inst.creds, CredsFile: p.inst.credsFile, CredsProblem: p.inst.credsProblem,
		BackupDir: records.EngineBackupDir, Prefix: records.EngineDumpPrefix}
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
		what := "engine set up"
		if !in.engineEnabled && in.postInstall != nil {
			what = "host records (the engine itself is not set up here)"
		}
		out = append(out, fmt.Sprintf("%s by engine-setup %s (otopi-era records)", what, v))
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
	if !p.inst.engineEnabled && p.inst.era != eraLegacy {
		return // a DWH or Reports host: their plugins stop their services
	}
	names := records.EngineServices()
	if p.inst.era == eraLegacy {
		names = records.LegacyEngineServices()
	}
	p.svc, p.svcErr = component.ProbeServices(ctx, p.env.ServiceManager, names)
}

func (p *plugin) questions() []sdk.Question {
	var qs []sdk.Question
	if p.svc != nil && p.svc.Active(records.ServiceEngine) {
		qs = append(qs, sdk.Question{Key: keyStop, Prompt: "During execution engine service will be stopped",
			Type: sdk.Approval, Default: "true", AnswerKey: answerStop})
	}
	if p.db.Recorded() {
		qs = append(qs, p.db.DropQuestion(keyDrop, answerDrop))
	}
	if changed := p.inst.changedFiles(p.env.Root); len(changed) > 0 {
		qs = append(qs, sdk.Question{Key: keyRemoveChanged, AnswerKey: answerRemoveChanged, Type: sdk.YesNo,
			Default: "true", Prompt: "The following files were changed since setup:\n  " +
				strings.Join(changed, "\n  ") + "\nRemove them anyway?"})
	}
	return qs
}

func (p *plugin) Validate(ctx context.Context, req sdk.ValidateRequest) (sdk.ValidateResponse, error) {
	plan, problems := p.build(ctx, req.Answers)
	return sdk.ValidateResponse{Plan: plan, Problems: problems}, nil
}

func (p *plugin) Confirm(ctx context.Context, req sdk.ConfirmRequest) (sdk.ConfirmResponse, error) {
	// Nothing changed the host since Validate: with the same answers, its
	// plan stands (planning inspects databases and files).
	if p.built && maps.Equal(req.Answers, p.answers) {
		return sdk.ConfirmResponse{Plan: p.plan.Actions(), Problems: p.problems}, nil
	}
	plan, problems := p.build(ctx, req.Answers)
	return sdk.ConfirmResponse{Plan: plan, Problems: problems}, nil
}

// build makes the plan under the answers and checks that it can be carried
// out, without changing anything.
func (p *plugin) build(ctx context.Context, answers sdk.Answers) ([]sdk.Action, []sdk.Problem) {
	p.answers, p.plan, p.dbNote = answers, component.Plan{}, ""
	if p.inst == nil || !p.inst.installed() {
		return nil, nil
	}
	var problems []sdk.Problem
	if p.svc != nil {
		// Setup enabled these; the notifier it never enabled (ovirt.md §5).
		p.svc.Plan("engine", &p.plan, func(unit string) bool {
			return !strings.HasPrefix(unit, records.ServiceNotifier) && !strings.HasPrefix(unit, records.LegacyServiceNotifier)
		})
	}
	if component.Wants(answers, keyDrop) {
		var dbProblems []sdk.Problem
		p.dbNote, dbProblems = p.db.Plan(ctx, p.env, &p.plan)
		problems = append(problems, dbProblems...)
	}
	problems = append(problems, p.planPKI(&p.plan)...)
	problems = append(problems, p.planFiles(&p.plan)...)
	p.planRecords(&p.plan)
	p.built, p.problems = true, problems
	return p.plan.Actions(), problems
}

func (p *plugin) Execute(ctx context.Context, req sdk.ExecuteRequest) (sdk.ExecuteResponse, error) {
	return p.plan.Execute(ctx, req), nil
}

func (p *plugin) Closeup(ctx context.Context, req sdk.CloseupRequest) (sdk.CloseupResponse, error) {
	defer p.svc.Close()
	var notes []string
	if p.inst != nil && p.inst.installed() && !req.Aborted {
		if drop, ok := p.answers.Bool(keyDrop); ok && !drop {
			notes = append(notes, noteKeptDB)
		}
		notes = append(notes, p.closingNotes()...)
	}
	return sdk.CloseupResponse{Notes: notes}, nil
}
