package sdktest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-plugin"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// coreVersion is what the kit tells a plugin in InfoRequest.
const coreVersion = "sdktest"

// unknownActionID names an action no plugin plans.
const unknownActionID = "no-such-action"

// host is one throwaway machine for a check: a root that stands for "/" and,
// next to it, a directory the plugin must never touch.
type host struct {
	t       testing.TB
	cfg     Config
	root    string
	outside string
	runs    int // plugin instances started so far, for distinct run IDs
}

// newHost makes a host under a fresh temporary directory. When populated,
// Setup fills the root and, as a decoy, the directory outside it: a plugin
// that strays from the root finds something there to damage.
func newHost(t testing.TB, cfg Config, populated bool) *host {
	t.Helper()
	dir := t.TempDir()
	h := &host{t: t, cfg: cfg, root: filepath.Join(dir, "root"), outside: filepath.Join(dir, "outside")}
	for _, d := range []string{h.root, h.outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatalf("creating the host: %v", err)
		}
	}
	sentinel := filepath.Join(h.outside, "sentinel")
	if err := os.WriteFile(sentinel, []byte("outside the root: no plugin may touch this\n"), 0o644); err != nil {
		t.Fatalf("creating the host: %v", err)
	}
	if populated && cfg.Setup != nil {
		cfg.Setup(t, h.outside)
		cfg.Setup(t, h.root)
	}
	return h
}

// environment is what the core would tell a plugin, for run number n.
func (h *host) environment(n int) sdk.Environment {
	env := h.cfg.Environment
	env.Root = h.root
	env.RunID = fmt.Sprintf("200001010000%02d-sdktst", n%100)
	if env.ServiceManager == "" {
		env.ServiceManager = "none"
	}
	if env.LibvirtURI == "" {
		env.LibvirtURI = "test:///default"
	}
	return env
}

// start launches a new plugin instance, as a new run of the core would.
func (h *host) start() *instance {
	h.t.Helper()
	h.runs++
	impl := h.cfg.New()
	if impl == nil {
		h.t.Fatalf("Config.New returned nil")
	}
	return &instance{t: h.t, cfg: h.cfg, impl: impl, rpc: connect(h.t, impl), env: h.environment(h.runs)}
}

// connect serves impl through the SDK's gRPC adapters in process and
// returns the core's side of it, so that every call crosses the wire format.
func connect(t testing.TB, impl sdk.Plugin) *sdk.Client {
	t.Helper()
	client, server := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{
		sdk.PluginKey: &sdk.GRPCPlugin{Impl: impl},
	})
	// Cleanups run last-registered first: stop the server, then close the
	// client, whose shutdown request then fails fast instead of racing
	// with Stop.
	t.Cleanup(func() { _ = client.Close() })
	t.Cleanup(server.Stop)
	raw, err := client.Dispense(sdk.PluginKey)
	if err != nil {
		t.Fatalf("dispensing the plugin: %v", err)
	}
	c, ok := raw.(*sdk.Client)
	if !ok {
		t.Fatalf("dispensing the plugin: got %T, want *sdk.Client", raw)
	}
	return c
}

// instance is one plugin instance driven as the core drives it. Every phase
// helper fails the check when the phase returns a Go error, which the core
// reports as a failure of the plugin.
type instance struct {
	t    testing.TB
	cfg  Config
	impl sdk.Plugin
	rpc  *sdk.Client
	env  sdk.Environment

	questions []sdk.Question // from the last init
}

func (in *instance) info() sdk.InfoResponse {
	in.t.Helper()
	resp, err := in.rpc.Info(in.t.Context(), sdk.InfoRequest{CoreVersion: coreVersion})
	if err != nil {
		in.t.Fatalf("info: %v", err)
	}
	return resp
}

func (in *instance) init() sdk.InitResponse {
	in.t.Helper()
	resp, err := in.rpc.Init(in.t.Context(), sdk.InitRequest{Environment: in.env})
	if err != nil {
		in.t.Fatalf("init: %v", err)
	}
	in.questions = resp.Questions
	return resp
}

func (in *instance) validate(answers sdk.Answers) sdk.ValidateResponse {
	in.t.Helper()
	resp, err := in.rpc.Validate(in.t.Context(), sdk.ValidateRequest{Answers: answers})
	if err != nil {
		in.t.Fatalf("validate: %v", err)
	}
	return resp
}

// confirm calls Validate when the plugin has no Confirm, as the core does.
func (in *instance) confirm(answers sdk.Answers) sdk.ConfirmResponse {
	in.t.Helper()
	resp, err := in.rpc.Confirm(in.t.Context(), sdk.ConfirmRequest{Answers: answers})
	if errors.Is(err, sdk.ErrNotImplemented) {
		var v sdk.ValidateResponse
		v, err = in.rpc.Validate(in.t.Context(), sdk.ValidateRequest{Answers: answers})
		resp = sdk.ConfirmResponse{Plan: v.Plan, Problems: v.Problems}
	}
	if err != nil {
		in.t.Fatalf("confirm: %v", err)
	}
	return resp
}

