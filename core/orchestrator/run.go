package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/engine-cleanup/engine-cleanup/core/answers"
	"github.com/engine-cleanup/engine-cleanup/core/dialog"
	"github.com/engine-cleanup/engine-cleanup/core/exitcode"
	"github.com/engine-cleanup/engine-cleanup/core/plan"
	"github.com/engine-cleanup/engine-cleanup/core/pluginhost"
	"github.com/engine-cleanup/engine-cleanup/core/report"
	"github.com/engine-cleanup/engine-cleanup/core/runlog"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// Messages bound by the specification.
const (
	msgFinished       = "Finished cleanup, it is now safe to rerun engine-setup."
	msgNothingToClean = "Nothing to clean: no installation was found on this host."
)

// state is one plugin's part in a run.
type state struct {
	p         *pluginhost.Plugin
	installed bool
	failed    bool // a phase call failed: the plugin takes no further part
	questions []sdk.Question
	plan      []sdk.Action
	executed  []string
	failedID  string
}

type run struct {
	begin   time.Time
	cfg     Config
	io      IO
	id      runlog.ID
	redact  *sdk.Redactor
	log     hclog.Logger
	logFile *runlog.Log
	console *report.Console
	dialog  *dialog.Dialog
	doc     report.Document

	loaded *loaded
	order  []*state // dependents first
	// mu guards the document and the states while actions finish.
	mu      sync.Mutex
	inputs  answers.Inputs
	answers map[string]answers.Answer // by question key
	steps   plan.Plan
	cleanup *plan.Outcome
}

// Run performs a cleanup run and reports it. The returned error carries the
// exit code (see package exitcode); Run has already shown it to the
// administrator.
func Run(ctx context.Context, cfg Config, iop IO) error {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	begin := time.Now()
	r := &run{begin: begin, cfg: cfg, io: iop, id: runlog.NewID(cfg.Now()), redact: sdk.NewRedactor(),
		log: hclog.NewNullLogger(), answers: map[string]answers.Answer{}}
	out := iop.Out
	if cfg.JSON {
		out = iop.Err
	}
	r.console = report.NewConsole(out, r.mask, iop.OutTerminal && !cfg.JSON, iop.OutTerminal && !iop.NoColor && !cfg.JSON)
	r.dialog = dialog.New(iop.In, out, iop.InTerminal)
	r.doc = report.Document{Version: cfg.Version, DryRun: cfg.DryRun, Root: cfg.rootDir()}

	err := r.execute(ctx)
	r.doc.DurationMS = time.Since(begin).Milliseconds()
	r.finish(err)
	return err
}

func (r *run) mask(s string) string { return r.redact.String(s) }

func (r *run) execute(ctx context.Context) error {
	cfg := r.cfg
	// An interactive run without a terminal would hang at the final
	// question: say so before anything starts.
	if !cfg.DryRun && !r.io.InTerminal && !cfg.Unattended && len(cfg.AnswerFiles) == 0 {
		return exitcode.New(exitcode.Usage, errors.New(
			"interactive mode needs a terminal on stdin: run with -u to clean unattended "+
				"(databases are dropped; add -d to keep them), or answer the questions with --config-append FILE"))
	}
	files, err := answers.Load(cfg.AnswerFiles)
	if err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	r.inputs = answers.Inputs{Unattended: cfg.Unattended, DontDropDB: cfg.DontDropDB, Files: files}
	for _, f := range files {
		for _, w := range f.Warnings {
			r.console.Printf("[WARNING] %s", w)
		}
	}

	if err := r.openLog(); err != nil {
		return err
	}
	r.console.Printf("engine-cleanup %s", cfg.Version)
	r.console.Printf("Log file: %s", r.logFile.Path)
	r.log.Info("starting", "version", cfg.Version, "root", cfg.rootDir(), "dry_run", cfg.DryRun,
		"unattended", cfg.Unattended, "dont_drop_db", cfg.DontDropDB)

	defer func() {
		begin := time.Now()
		pluginhost.CloseAll(r.plugins())
		r.log.Debug("plugins stopped", "took", time.Since(begin))
	}()
	if err := r.start(ctx); err != nil {
		return err
	}
	if err := r.initPhase(ctx); err != nil {
		return err
	}
	if err := r.validatePhase(ctx); err != nil {
		return err
	}
	if r.nothingToClean() {
		r.closeupPhase(ctx, true, false, msgNothingToClean)
		return nil
	}
	if err := r.confirmPhase(ctx); err != nil {
		if exitcode.Of(err) == exitcode.Aborted {
			r.closeupPhase(context.WithoutCancel(ctx), false, true, "Nothing was changed.")
		}
		return err
	}
	if cfg.DryRun {
		r.console.Printf("Dry run: the plan above was not executed; nothing was changed.")
		return nil
	}
	return r.cleanupPhase(ctx)
}

