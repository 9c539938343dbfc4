package sdktest

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// tidy is a small plugin that does everything right, unless bug names one
// of the mistakes the checks must catch. It cleans "tidy": a run marker,
// data it backs up, and its record.
type tidy struct {
	bug       string
	root      string
	env       sdk.Environment
	installed bool
	answers   sdk.Answers
	plans     int
}

const (
	tidyRecord  = "/etc/tidy/tidy.conf"
	tidyMarker  = "/run/tidy/running"
	tidyData    = "/var/lib/tidy"
	tidyBackups = "/var/lib/tidy-backups"

	keyRemoveData    = "tidy.removeData"
	keyCompression   = "tidy.compression"
	answerRemoveData = "OVESETUP_TIDY/removeData"
	answerCompress   = "OVESETUP_TIDY/compression"
)

var (
	_ sdk.Initializer = (*tidy)(nil)
	_ sdk.Validator   = (*tidy)(nil)
	_ sdk.Confirmer   = (*tidy)(nil)
	_ sdk.Executor    = (*tidy)(nil)
	_ sdk.Closer      = (*tidy)(nil)
)

func setupTidy(t testing.TB, root string) {
	t.Helper()
	for name, content := range map[string]string{
		tidyRecord:             "data=" + tidyData + "\n",
		tidyMarker:             "4242\n",
		tidyData + "/data":     "precious\n",
		"/etc/tidy/local.conf": "not tidy's to remove\n",
	} {
		writeFile(t, filepath.Join(root, name), content, 0o644)
	}
}