// execute runs one action and checks the progress it reports on the way.
func (in *instance) execute(id string) (sdk.ExecuteResponse, error) {
	in.t.Helper()
	progress := func(p sdk.Progress) {
		if p.Done < 0 || p.Total < 0 || (p.Total > 0 && p.Done > p.Total) {
			in.t.Errorf("action %s: progress %d of %d is out of range", id, p.Done, p.Total)
		}
	}
	return in.rpc.Execute(in.t.Context(), sdk.ExecuteRequest{ActionID: id, Progress: progress})
}

func (in *instance) closeup(req sdk.CloseupRequest) (sdk.CloseupResponse, error) {
	return in.rpc.Closeup(in.t.Context(), req)
}

// preAnswers is what flags and answer files would have answered before
// validate: the configured answers to the questions init declared.
func (in *instance) preAnswers() sdk.Answers {
	out := sdk.Answers{}
	for _, q := range in.questions {
		if v, ok := in.cfg.Answers[q.Key]; ok {
			out[q.Key] = v
		}
	}
	return out
}

// allAnswers is every answer confirm receives: the configured ones, and
// every other question's default, as -u takes them.
func (in *instance) allAnswers() sdk.Answers {
	in.t.Helper()
	out := in.preAnswers()
	for _, q := range in.questions {
		if _, ok := out[q.Key]; ok {
			continue
		}
		if q.Default == "" && q.Type != sdk.Text {
			in.t.Fatalf("question %q has no default: give it an answer in Config.Answers", q.Key)
		}
		out[q.Key] = q.Default
	}
	return out
}

// approve runs init, validate and confirm as the core does for a run that
// goes ahead, and returns the final plan; what names the run in messages. A
// blocking problem or a malformed plan ends the check: the core would
// refuse the run, so there is nothing to execute.
func (in *instance) approve(what string) []sdk.Action {
	in.t.Helper()
	return in.approveAfter(what, in.init())
}

// approveAfter is approve for an instance whose init answered resp.
func (in *instance) approveAfter(what string, resp sdk.InitResponse) []sdk.Action {
	in.t.Helper()
	if sdk.HasBlocking(resp.Problems) {
		in.t.Fatalf("%s: init refuses the host: %s", what, problemsText(resp.Problems))
	}
	if resp := in.validate(in.preAnswers()); sdk.HasBlocking(resp.Problems) {
		in.t.Fatalf("%s: validate refuses the host: %s", what, problemsText(resp.Problems))
	}
	c := in.confirm(in.allAnswers())
	if sdk.HasBlocking(c.Problems) {
		in.t.Fatalf("%s: confirm refuses the host: %s", what, problemsText(c.Problems))
	}
	if errs := planErrors(c.Plan); len(errs) > 0 {
		in.t.Fatalf("%s: the confirmed plan is malformed, the core would refuse it: %s", what, strings.Join(errs, "; "))
	}
	return c.Plan
}

// executed is an action and what executing it reported.
type executed struct {
	action sdk.Action
	resp   sdk.ExecuteResponse
}

// runAll executes plan stage by stage as the core does and stops the check
// at the first action that fails; what names the run in messages.
func (in *instance) runAll(plan []sdk.Action, what string) []executed {
	in.t.Helper()
	var out []executed
	for _, a := range byStage(plan) {
		resp, err := in.execute(a.ID)
		if err != nil {
			in.t.Fatalf("%s: action %s (%s) returns an error: %v", what, a.ID, a.Description, err)
		}
		if sdk.HasBlocking(resp.Problems) {
			in.t.Fatalf("%s: action %s (%s) fails: %s", what, a.ID, a.Description, problemsText(resp.Problems))
		}
		out = append(out, executed{action: a, resp: resp})
	}
	return out
}

// byStage orders a plan as the core executes it: stop, backup, remove,
// forget, keeping the plugin's order within a stage.
func byStage(plan []sdk.Action) []sdk.Action {
	out := slices.Clone(plan)
	slices.SortStableFunc(out, func(a, b sdk.Action) int {
		return slices.Index(sdk.Stages, a.Stage) - slices.Index(sdk.Stages, b.Stage)
	})
	return out
}

func backupsOf(runs ...[]executed) []sdk.Backup {
	var out []sdk.Backup
	for _, run := range runs {
		for _, e := range run {
			out = append(out, e.resp.Backups...)
		}
	}
	return out
}

func idsOf(run []executed) []string {
	var out []string
	for _, e := range run {
		out = append(out, e.action.ID)
	}
	return out
}

func problemsText(problems []sdk.Problem) string {
	var lines []string
	for _, p := range problems {
		lines = append(lines, string(p.Severity)+": "+p.String())
	}
	return strings.Join(lines, "; ")
}

func blockingOnly(problems []sdk.Problem) []sdk.Problem {
	var out []sdk.Problem
	for _, p := range problems {
		if p.Severity == sdk.Blocking {
			out = append(out, p)
		}
	}
	return out
}

// underRoot returns p relative to root, resolving symlinks in both, or
// ok=false when p lies outside root.
func underRoot(root, p string) (rel string, ok bool) {
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	dir, base := filepath.Split(filepath.Clean(p))
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	rel, err := filepath.Rel(root, filepath.Join(dir, base))
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}