func (r *run) plugins() []*pluginhost.Plugin {
	if r.loaded == nil {
		return nil
	}
	return r.loaded.plugins
}

func (r *run) openLog() error {
	path := r.cfg.LogFile
	if path == "" {
		path = runlog.DefaultPath(r.cfg.rootDir(), r.id)
	}
	l, err := runlog.Open(path, r.redact, hclog.Debug)
	if err != nil {
		return exitcode.New(exitcode.Failed, fmt.Errorf("%w: check that %s is writable or pass --log FILE", err, filepath.Dir(path)))
	}
	r.logFile, r.log = l, l.Logger
	r.doc.LogFile = l.Path
	return nil
}

func (r *run) hostOptions() pluginhost.Options {
	return pluginhost.Options{Log: r.log, Mask: r.mask, StartTimeout: r.cfg.StartTimeout, CoreVersion: r.cfg.Version}
}

// start launches every plugin and orders them.
func (r *run) start(ctx context.Context) error {
	r.loaded = loadPlugins(ctx, r.cfg, r.hostOptions())
	r.doc.Plugins = r.loaded.rows
	for _, w := range r.loaded.warnings {
		r.addProblem(w)
	}
	for _, p := range r.loaded.problems {
		r.addProblem(p)
	}
	var nodes []plan.Node
	byName := map[string]*pluginhost.Plugin{}
	for _, p := range r.loaded.plugins {
		if _, dup := byName[p.Info.Name]; dup {
			r.addProblem(report.Problem{Plugin: p.Info.Name, Phase: "start", Severity: sdk.Blocking,
				Message: "two plugins are named " + p.Info.Name + " (" + byName[p.Info.Name].Spec.Path + " and " + p.Spec.Path + ")",
				Remedy:  "remove one of them"})
			continue
		}
		byName[p.Info.Name] = p
		nodes = append(nodes, plan.Node{Name: p.Info.Name, DependsOn: p.Info.DependsOn})
	}
	names, err := plan.Order(nodes)
	if err != nil {
		return r.refuse(report.Problem{Plugin: "core", Phase: "start", Severity: sdk.Blocking, Message: err.Error(),
			Remedy: "fix the plugins' dependencies"})
	}
	for _, n := range names {
		r.order = append(r.order, &state{p: byName[n]})
	}
	return nil
}

// eachPlugin calls fn for every plugin still taking part, concurrently, and
// waits for all of them.
func (r *run) eachPlugin(ctx context.Context, fn func(ctx context.Context, s *state)) {
	begin := time.Now()
	defer func() { r.log.Debug("phase calls done", "took", time.Since(begin)) }()
	var wg sync.WaitGroup
	for _, s := range r.order {
		if s.failed {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(ctx, s)
		}()
	}
	wg.Wait()
}