func writeFile(t testing.TB, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// tidyConfig is the Config for tidy with bug.
func tidyConfig(bug string) Config {
	return Config{New: func() sdk.Plugin { return &tidy{bug: bug} }, Setup: setupTidy}
}

func (p *tidy) path(name string) string { return filepath.Join(p.root, name) }

func present(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func (p *tidy) Info(context.Context, sdk.InfoRequest) (sdk.InfoResponse, error) {
	info := sdk.InfoResponse{Name: "tidy", Version: "1.0.0", Description: "cleans tidy, a test component",
		AnswerKeys: []string{answerRemoveData, answerCompress}}
	switch p.bug {
	case "bad-name":
		info.Name = "Tidy_Plugin"
	case "no-version":
		info.Version = ""
	case "self-dependency":
		info.DependsOn = []string{"engine", "tidy"}
	case "bad-answer-key":
		info.AnswerKeys = append(info.AnswerKeys, "removeData")
	case "sets-phases":
		info.Phases = []sdk.Phase{sdk.PhaseInit}
	case "unlisted-answer-key":
		info.AnswerKeys = []string{answerCompress}
	}
	return info, nil
}

func (p *tidy) Init(_ context.Context, req sdk.InitRequest) (sdk.InitResponse, error) {
	p.env, p.root = req.Environment, req.Environment.Root
	switch p.bug {
	case "ignores-root":
		p.root = "/"
	case "init-error":
		return sdk.InitResponse{}, errors.New("cannot read the records")
	case "init-writes":
		_ = os.WriteFile(p.path("/etc/tidy/.probe"), nil, 0o600)
	}
	p.installed = present(p.path(tidyRecord))
	if !p.installed {
		return sdk.InitResponse{Installed: p.bug == "installed-when-empty"}, nil
	}
	if p.bug == "refuses-partial" && !present(p.path(tidyData)) {
		return sdk.InitResponse{Installed: true, Problems: []sdk.Problem{sdk.Blocker(sdk.KindSequenceIIImpossible,
			tidyRecord+" exists but "+tidyData+" does not", "clean by hand")}}, nil
	}
	removeData := sdk.Question{Key: keyRemoveData, Prompt: "Remove tidy's data?", Type: sdk.YesNo,
		Default: "true", AnswerKey: answerRemoveData}
	compression := sdk.Question{Key: keyCompression, Prompt: "Compress the backup?", Type: sdk.Choice,
		Choices: []string{"none", "gzip"}, Default: "none", AnswerKey: answerCompress}
	switch p.bug {
	case "bad-default":
		removeData.Default = "yes"
	case "unprefixed-question":
		removeData.Key = "removeData"
	case "choice-default-not-offered":
		compression.Default = "xz"
	}
	questions := []sdk.Question{removeData, compression}
	if p.bug == "password-default" {
		questions = append(questions, sdk.Question{Key: "tidy.password", Prompt: "Password?", Type: sdk.Password,
			Default: "hunter2"})
	}
	return sdk.InitResponse{Installed: true, Findings: []string{"tidy is installed"}, Questions: questions}, nil
}

func (p *tidy) Validate(_ context.Context, req sdk.ValidateRequest) (sdk.ValidateResponse, error) {
	if p.bug == "validate-writes" {
		_ = os.WriteFile(p.path("/etc/tidy/.validated"), nil, 0o600)
	}
	return sdk.ValidateResponse{Plan: p.plan(req.Answers)}, nil
}

func (p *tidy) Confirm(_ context.Context, req sdk.ConfirmRequest) (sdk.ConfirmResponse, error) {
	if p.bug == "confirm-writes" {
		_ = os.WriteFile(p.path("/etc/tidy/.confirmed"), nil, 0o600)
	}
	p.answers = req.Answers
	plan := p.plan(req.Answers)
	if p.bug == "confirm-disagrees" {
		plan = plan[1:]
	}
	return sdk.ConfirmResponse{Plan: plan}, nil
}

func (p *tidy) plan(answers sdk.Answers) []sdk.Action {
	if !p.installed {
		return nil
	}
	p.plans++
	id := func(s string) string {
		switch p.bug {
		case "unstable-ids":
			return fmt.Sprintf("tidy.%s-%d", s, p.plans)
		case "per-instance-ids":
			return fmt.Sprintf("tidy.%s-%p", s, p)
		}
		return "tidy." + s
	}
	plan := []sdk.Action{
		{ID: id("stop"), Stage: sdk.StageStop, Description: "Stop tidy", Resources: []string{tidyMarker}},
		{ID: id("backup"), Stage: sdk.StageBackup, Description: "Back up tidy's data", Resources: []string{tidyData}},
	}
	remove := true
	if v, ok := answers.Bool(keyRemoveData); ok {
		remove = v
	}
	if remove {
		plan = append(plan, sdk.Action{ID: id("remove-data"), Stage: sdk.StageRemove,
			Description: "Remove tidy's data", Resources: []string{tidyData}})
	} else if p.bug == "bad-stage-when-keeping-data" {
		plan = append(plan, sdk.Action{ID: id("keep-data"), Stage: "keep", Description: "Keep tidy's data"})
	}
	forget := sdk.Action{ID: id("forget"), Stage: sdk.StageForget, Description: "Remove tidy's record",
		Resources: []string{tidyRecord}}
	switch p.bug {
	case "duplicate-ids":
		forget.ID = id("stop")
	case "bad-stage":
		forget.Stage = "destroy"
	}
	return append(plan, forget)
}

func (p *tidy) Execute(_ context.Context, req sdk.ExecuteRequest) (sdk.ExecuteResponse, error) {
	switch req.ActionID {
	case "tidy.stop":
		return removeIfPresent(p.path(tidyMarker))
	case "tidy.backup":
		return p.backup(req.Progress)
	case "tidy.remove-data":
		if p.bug == "fails-second-time" && !present(p.path(tidyData)) {
			return failed("removing %s: no such directory", tidyData), nil
		}
		return removeIfPresent(p.path(tidyData))
	case "tidy.forget":
		switch p.bug {
		case "writes-outside":
			_ = os.WriteFile(filepath.Join(p.root, "..", "outside", "leak"), []byte("oops\n"), 0o644)
		case "forget-keeps-record":
			return sdk.ExecuteResponse{Changed: true, Outcome: "removed"}, nil
		}
		return removeIfPresent(p.path(tidyRecord))
	}
	switch p.bug {
	case "accepts-unknown":
		return sdk.ExecuteResponse{Outcome: "nothing to do"}, nil
	case "errors-on-unknown":
		return sdk.ExecuteResponse{}, fmt.Errorf("unknown action %s", req.ActionID)
	}
	return failed("unknown action %s", req.ActionID), nil
}

func failed(format string, args ...any) sdk.ExecuteResponse {
	return sdk.ExecuteResponse{Problems: []sdk.Problem{sdk.Blocker(sdk.KindGeneral, fmt.Sprintf(format, args...),
		"run engine-cleanup again")}}
}

func removeIfPresent(p string) (sdk.ExecuteResponse, error) {
	if !present(p) {
		return sdk.ExecuteResponse{Outcome: "already gone"}, nil
	}
	if err := os.RemoveAll(p); err != nil {
		return failed("removing %s: %v", p, err), nil
	}
	return sdk.ExecuteResponse{Changed: true, Outcome: "removed"}, nil
}

// backup copies the data into a new file named after the run, written
// under a temporary name and renamed when complete.
func (p *tidy) backup(progress func(sdk.Progress)) (sdk.ExecuteResponse, error) {
	data, err := os.ReadFile(p.path(tidyData + "/data"))
	switch {
	case errors.Is(err, os.ErrNotExist) && p.bug == "clobbers-backup":
		data = nil
	case errors.Is(err, os.ErrNotExist):
		return sdk.ExecuteResponse{Outcome: "nothing left to back up"}, nil
	case err != nil:
		return failed("reading %s: %v", tidyData, err), nil
	}
	dir := p.path(tidyBackups)
	if p.bug == "backup-outside-root" {
		dir = filepath.Join(p.root, "..", "backups")
	}
	name := "tidy-" + p.env.RunID + ".bak"
	if p.bug == "clobbers-backup" {
		name = "tidy.bak"
	}
	if p.bug == "empty-backup" {
		data = nil
	}
	gz := p.answers[keyCompression] == "gzip"
	if gz {
		name += ".gz"
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return sdk.ExecuteResponse{}, err
	}
	tmp, err := os.CreateTemp(dir, ".tidy-*.tmp")
	if err != nil {
		return sdk.ExecuteResponse{}, err
	}
	defer os.Remove(tmp.Name())
	var w io.WriteCloser = tmp
	if gz {
		w = gzip.NewWriter(tmp)
	}
	_, werr := w.Write(data)
	if gz {
		werr = errors.Join(werr, w.Close())
	}
	if err := errors.Join(werr, tmp.Close()); err != nil {
		return sdk.ExecuteResponse{}, err
	}
	progress(sdk.Progress{Message: "data", Done: int64(len(data)), Total: int64(len(data))})
	if p.bug == "backup-0644" {
		if err := os.Chmod(tmp.Name(), 0o644); err != nil {
			return sdk.ExecuteResponse{}, err
		}
	}
	final := filepath.Join(dir, name)
	if err := os.Rename(tmp.Name(), final); err != nil {
		return sdk.ExecuteResponse{}, err
	}
	reported := final
	if p.bug == "backup-wrong-path" {
		reported = tmp.Name()
	}
	return sdk.ExecuteResponse{Changed: true, Outcome: "written",
		Backups: []sdk.Backup{{Path: reported, Description: "tidy's data"}}}, nil
}

func (p *tidy) Closeup(_ context.Context, req sdk.CloseupRequest) (sdk.CloseupResponse, error) {
	switch {
	case p.bug == "closeup-fails-after-abort" && req.Aborted:
		return sdk.CloseupResponse{}, errors.New("nothing to say")
	case p.bug == "closeup-writes" && req.Succeeded:
		_ = os.WriteFile(p.path("/var/lib/tidy-backups/README"), []byte("restore with cp\n"), 0o644)
	}
	return sdk.CloseupResponse{Notes: []string{"tidy was removed"}}, nil
}

// planner plans like tidy but cannot execute anything.
type planner struct{ p *tidy }

func (w planner) Info(ctx context.Context, req sdk.InfoRequest) (sdk.InfoResponse, error) {
	return w.p.Info(ctx, req)
}

func (w planner) Init(ctx context.Context, req sdk.InitRequest) (sdk.InitResponse, error) {
	return w.p.Init(ctx, req)
}

func (w planner) Validate(ctx context.Context, req sdk.ValidateRequest) (sdk.ValidateResponse, error) {
	return w.p.Validate(ctx, req)
}

// bare implements Info and nothing else.
type bare struct{}

func (bare) Info(context.Context, sdk.InfoRequest) (sdk.InfoResponse, error) {
	return sdk.InfoResponse{Name: "bare", Version: "0.1", Description: "does nothing"}, nil
}

// recorder stands in for a test inside a check: it records failures and
// skips instead of reporting them, so a test can assert that a check fails.
// Everything else goes to the real test.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	failures []string
	skipped  string
}

func (r *recorder) fail(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, msg)
}