// pluginFailed records that a plugin call failed; before cleanup that is a
// blocking problem.
func (r *run) pluginFailed(s *state, err error) report.Problem {
	s.failed = true
	detail := err.Error()
	var pe *pluginhost.Error
	if errors.As(err, &pe) {
		detail = pe.Detail()
	}
	r.log.Error("plugin failed", "plugin", s.p.Info.Name, "error", detail)
	return report.Problem{Plugin: s.p.Info.Name, Severity: sdk.Blocking, Message: detail,
		Remedy: "see the log; fix or remove the plugin, then run again"}
}

func (r *run) initPhase(ctx context.Context) error {
	r.console.Header("init")
	env := sdk.Environment{Root: r.cfg.rootDir(), ServiceManager: r.cfg.ServiceManager, LibvirtURI: r.cfg.LibvirtURI,
		DryRun: r.cfg.DryRun, RunID: r.id.String()}
	results := make(map[*state]sdk.InitResponse)
	var problems []report.Problem
	var mu sync.Mutex
	r.eachPlugin(ctx, func(ctx context.Context, s *state) {
		var resp sdk.InitResponse
		err := s.p.Call(ctx, string(sdk.PhaseInit), r.cfg.PhaseTimeout, func(ctx context.Context) (err error) {
			resp, err = s.p.RPC().Init(ctx, sdk.InitRequest{Environment: env})
			return err
		})
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			pr := r.pluginFailed(s, err)
			pr.Phase = string(sdk.PhaseInit)
			problems = append(problems, pr)
			return
		}
		results[s] = resp
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	keys := map[string]string{}
	for _, s := range r.order {
		resp, ok := results[s]
		if !ok {
			continue
		}
		name := s.p.Info.Name
		s.installed, s.questions = resp.Installed, resp.Questions
		for i := range r.doc.Plugins {
			if row := &r.doc.Plugins[i]; row.Name == name && row.Status == "ok" {
				row.Installed, row.Findings = resp.Installed, resp.Findings
			}
		}
		switch {
		case len(resp.Findings) > 0:
			for _, f := range resp.Findings {
				r.console.Printf("  %s: %s", name, f)
			}
		case !resp.Installed:
			r.console.Printf("  %s: nothing installed", name)
		}
		for _, p := range resp.Problems {
			problems = append(problems, report.NewProblem(name, string(sdk.PhaseInit), p))
		}
		for _, q := range resp.Questions {
			if other, dup := keys[q.Key]; dup {
				problems = append(problems, report.Problem{Plugin: name, Phase: string(sdk.PhaseInit), Severity: sdk.Blocking,
					Message: fmt.Sprintf("question %s is also declared by plugin %s", q.Key, other),
					Remedy:  "plugins must use their own question keys: report this to the plugin's author"})
			}
			keys[q.Key] = name
		}
	}
	for _, p := range problems {
		r.addProblem(p)
	}
	return nil
}

func (r *run) addProblem(p report.Problem) {
	p.Message, p.Remedy = r.mask(p.Message), r.mask(p.Remedy)
	r.doc.Problems = append(r.doc.Problems, p)
	level := hclog.Warn
	if p.Severity == sdk.Blocking {
		level = hclog.Error
	}
	r.log.Log(level, "problem", "plugin", p.Plugin, "phase", p.Phase, "message", p.Text())
}

func (r *run) blocking() []report.Problem {
	var out []report.Problem
	for _, p := range r.doc.Problems {
		if p.Severity == sdk.Blocking {
			out = append(out, p)
		}
	}
	return out
}

// refuse prints every problem of every plugin and ends the run, changing
// nothing.
func (r *run) refuse(extra ...report.Problem) error {
	for _, p := range extra {
		r.addProblem(p)
	}
	r.console.Header("refused")
	for _, p := range r.doc.Problems {
		r.console.Problem(p)
	}
	n := len(r.blocking())
	r.console.Printf("Cleanup refused: %d blocking problem(s) found; nothing was changed.", n)
	return exitcode.New(exitcode.Refused, fmt.Errorf("cleanup refused: %d blocking problem(s); nothing was changed", n))
}

func (r *run) knownAnswerKeys() []string {
	var keys []string
	for _, s := range r.order {
		keys = append(keys, s.p.Info.AnswerKeys...)
		for _, q := range s.questions {
			if q.AnswerKey != "" {
				keys = append(keys, q.AnswerKey)
			}
		}
	}
	return keys
}

// preResolve answers what flags and answer files answer.
func (r *run) preResolve() error {
	if err := r.inputs.Check(r.knownAnswerKeys()); err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	for _, s := range r.order {
		for _, q := range s.questions {
			a, ok, err := r.inputs.Resolve(answers.Question{Plugin: s.p.Info.Name, Question: q})
			if err != nil {
				return exitcode.New(exitcode.Usage, err)
			}
			if ok {
				r.setAnswer(a)
			}
		}
	}
	return nil
}

func (r *run) setAnswer(a answers.Answer) {
	if a.Secret() {
		r.redact.Add(a.Value)
	}
	r.answers[a.Key] = a
}

func (r *run) answersFor(s *state) sdk.Answers {
	out := sdk.Answers{}
	for _, q := range s.questions {
		if a, ok := r.answers[q.Key]; ok {
			out[q.Key] = a.Value
		}
	}
	return out
}

func (r *run) validatePhase(ctx context.Context) error {
	if err := r.preResolve(); err != nil {
		return err
	}
	r.console.Header("validate")
	var mu sync.Mutex
	var problems []report.Problem
	plans := map[*state][]sdk.Action{}
	r.eachPlugin(ctx, func(ctx context.Context, s *state) {
		var resp sdk.ValidateResponse
		err := s.p.Call(ctx, string(sdk.PhaseValidate), r.cfg.PhaseTimeout, func(ctx context.Context) (err error) {
			resp, err = s.p.RPC().Validate(ctx, sdk.ValidateRequest{Answers: r.answersFor(s)})
			return err
		})
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			pr := r.pluginFailed(s, err)
			pr.Phase = string(sdk.PhaseValidate)
			problems = append(problems, pr)
			return
		}
		plans[s] = resp.Plan
		for _, p := range resp.Problems {
			problems = append(problems, report.NewProblem(s.p.Info.Name, string(sdk.PhaseValidate), p))
		}
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	// Report in plugin order, whatever order the calls finished in.
	byPlugin := map[string][]report.Problem{}
	for _, p := range problems {
		byPlugin[p.Plugin] = append(byPlugin[p.Plugin], p)
	}
	for _, s := range r.order {
		s.plan = plans[s]
		for _, p := range byPlugin[s.p.Info.Name] {
			r.addProblem(p)
		}
	}
	if len(r.blocking()) > 0 {
		return r.refuse()
	}
	if err := r.buildPlan(); err != nil {
		return r.refuse(report.Problem{Plugin: "core", Phase: string(sdk.PhaseValidate), Severity: sdk.Blocking,
			Message: err.Error(), Remedy: "report this to the plugin's author"})
	}
	warnings := 0
	for _, p := range r.doc.Problems {
		r.console.Problem(p)
		warnings++
	}
	if warnings == 0 {
		r.console.Printf("  no problems found")
	}
	return nil
}

func (r *run) buildPlan() error {
	var names []string
	actions := map[string][]sdk.Action{}
	for _, s := range r.order {
		names = append(names, s.p.Info.Name)
		actions[s.p.Info.Name] = s.plan
	}
	steps, err := plan.Build(names, actions)
	if err != nil {
		return err
	}
	r.steps = steps
	r.doc.Plan = nil
	for _, st := range steps {
		r.doc.Plan = append(r.doc.Plan, r.reportAction(st))
	}
	return nil
}

func (r *run) reportAction(st plan.Step) report.Action {
	return report.Action{Plugin: st.Plugin, ID: st.Action.ID, Stage: st.Action.Stage,
		Description: r.mask(st.Action.Description), Resources: st.Action.Resources}
}

func (r *run) nothingToClean() bool {
	for _, s := range r.order {
		if s.installed || len(s.plan) > 0 {
			return false
		}
	}
	return true
}

// confirmPhase asks what is still open, hands the answers to the plugins,
// shows the final plan and asks for approval.
func (r *run) confirmPhase(ctx context.Context) error {
	r.console.Header("confirm")
	// Several plugins may ask alike ("Drop database?"): name the asker.
	label := r.askers() > 1
	for _, s := range r.order {
		for _, q := range s.questions {
			if _, ok := r.answers[q.Key]; ok {
				continue
			}
			a := answers.Answer{Question: answers.Question{Plugin: s.p.Info.Name, Question: q}}
			if r.cfg.DryRun {
				a.Value, a.Source = q.Default, answers.FromDefault
			} else {
				asked := q
				if label {
					asked.Prompt = "[" + s.p.Info.Name + "] " + q.Prompt
				}
				v, err := r.ask(ctx, asked)
				if err != nil {
					return err
				}
				a.Value, a.Source = v, answers.FromTerminal
			}
			r.setAnswer(a)
		}
	}
	r.recordAnswers()
	for _, s := range r.order {
		for _, q := range s.questions {
			if q.Type == sdk.Approval && r.answers[q.Key].Value == "false" {
				return r.abort(fmt.Sprintf("%s: no approval for %q", s.p.Info.Name, q.Prompt))
			}
		}
	}

	if err := r.finalPlans(ctx); err != nil {
		return err
	}
	r.console.Printf("The following actions will be executed:")
	r.console.Plan(r.doc.Plan)
	if r.cfg.DryRun {
		return nil
	}
	if err := r.saveAnswers(); err != nil {
		return err
	}
	approval := answers.Question{Plugin: "core", Question: answers.ApprovalQuestion}
	a, ok, err := r.inputs.Resolve(approval)
	if err != nil {
		return exitcode.New(exitcode.Usage, err)
	}
	if !ok {
		v, err := r.ask(ctx, approval.Question)
		if err != nil {
			return err
		}
		a = answers.Answer{Question: approval, Value: v, Source: answers.FromTerminal}
	}
	r.setAnswer(a)
	r.recordAnswers()
	if err := r.saveAnswers(); err != nil {
		return err
	}
	if a.Value != "true" {
		return r.abort("the cleanup was not approved")
	}
	return nil
}

// askers counts the plugins that have a question left to ask.
func (r *run) askers() int {
	n := 0
	for _, s := range r.order {
		for _, q := range s.questions {
			if _, ok := r.answers[q.Key]; !ok {
				n++
				break
			}
		}
	}
	return n
}

func (r *run) ask(ctx context.Context, q sdk.Question) (string, error) {
	v, err := r.dialog.Ask(ctx, q)
	switch {
	case err == nil:
		return v, nil
	case errors.Is(err, dialog.ErrNotInteractive):
		hint := "run with -u, or answer it with --config-append FILE"
		if q.AnswerKey != "" {
			hint += fmt.Sprintf(" containing %s=%s", q.AnswerKey, answerExample(q))
		}
		return "", exitcode.New(exitcode.Usage, fmt.Errorf("question %q needs an answer but stdin is not a terminal: %s", q.Prompt, hint))
	case ctx.Err() != nil:
		return "", ctx.Err()
	}
	return "", exitcode.New(exitcode.Usage, err)
}

func answerExample(q sdk.Question) string {
	switch q.Type {
	case sdk.YesNo, sdk.Approval:
		return "bool:True"
	case sdk.Choice:
		if len(q.Choices) > 0 {
			return "str:" + q.Choices[0]
		}
	}
	return "str:<value>"
}

func (r *run) abort(why string) error {
	r.console.Printf("Aborted by user: %s. Nothing was changed.", why)
	return exitcode.New(exitcode.Aborted, fmt.Errorf("aborted by user: %s; nothing was changed", why))
}

// finalPlans hands every answer to the plugins and takes their final plans.
func (r *run) finalPlans(ctx context.Context) error {
	var mu sync.Mutex
	var problems []report.Problem
	r.eachPlugin(ctx, func(ctx context.Context, s *state) {
		req := r.answersFor(s)
		var resp sdk.ConfirmResponse
		err := s.p.Call(ctx, string(sdk.PhaseConfirm), r.cfg.PhaseTimeout, func(ctx context.Context) error {
			var err error
			resp, err = s.p.RPC().Confirm(ctx, sdk.ConfirmRequest{Answers: req})
			if errors.Is(err, sdk.ErrNotImplemented) {
				var v sdk.ValidateResponse
				v, err = s.p.RPC().Validate(ctx, sdk.ValidateRequest{Answers: req})
				resp = sdk.ConfirmResponse{Plan: v.Plan, Problems: v.Problems}
			}
			return err
		})
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			pr := r.pluginFailed(s, err)
			pr.Phase = string(sdk.PhaseConfirm)
			problems = append(problems, pr)
			return
		}
		s.plan = resp.Plan
		for _, p := range resp.Problems {
			problems = append(problems, report.NewProblem(s.p.Info.Name, string(sdk.PhaseConfirm), p))
		}
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, p := range r.doc.Problems {
		seen[p.Plugin+p.Message] = true
	}
	for _, p := range problems {
		if !seen[p.Plugin+p.Message] {
			r.addProblem(p)
			if p.Severity == sdk.Warning {
				r.console.Problem(p)
			}
		}
	}
	if len(r.blocking()) > 0 {
		return r.refuse()
	}
	if err := r.buildPlan(); err != nil {
		return r.refuse(report.Problem{Plugin: "core", Phase: string(sdk.PhaseConfirm), Severity: sdk.Blocking,
			Message: err.Error(), Remedy: "report this to the plugin's author"})
	}
	return nil
}

func (r *run) recordAnswers() {
	r.doc.Answers = nil
	add := func(plugin string, q sdk.Question) {
		a, ok := r.answers[q.Key]
		if !ok {
			return
		}
		v := a.Value
		if q.Type == sdk.Password {
			v = sdk.Mask
		}
		r.doc.Answers = append(r.doc.Answers, report.Answer{Plugin: plugin, Key: q.Key, AnswerKey: q.AnswerKey,
			Value: v, Source: a.Source})
		r.log.Info("answer", "plugin", plugin, "key", q.Key, "value", v, "source", a.Source)
	}
	for _, s := range r.order {
		for _, q := range s.questions {
			add(s.p.Info.Name, q)
		}
	}
	add("core", answers.ApprovalQuestion)
}

func (r *run) saveAnswers() error {
	var used []answers.Answer
	for _, s := range r.order {
		for _, q := range s.questions {
			if a, ok := r.answers[q.Key]; ok {
				used = append(used, a)
			}
		}
	}
	if a, ok := r.answers[answers.ApprovalQuestion.Key]; ok {
		used = append(used, a)
	}
	path, err := answers.Save(filepath.Join(r.cfg.rootDir(), answers.Dir), r.id.Stamp(), r.cfg.Version, used)
	if err != nil {
		return exitcode.New(exitcode.Failed, err)
	}
	r.doc.AnswerFile = path
	return nil
}

func (r *run) stateOf(name string) *state {
	for _, s := range r.order {
		if s.p.Info.Name == name {
			return s
		}
	}
	return nil
}

func (r *run) cleanupPhase(ctx context.Context) error {
	r.console.Header("cleanup")
	outcome := plan.Run(ctx, r.steps, func(ctx context.Context, st plan.Step) (sdk.ExecuteResponse, error) {
		s := r.stateOf(st.Plugin)
		var resp sdk.ExecuteResponse
		action := r.reportAction(st)
		err := s.p.Call(ctx, string(sdk.PhaseCleanup), r.cfg.ActionTimeout, func(ctx context.Context) (err error) {
			resp, err = s.p.RPC().Execute(ctx, sdk.ExecuteRequest{ActionID: st.Action.ID,
				Progress: func(p sdk.Progress) { r.console.Progress(action, p) }})
			return err
		})
		return resp, err
	}, plan.Hooks{
		StageStarted: func(stage sdk.Stage) {
			r.console.Stage(stage)
			r.log.Info("stage started", "stage", stage)
		},
		StepStarted: func(st plan.Step) {
			r.log.Info("action started", "plugin", st.Plugin, "action", st.Action.ID)
			r.console.StepStarted(r.reportAction(st))
		},
		StepFinished: func(res plan.Result) { r.stepFinished(res) },
	}, plan.Options{Concurrent: map[sdk.Stage]bool{sdk.StageBackup: true}, Limit: 4})
	r.cleanup = &outcome
	for _, st := range outcome.NotRun {
		r.doc.Actions = append(r.doc.Actions, report.Executed{Action: r.reportAction(st), Status: "not-run"})
	}
	var closing string
	var err error
	switch {
	case outcome.Interrupted:
		closing = "Interrupted: the cleanup stopped part way. It is safe to run engine-cleanup again."
		err = exitcode.New(exitcode.Interrupted, errors.New("interrupted; safe to run again"))
	case outcome.Failed != nil:
		f := outcome.Failed
		closing = fmt.Sprintf("Cleanup failed at %s (%s). Nothing after it was executed; fix the cause and run engine-cleanup again.",
			f.Step.Action.ID, f.Step.Plugin)
		err = exitcode.New(exitcode.Failed, fmt.Errorf("cleanup failed at %s (%s): %s; nothing after it was executed, fix the cause and run engine-cleanup again",
			f.Step.Action.ID, f.Step.Plugin, r.mask(errText(f.Err))))
	default:
		closing = msgFinished
	}
	r.closeupPhase(context.WithoutCancel(ctx), outcome.Succeeded(), false, closing)
	return err
}

func errText(err error) string {
	var pe *pluginhost.Error
	if errors.As(err, &pe) {
		return pe.Detail()
	}
	return err.Error()
}

func (r *run) stepFinished(res plan.Result) {
	// Backups finish concurrently.
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stateOf(res.Step.Plugin)
	e := report.Executed{Action: r.reportAction(res.Step), Status: "done", Changed: res.Response.Changed,
		Outcome: r.mask(res.Response.Outcome), DurationMS: res.Duration.Milliseconds(),
		StartedMS: (time.Since(r.begin) - res.Duration).Milliseconds()}
	if res.Err != nil {
		e.Status, e.Error = "failed", r.mask(errText(res.Err))
		s.failedID = res.Step.Action.ID
		r.addProblem(report.Problem{Plugin: res.Step.Plugin, Phase: string(sdk.PhaseCleanup), Severity: sdk.Blocking,
			Message: fmt.Sprintf("action %s failed: %s", res.Step.Action.ID, e.Error)})
	} else {
		s.executed = append(s.executed, res.Step.Action.ID)
		if res.Response.Changed {
			r.doc.Changed = true
		}
	}
	var warnings []report.Problem
	for _, p := range res.Response.Problems {
		if p.Severity == sdk.Warning {
			pr := report.NewProblem(res.Step.Plugin, string(sdk.PhaseCleanup), p)
			r.addProblem(pr)
			warnings = append(warnings, pr)
		}
	}
	for _, b := range res.Response.Backups {
		r.doc.Backups = append(r.doc.Backups, report.Backup{Plugin: res.Step.Plugin, Path: b.Path, Description: r.mask(b.Description)})
	}
	for _, n := range res.Response.Notes {
		r.doc.Notes = append(r.doc.Notes, report.Note{Plugin: res.Step.Plugin, Text: r.mask(n)})
	}
	r.doc.Actions = append(r.doc.Actions, e)
	r.log.Info("action finished", "plugin", res.Step.Plugin, "action", res.Step.Action.ID, "status", e.Status,
		"changed", e.Changed, "outcome", e.Outcome, "error", e.Error)
	r.console.StepFinished(e)
	for _, w := range warnings {
		r.console.Problem(w)
	}
}

// closeupPhase lets every plugin add notes, then prints the summary. It runs
// whatever happened before, with its own deadline.
func (r *run) closeupPhase(ctx context.Context, succeeded, aborted bool, closing string) {
	var mu sync.Mutex
	notes := map[*state][]string{}
	r.eachPlugin(ctx, func(ctx context.Context, s *state) {
		var resp sdk.CloseupResponse
		err := s.p.Call(ctx, string(sdk.PhaseCloseup), r.cfg.PhaseTimeout, func(ctx context.Context) (err error) {
			resp, err = s.p.RPC().Closeup(ctx, sdk.CloseupRequest{Succeeded: succeeded, Executed: s.executed,
				FailedAction: s.failedID, Aborted: aborted})
			return err
		})
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			pr := r.pluginFailed(s, err)
			pr.Phase, pr.Severity = string(sdk.PhaseCloseup), sdk.Warning
			r.addProblem(pr)
			return
		}
		notes[s] = resp.Notes
		for _, p := range resp.Problems {
			p.Severity = sdk.Warning
			r.addProblem(report.NewProblem(s.p.Info.Name, string(sdk.PhaseCloseup), p))
		}
	})
	for _, s := range r.order {
		for _, n := range notes[s] {
			r.doc.Notes = append(r.doc.Notes, report.Note{Plugin: s.p.Info.Name, Text: r.mask(n)})
		}
	}
	r.console.Header("summary")
	for _, b := range r.doc.Backups {
		line := "Backup: " + b.Path
		if b.Description != "" {
			line = fmt.Sprintf("A backup of %s is available at %s", b.Description, b.Path)
		}
		r.console.Printf("%s", line)
	}
	for _, n := range r.doc.Notes {
		r.console.Printf("%s", n.Text)
	}
	if r.doc.AnswerFile != "" {
		r.console.Printf("Answers used were saved in %s", r.doc.AnswerFile)
	}
	r.console.Printf("Log file is located at %s", r.doc.LogFile)
	r.console.Printf("%s", closing)
	r.console.Header("end of summary")
}

// finish completes the JSON document and the log.
func (r *run) finish(err error) {
	// Backups finish in any order; the document lists actions as planned.
	index := map[string]int{}
	for i, st := range r.steps {
		index[st.Plugin+"\x00"+st.Action.ID] = i
	}
	sort.SliceStable(r.doc.Actions, func(i, j int) bool {
		a, b := r.doc.Actions[i], r.doc.Actions[j]
		return index[a.Plugin+"\x00"+a.ID] < index[b.Plugin+"\x00"+b.ID]
	})
	code := exitcode.Of(err)
	r.doc.ExitCode = code
	switch code {
	case exitcode.OK:
		r.doc.Status = report.StatusSucceeded
		if r.cfg.DryRun {
			r.doc.Status = report.StatusDryRun
		} else if r.cleanup == nil {
			r.doc.Status = report.StatusNothingToDo
		}
	case exitcode.Refused:
		r.doc.Status = report.StatusRefused
	case exitcode.Aborted:
		r.doc.Status = report.StatusAborted
	case exitcode.Usage:
		r.doc.Status = report.StatusUsageError
	case exitcode.Interrupted:
		r.doc.Status = report.StatusInterrupted
	default:
		r.doc.Status = report.StatusFailed
	}
	if err != nil {
		r.doc.Message = r.mask(err.Error())
		r.log.Error("run ended", "exit_code", code, "error", err.Error())
	} else {
		r.log.Info("run ended", "exit_code", code)
	}
	if r.logFile != nil {
		_ = r.logFile.Close()
	}
	if r.cfg.JSON {
		r.doc.Normalize()
		_ = r.doc.Encode(r.io.Out, r.mask)
	}
}