func (r *recorder) skip(msg string) {
	r.mu.Lock()
	r.skipped = msg
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Error(args ...any)                 { r.fail(fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, args ...any) { r.fail(fmt.Sprintf(format, args...)) }
func (r *recorder) Fail()                             { r.fail("Fail called") }
func (r *recorder) FailNow()                          { r.fail("FailNow called"); runtime.Goexit() }
func (r *recorder) Fatal(args ...any)                 { r.fail(fmt.Sprint(args...)); runtime.Goexit() }
func (r *recorder) Fatalf(format string, args ...any) {
	r.fail(fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (r *recorder) Skip(args ...any)                 { r.skip(fmt.Sprint(args...)) }
func (r *recorder) Skipf(format string, args ...any) { r.skip(fmt.Sprintf(format, args...)) }
func (r *recorder) SkipNow()                         { r.skip("SkipNow called") }

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.failures) > 0
}

func (r *recorder) Skipped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.skipped != ""
}

// runCheck runs the check called name against cfg on a recorder, in a
// goroutine of its own so that Fatalf can end it, and logs what it found.
func runCheck(t *testing.T, name string, cfg Config) *recorder {
	t.Helper()
	all := checks()
	i := slices.IndexFunc(all, func(c check) bool { return c.name == name })
	if i < 0 {
		t.Fatalf("no check is named %q", name)
	}
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		all[i].run(r, cfg)
	}()
	<-done
	for _, f := range r.failures {
		t.Logf("check %q reports: %s", name, f)
	}
	return r
}

func TestEveryCheckPassesACorrectPlugin(t *testing.T) {
	for _, c := range checks() {
		t.Run(c.name, func(t *testing.T) {
			r := runCheck(t, c.name, tidyConfig(""))
			if r.Failed() || r.Skipped() {
				t.Errorf("the correct plugin fails or skips the check: %q %s", r.failures, r.skipped)
			}
		})
	}
}

func TestRunPassesCorrectPlugins(t *testing.T) {
	t.Run("tidy", func(t *testing.T) { Run(t, tidyConfig("")) })
	t.Run("tidy with every answer changed", func(t *testing.T) {
		cfg := tidyConfig("")
		cfg.Answers = sdk.Answers{keyRemoveData: "false", keyCompression: "gzip"}
		Run(t, cfg)
	})
	t.Run("a plugin with only Info", func(t *testing.T) {
		Run(t, Config{New: func() sdk.Plugin { return bare{} }})
	})
}

// brokenPlugin is a mistake a check must report: tidy with bug, and a
// fragment of the report.
type brokenPlugin struct {
	check, bug, want string
	cfg              func(Config) Config // adjusts tidyConfig(bug); nil for none
}

// brokenPlugins lists, for every check, plugins it must fail.
func brokenPlugins() []brokenPlugin {
	return []brokenPlugin{
		{check: "info is valid", bug: "bad-name", want: `name "Tidy_Plugin" is not a valid plugin name`},
		{check: "info is valid", bug: "no-version", want: "version is empty"},
		{check: "info is valid", bug: "self-dependency", want: `depends on itself ("tidy")`},
		{check: "info is valid", bug: "bad-answer-key", want: `answer key "removeData" is not an otopi key`},
		{check: "info is valid", bug: "sets-phases", want: "leave Phases empty"},

		{check: "an empty host has nothing to clean", bug: "installed-when-empty", want: "Installed=true on an empty host"},
		{check: "an empty host has nothing to clean", bug: "init-error", want: "init: init phase: cannot read the records"},

		{check: "init and validate change nothing", bug: "init-writes", want: "init changed the host: added etc/tidy/.probe"},
		{check: "init and validate change nothing", bug: "validate-writes", want: "validate changed the host: added etc/tidy/.validated"},
		{check: "init and validate change nothing", bug: "confirm-writes", want: "confirm changed the host: added etc/tidy/.confirmed"},

		{check: "questions are well formed", bug: "bad-default", want: `question "tidy.removeData": default "yes" of a yes-no question`},
		{check: "questions are well formed", bug: "unlisted-answer-key", want: `answer key "OVESETUP_TIDY/removeData" is not listed in Info.AnswerKeys`},
		{check: "questions are well formed", bug: "password-default", want: "a password question has a default"},
		{check: "questions are well formed", bug: "unprefixed-question", want: `question "removeData" does not start with the plugin name`},
		{check: "questions are well formed", bug: "choice-default-not-offered", want: `default "xz" is not one of the choices`},
		{check: "questions are well formed", bug: "answers-not-asked", want: `Config.Answers answers "tidy.removeCache", which no question`,
			cfg: func(c Config) Config { c.Answers = sdk.Answers{"tidy.removeCache": "true"}; return c }},
		{check: "questions are well formed", bug: "answers-invalid", want: `Config.Answers answers "tidy.removeData" with "yes"`,
			cfg: func(c Config) Config { c.Answers = sdk.Answers{keyRemoveData: "yes"}; return c }},

		{check: "the plan is stable and well formed", bug: "unstable-ids", want: "validate, called twice gives different plans"},
		{check: "the plan is stable and well formed", bug: "per-instance-ids", want: "validate on a second plugin instance"},
		{check: "the plan is stable and well formed", bug: "duplicate-ids", want: `action "tidy.stop" is planned twice`},
		{check: "the plan is stable and well formed", bug: "bad-stage", want: `action "tidy.forget" has stage ""`},
		{check: "the plan is stable and well formed", bug: "bad-stage-when-keeping-data", want: `validate with tidy.removeData=false: action "tidy.keep-data" has stage`},
		{check: "the plan is stable and well formed", bug: "confirm-disagrees", want: "validate, and confirm with every open question at its default gives different plans"},
		{check: "the plan is stable and well formed", bug: "no-executor", want: "does not implement Execute",
			cfg: func(c Config) Config { c.New = func() sdk.Plugin { return planner{&tidy{}} }; return c }},

		{check: "cleanup is idempotent", bug: "fails-second-time", want: "the first run's actions executed again: action tidy.remove-data (Remove tidy's data) fails"},
		{check: "cleanup is idempotent", bug: "forget-keeps-record", want: "a second run: action tidy.forget reports Changed=true"},
		{check: "cleanup is idempotent", bug: "bad-stage", want: "the first run: the confirmed plan is malformed"},

		{check: "an interrupted cleanup converges when run again", bug: "refuses-partial", want: "a run resumed after an interruption after tidy.remove-data: init refuses the host"},
		{check: "an interrupted cleanup converges when run again", bug: "clobbers-backup", want: "backup var/lib/tidy-backups/tidy.bak was lost or changed"},

		{check: "backups are complete and private", bug: "backup-0644", want: "has mode 0644"},
		{check: "backups are complete and private", bug: "backup-outside-root", want: "is outside the root"},
		{check: "backups are complete and private", bug: "empty-backup", want: "is empty"},
		{check: "backups are complete and private", bug: "backup-wrong-path", want: "cannot be found at the end of the run"},

		{check: "an unknown action is refused", bug: "accepts-unknown", want: `executing unknown action "no-such-action" succeeds`},
		{check: "an unknown action is refused", bug: "errors-on-unknown", want: `executing unknown action "no-such-action" returns an error`},

		{check: "paths stay under the root", bug: "writes-outside", want: "outside the root: added leak"},
		{check: "paths stay under the root", bug: "ignores-root", want: "does the plugin resolve every path under Environment.Root?"},

		{check: "closeup answers after success and after abort", bug: "closeup-fails-after-abort", want: "closeup after an abort: closeup phase: nothing to say"},
		{check: "closeup answers after success and after abort", bug: "closeup-writes", want: "closeup after success changed the host: added var/lib/tidy-backups/README"},
	}
}

func TestChecksCatchBrokenPlugins(t *testing.T) {
	for _, tc := range brokenPlugins() {
		t.Run(tc.check+"/"+tc.bug, func(t *testing.T) {
			cfg := tidyConfig(tc.bug)
			if tc.cfg != nil {
				cfg = tc.cfg(cfg)
			}
			r := runCheck(t, tc.check, cfg)
			if !slices.ContainsFunc(r.failures, func(f string) bool { return strings.Contains(f, tc.want) }) {
				t.Errorf("check %q does not report %q; it reports %q", tc.check, tc.want, r.failures)
			}
		})
	}
}

func TestEveryCheckCanFail(t *testing.T) {
	for _, c := range checks() {
		if !slices.ContainsFunc(brokenPlugins(), func(b brokenPlugin) bool { return b.check == c.name }) {
			t.Errorf("no broken plugin shows that check %q can fail", c.name)
		}
	}
}

func TestSkipCleanupSkipsOnlyChecksThatExecute(t *testing.T) {
	cfg := tidyConfig("")
	cfg.SkipCleanup = true
	for _, c := range checks() {
		t.Run(c.name, func(t *testing.T) {
			r := runCheck(t, c.name, cfg)
			if r.Failed() {
				t.Errorf("fails with SkipCleanup: %q", r.failures)
			}
			executes := slices.Contains([]string{"cleanup is idempotent", "an interrupted cleanup converges when run again",
				"backups are complete and private"}, c.name)
			if r.Skipped() != executes {
				t.Errorf("skipped=%v (%s), want %v", r.Skipped(), r.skipped, executes)
			}
		})
	}
	// Without execution, the paths check still sees what init and validate do.
	cfg = tidyConfig("ignores-root")
	cfg.SkipCleanup = true
	if r := runCheck(t, "paths stay under the root", cfg); !r.Failed() {
		t.Errorf("the paths check passes a plugin that ignores the root when SkipCleanup is set")
	}
}

func TestQuestionWithoutDefaultNeedsAnAnswer(t *testing.T) {
	cfg := tidyConfig("")
	cfg.New = func() sdk.Plugin { return &secretive{tidy{}} }
	r := runCheck(t, "the plan is stable and well formed", cfg)
	if !slices.ContainsFunc(r.failures, func(f string) bool {
		return strings.Contains(f, `question "tidy.password" has no default: give it an answer in Config.Answers`)
	}) {
		t.Errorf("a question without default and without answer is not reported: %q", r.failures)
	}
	cfg.Answers = sdk.Answers{"tidy.password": "s3cret"}
	if r := runCheck(t, "the plan is stable and well formed", cfg); r.Failed() {
		t.Errorf("answered in Config.Answers, the question still fails the check: %q", r.failures)
	}
}

// secretive is tidy with a password question, which has no default.
type secretive struct{ tidy }

func (s *secretive) Init(ctx context.Context, req sdk.InitRequest) (sdk.InitResponse, error) {
	resp, err := s.tidy.Init(ctx, req)
	if resp.Installed {
		resp.Questions = append(resp.Questions, sdk.Question{Key: "tidy.password", Prompt: "Password?", Type: sdk.Password})
	}
	return resp, err
}

func TestEnvironmentKeepsTheMachineOutOfReach(t *testing.T) {
	h := &host{root: "/tmp/x/root"}
	env := h.environment(3)
	if env.Root != "/tmp/x/root" || env.ServiceManager != "none" || env.LibvirtURI != "test:///default" || env.DryRun {
		t.Errorf("default environment %+v", env)
	}
	if other := h.environment(4); other.RunID == env.RunID {
		t.Errorf("two runs share the run ID %q", env.RunID)
	}
	h.cfg.Environment = sdk.Environment{Root: "/elsewhere", RunID: "x", ServiceManager: "systemd",
		LibvirtURI: "test:///tmp/host.xml", Settings: map[string]string{"k": "v"}}
	env = h.environment(1)
	if env.Root != "/tmp/x/root" || env.RunID == "x" || env.ServiceManager != "systemd" ||
		env.LibvirtURI != "test:///tmp/host.xml" || env.Settings["k"] != "v" {
		t.Errorf("configured environment %+v", env)
	}
}
