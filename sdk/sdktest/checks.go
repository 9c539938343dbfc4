package sdktest

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// answerKeyPattern is the shape of an otopi answer-file key, such as
// OVESETUP_REMOVE/engineDatabase.
var answerKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_]+(/[A-Za-z0-9_.-]+)+$`)

// checkInfo: Info describes the plugin in a way the core accepts, and the
// phases the core learns are the ones the plugin implements.
func checkInfo(t testing.TB, cfg Config) {
	impl := cfg.New()
	if impl == nil {
		t.Fatalf("Config.New returned nil")
	}
	direct, err := impl.Info(t.Context(), sdk.InfoRequest{CoreVersion: coreVersion})
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	info := (&instance{t: t, rpc: connect(t, impl)}).info()

	if !sdk.ValidName(info.Name) {
		t.Errorf("name %q is not a valid plugin name: lowercase letters, digits and dashes, starting with a letter, at most 64 characters", info.Name)
	}
	if strings.TrimSpace(info.Version) == "" {
		t.Errorf("version is empty")
	}
	if strings.TrimSpace(info.Description) == "" {
		t.Errorf("description is empty: --list-plugins shows it")
	}
	if want := sdk.PhasesOf(impl); !slices.Equal(info.Phases, want) {
		t.Errorf("the core learns the phases %v, but the plugin implements %v", info.Phases, want)
	}
	if len(direct.Phases) > 0 && !slices.Equal(direct.Phases, sdk.PhasesOf(impl)) {
		t.Errorf("Info sets Phases to %v, but the plugin implements %v: leave Phases empty, Serve fills it in",
			direct.Phases, sdk.PhasesOf(impl))
	}
	seen := map[string]bool{}
	for _, d := range info.DependsOn {
		switch {
		case !sdk.ValidName(d):
			t.Errorf("depends on %q, which is not a valid plugin name", d)
		case d == info.Name:
			t.Errorf("depends on itself (%q)", d)
		case seen[d]:
			t.Errorf("depends on %q twice", d)
		}
		seen[d] = true
	}
	seen = map[string]bool{}
	for _, k := range info.AnswerKeys {
		switch {
		case !answerKeyPattern.MatchString(k):
			t.Errorf("answer key %q is not an otopi key such as OVESETUP_REMOVE/engineDatabase", k)
		case seen[k]:
			t.Errorf("answer key %q is listed twice", k)
		}
		seen[k] = true
	}
	seen = map[string]bool{}
	for _, c := range info.Capabilities {
		switch {
		case strings.TrimSpace(c) == "":
			t.Errorf("capability %q is blank", c)
		case seen[c]:
			t.Errorf("capability %q is listed twice", c)
		}
		seen[c] = true
	}
}

// checkEmptyHost: on a host where nothing was ever installed, the plugin
// finds nothing, asks nothing, plans nothing and refuses nothing, so that
// the core can say "nothing to clean".
func checkEmptyHost(t testing.TB, cfg Config) {
	h := newHost(t, cfg, false)
	before := Snapshot(t, h.root)
	in := h.start()
	resp := in.init()
	if resp.Installed {
		t.Errorf("init reports Installed=true on an empty host (findings: %q)", resp.Findings)
	}
	if b := blockingOnly(resp.Problems); len(b) > 0 {
		t.Errorf("init refuses an empty host: %s", problemsText(b))
	}
	for _, q := range resp.Questions {
		t.Errorf("init declares question %q on an empty host: the core would ask it although there is nothing to clean", q.Key)
	}
	v := in.validate(in.preAnswers())
	if len(v.Plan) > 0 {
		t.Errorf("validate plans actions on an empty host:\n%s", planText(v.Plan))
	}
	if b := blockingOnly(v.Problems); len(b) > 0 {
		t.Errorf("validate refuses an empty host: %s", problemsText(b))
	}
	c := in.confirm(in.allAnswers())
	if len(c.Plan) > 0 {
		t.Errorf("confirm plans actions on an empty host:\n%s", planText(c.Plan))
	}
	if b := blockingOnly(c.Problems); len(b) > 0 {
		t.Errorf("confirm refuses an empty host: %s", problemsText(b))
	}
	if _, err := in.closeup(sdk.CloseupRequest{Succeeded: true}); err != nil {
		t.Errorf("closeup after nothing to clean: %v", err)
	}
	for _, d := range Diff(before, Snapshot(t, h.root)) {
		t.Errorf("a run on an empty host changed it: %s", d)
	}
}

// checkNoSideEffects: init, validate, confirm, and closeup after an abort
// leave the host exactly as they found it, even when they refuse it: a
// refused or aborted run must have changed nothing.
func checkNoSideEffects(t testing.TB, cfg Config) {
	h := newHost(t, cfg, true)
	in := h.start()
	last := Snapshot(t, h.root)
	after := func(phase string) {
		t.Helper()
		now := Snapshot(t, h.root)
		for _, d := range Diff(last, now) {
			t.Errorf("%s changed the host: %s", phase, d)
		}
		last = now
	}
	in.init()
	after("init")
	in.validate(in.preAnswers())
	after("validate")
	in.validate(in.preAnswers())
	after("validate, called again")
	in.confirm(in.allAnswers())
	after("confirm")
	if _, err := in.closeup(sdk.CloseupRequest{Aborted: true}); err != nil {
		t.Errorf("closeup after an abort: %v", err)
	}
	after("closeup after an abort")
}

// checkQuestions: every question declared on the Setup host can be asked
// by the core and answered from an answer file, and Config.Answers fits
// the questions.
func checkQuestions(t testing.TB, cfg Config) {
	h := newHost(t, cfg, true)
	in := h.start()
	info := in.info()
	resp := in.init()
	listed := map[string]bool{}
	for _, k := range info.AnswerKeys {
		listed[k] = true
	}
	keys := map[string]bool{}
	answerKeys := map[string]string{}
	for i, q := range resp.Questions {
		label := fmt.Sprintf("question %q", q.Key)
		switch {
		case q.Key == "":
			label = fmt.Sprintf("question %d (%q)", i, q.Prompt)
			t.Errorf("%s has no key", label)
		case keys[q.Key]:
			t.Errorf("%s is declared twice", label)
		case !strings.HasPrefix(q.Key, info.Name+".") || len(q.Key) == len(info.Name)+1:
			t.Errorf("%s does not start with the plugin name and a dot (%s.): keys are unique across plugins, and the core refuses a run where two plugins declare the same key", label, info.Name)
		}
		keys[q.Key] = true
		if strings.TrimSpace(q.Prompt) == "" {
			t.Errorf("%s has no prompt", label)
		}
		for _, e := range questionErrors(q) {
			t.Errorf("%s: %s", label, e)
		}
		if q.AnswerKey != "" {
			switch {
			case !answerKeyPattern.MatchString(q.AnswerKey):
				t.Errorf("%s: answer key %q is not an otopi key such as OVESETUP_REMOVE/engineDatabase", label, q.AnswerKey)
			case !listed[q.AnswerKey]:
				t.Errorf("%s: answer key %q is not listed in Info.AnswerKeys: the core would reject an answer file that sets it", label, q.AnswerKey)
			}
			if other, dup := answerKeys[q.AnswerKey]; dup {
				t.Errorf("%s: answer key %q is also used by question %q", label, q.AnswerKey, other)
			}
			answerKeys[q.AnswerKey] = q.Key
		}
	}
	if _, ok := in.impl.(sdk.Confirmer); len(resp.Questions) > 0 && !ok {
		t.Logf("the plugin declares questions but has no Confirm: the core calls Validate again with every answer, and the plugin must plan from those answers there")
	}
	for _, k := range sortedKeys(cfg.Answers) {
		i := slices.IndexFunc(resp.Questions, func(q sdk.Question) bool { return q.Key == k })
		if i < 0 {
			t.Errorf("Config.Answers answers %q, which no question on the Setup host asks", k)
			continue
		}
		if q := resp.Questions[i]; !validAnswer(q, cfg.Answers[k]) {
			t.Errorf("Config.Answers answers %q with %q, which a %s question does not accept", k, cfg.Answers[k], q.Type)
		}
	}
}

// questionErrors says what is wrong with a question's type, default,
// choices and purpose.
func questionErrors(q sdk.Question) []string {
	var errs []string
	switch q.Type {
	case sdk.YesNo, sdk.Approval:
		if q.Default != "true" && q.Default != "false" {
			errs = append(errs, fmt.Sprintf("default %q of a %s question is not \"true\" or \"false\"", q.Default, q.Type))
		}
	case sdk.Choice:
		if len(q.Choices) == 0 {
			errs = append(errs, "a choice question has no choices")
		}
		seen := map[string]bool{}
		for _, c := range q.Choices {
			if strings.TrimSpace(c) == "" {
				errs = append(errs, fmt.Sprintf("choice %q is blank", c))
			}
			if seen[c] {
				errs = append(errs, fmt.Sprintf("choice %q is offered twice", c))
			}
			seen[c] = true
		}
		if !slices.Contains(q.Choices, q.Default) {
			errs = append(errs, fmt.Sprintf("default %q is not one of the choices %q", q.Default, q.Choices))
		}
	case sdk.Text:
	case sdk.Password:
		if q.Default != "" {
			errs = append(errs, "a password question has a default: it would be a secret in plain sight")
		}
	default:
		errs = append(errs, fmt.Sprintf("type %q is not yes-no, choice, approval, text or password (an unknown type arrives empty over the wire)", q.Type))
	}
	if q.Type != sdk.Choice && len(q.Choices) > 0 {
		errs = append(errs, fmt.Sprintf("a %s question has choices %q; only choice questions do", q.Type, q.Choices))
	}
	switch q.Purpose {
	case "":
	case sdk.PurposeDropDatabase:
		if q.Type != sdk.YesNo {
			errs = append(errs, fmt.Sprintf("purpose %q needs a yes-no question, not %s", q.Purpose, q.Type))
		}
	default:
		errs = append(errs, fmt.Sprintf("purpose %q is unknown to the core", q.Purpose))
	}
	return errs
}

// validAnswer reports whether v answers q in the form plugins receive.
func validAnswer(q sdk.Question, v string) bool {
	switch q.Type {
	case sdk.YesNo, sdk.Approval:
		return v == "true" || v == "false"
	case sdk.Choice:
		return slices.Contains(q.Choices, v)
	}
	return true
}

// alternatives lists answers that differ from the default, one question at
// a time: the other yes-no value, every other choice. Approval questions
// are left alone: answering Cancel aborts the run before any plan counts.
func alternatives(questions []sdk.Question) []sdk.Answers {
	var out []sdk.Answers
	for _, q := range questions {
		var values []string
		switch q.Type {
		case sdk.YesNo:
			values = []string{"true", "false"}
		case sdk.Choice:
			values = q.Choices
		}
		for _, v := range values {
			if v != q.Default {
				out = append(out, sdk.Answers{q.Key: v})
			}
		}
	}
	return out
}

// checkPlan: plans are well formed and deterministic. The same host and
// answers give the same plan from Validate twice, from Confirm twice, from
// a second plugin instance, and from Validate and Confirm alike when every
// open question takes its default; the same holds under every other answer
// to a yes-no or choice question.
func checkPlan(t testing.TB, cfg Config) {
	h := newHost(t, cfg, true)
	in := h.start()
	in.init()
	pre, all := in.preAnswers(), in.allAnswers()
	// A mistake in every plan is reported once, for the first plan.
	reported := map[string]bool{}
	malformed := func(what string, plan []sdk.Action) {
		t.Helper()
		for _, e := range planErrors(plan) {
			if !reported[e] {
				reported[e] = true
				t.Errorf("%s: %s", what, e)
			}
		}
	}
	v1 := in.validate(pre).Plan
	malformed("validate", v1)
	samePlan(t, "validate, called twice", v1, in.validate(pre).Plan)
	c1 := in.confirm(all).Plan
	malformed("confirm", c1)
	samePlan(t, "confirm, called twice", c1, in.confirm(all).Plan)
	samePlan(t, "validate, and confirm with every open question at its default", v1, c1)

	second := h.start()
	second.init()
	samePlan(t, "validate on a second plugin instance (action IDs must be stable for the same host)", v1, second.validate(pre).Plan)

	if _, ok := in.impl.(sdk.Executor); !ok && (len(v1) > 0 || len(c1) > 0) {
		t.Errorf("the plugin plans actions but does not implement Execute: the core would fail on the first one")
	}

	for _, alt := range alternatives(in.questions) {
		label := answersText(alt)
		other := h.start()
		other.init()
		p, a := other.preAnswers(), other.allAnswers()
		for k, v := range alt {
			p[k], a[k] = v, v
		}
		v := other.validate(p).Plan
		malformed("validate with "+label, v)
		c := other.confirm(a).Plan
		malformed("confirm with "+label, c)
		samePlan(t, "validate and confirm with "+label, v, c)
	}
}

// planErrors says what is wrong with a plan: what the core refuses (no ID,
// duplicate IDs, unknown stage) and what makes it unreadable.
func planErrors(plan []sdk.Action) []string {
	var errs []string
	seen := map[string]bool{}
	for i, a := range plan {
		label := fmt.Sprintf("action %q", a.ID)
		switch {
		case a.ID == "":
			label = fmt.Sprintf("action %d (%q)", i, a.Description)
			errs = append(errs, label+" has no ID")
		case strings.TrimSpace(a.ID) != a.ID || strings.ContainsAny(a.ID, " \t\n"):
			errs = append(errs, label+" has blanks in its ID")
		case seen[a.ID]:
			errs = append(errs, label+" is planned twice")
		}
		seen[a.ID] = true
		if !a.Stage.Valid() {
			errs = append(errs, fmt.Sprintf("%s has stage %q, not one of stop, backup, remove, forget (an unknown stage arrives empty over the wire)", label, a.Stage))
		}
		if strings.TrimSpace(a.Description) == "" {
			errs = append(errs, label+" has no description")
		}
		for _, r := range a.Resources {
			if strings.TrimSpace(r) == "" {
				errs = append(errs, label+" names a blank resource")
			}
		}
	}
	return errs
}

func samePlan(t testing.TB, what string, want, got []sdk.Action) {
	t.Helper()
	if !reflect.DeepEqual(normalPlan(want), normalPlan(got)) {
		t.Errorf("%s gives different plans:\n%s\nthen:\n%s", what, planText(want), planText(got))
	}
}

// normalPlan makes nil and empty alike, as they are on the wire.
func normalPlan(plan []sdk.Action) []sdk.Action {
	out := make([]sdk.Action, 0, len(plan))
	for _, a := range plan {
		if len(a.Resources) == 0 {
			a.Resources = nil
		}
		out = append(out, a)
	}
	return out
}

func planText(plan []sdk.Action) string {
	if len(plan) == 0 {
		return "\t(empty plan)"
	}
	var b strings.Builder
	for i, a := range plan {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "\t%s [%s] %s %q", a.ID, a.Stage, a.Description, a.Resources)
	}
	return b.String()
}

func answersText(a sdk.Answers) string {
	var parts []string
	for _, k := range sortedKeys(a) {
		parts = append(parts, k+"="+a[k])
	}
	return strings.Join(parts, " ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkIdempotent: after a complete run, a new run finds nothing left to
// change and changes nothing, and executing the same actions again on the
// first instance fails none of them.
func checkIdempotent(t testing.TB, cfg Config) {
	if cfg.SkipCleanup {
		t.Skip("Config.SkipCleanup is set")
	}
	h := newHost(t, cfg, true)
	first := h.start()
	plan := first.approve("the first run")
	if len(plan) == 0 {
		t.Logf("the plan is empty: no action to repeat")
	}
	first.runAll(plan, "the first run")
	done := Snapshot(t, h.root)

	second := h.start()
	for _, e := range second.runAll(second.approve("a second run"), "a second run") {
		if e.resp.Changed {
			t.Errorf("a second run: action %s reports Changed=true (outcome %q): the first run should have left nothing to do", e.action.ID, e.resp.Outcome)
		}
	}
	for _, d := range Diff(done, Snapshot(t, h.root)) {
		t.Errorf("a second run changed the host: %s", d)
	}

	first.runAll(plan, "the first run's actions executed again")
}

// checkInterrupted: a run stopped after any action, then run again to the
// end, converges to the state of an uninterrupted run; no backup written
// before is lost or changed, and a further run finds nothing to change.
func checkInterrupted(t testing.TB, cfg Config) {
	if cfg.SkipCleanup {
		t.Skip("Config.SkipCleanup is set")
	}
	ref := newHost(t, cfg, true)
	r := ref.start()
	plan := byStage(r.approve("an uninterrupted run"))
	if len(plan) < 2 {
		t.Logf("the plan has fewer than two actions: there is no point to interrupt it at")
		return
	}
	refRun := r.runAll(plan, "an uninterrupted run")
	want := withoutBackups(t, Snapshot(t, ref.root), ref.root, backupsOf(refRun))

	for k := 1; k < len(plan); k++ {
		h := newHost(t, cfg, true)
		first := h.start()
		p := byStage(first.approve("a run to interrupt"))
		if len(p) <= k {
			t.Fatalf("plans differ between identical hosts: %d actions, then %d", len(plan), len(p))
		}
		stop := p[k-1].ID
		run1 := first.runAll(p[:k], "a run interrupted after "+stop)
		kept := backupEntries(t, h.root, backupsOf(run1))

		resumed := "a run resumed after an interruption after " + stop
		second := h.start()
		run2 := second.runAll(second.approve(resumed), resumed)
		for path, entry := range backupEntries(t, h.root, backupsOf(run2)) {
			if _, ok := kept[path]; !ok {
				kept[path] = entry
			}
		}

		third := h.start()
		further := "a further run after " + resumed
		run3 := third.runAll(third.approve(further), further)
		for _, e := range run3 {
			if e.resp.Changed {
				t.Errorf("interrupted after %s and resumed: a further run still changes something in action %s (outcome %q)", stop, e.action.ID, e.resp.Outcome)
			}
		}

		final := Snapshot(t, h.root)
		for path, entry := range kept {
			if now := final[path]; now != entry {
				t.Errorf("interrupted after %s and resumed: backup %s was lost or changed by a later run (%q, now %q): backups are never deleted", stop, path, entry, now)
			}
		}
		got := withoutBackups(t, final, h.root, backupsOf(run1, run2, run3))
		for _, d := range Diff(want, got) {
			t.Errorf("interrupted after %s and resumed, the host differs from an uninterrupted run (backups aside): %s", stop, d)
		}
	}
}

// backupEntries returns the snapshot entry of every backup, keyed by its
// path relative to root.
func backupEntries(t testing.TB, root string, backups []sdk.Backup) map[string]string {
	t.Helper()
	snap := Snapshot(t, root)
	out := map[string]string{}
	for _, b := range backups {
		if rel, ok := underRoot(root, b.Path); ok {
			out[rel] = snap[rel]
		}
	}
	return out
}

// withoutBackups drops backups from a snapshot: their names and content
// depend on the run that wrote them.
func withoutBackups(t testing.TB, snap map[string]string, root string, backups []sdk.Backup) map[string]string {
	t.Helper()
	out := make(map[string]string, len(snap))
	for k, v := range snap {
		out[k] = v
	}
	for _, b := range backups {
		if rel, ok := underRoot(root, b.Path); ok {
			delete(out, rel)
		}
	}
	return out
}

// checkBackups: every backup a complete run reports is a non-empty regular
// file under the root, readable by its owner only, and still there at the
// end of the run.
func checkBackups(t testing.TB, cfg Config) {
	if cfg.SkipCleanup {
		t.Skip("Config.SkipCleanup is set")
	}
	h := newHost(t, cfg, true)
	in := h.start()
	run := in.runAll(in.approve("a run"), "a run")
	n := 0
	for _, e := range run {
		for _, b := range e.resp.Backups {
			n++
			for _, msg := range backupErrors(h.root, b) {
				t.Errorf("action %s: backup %s %s", e.action.ID, b.Path, msg)
			}
		}
	}
	if n == 0 {
		t.Logf("a complete run reports no backup")
	}
}

func backupErrors(root string, b sdk.Backup) []string {
	var errs []string
	if strings.TrimSpace(b.Description) == "" {
		errs = append(errs, "has no description: the summary tells the administrator what it holds")
	}
	switch {
	case b.Path == "":
		return append(errs, "has no path")
	case !filepath.IsAbs(b.Path):
		return append(errs, "is not an absolute path")
	}
	if _, ok := underRoot(root, b.Path); !ok {
		errs = append(errs, "is outside the root "+root)
	}
	info, err := os.Lstat(b.Path)
	if err != nil {
		return append(errs, fmt.Sprintf("cannot be found at the end of the run: %v", err))
	}
	if !info.Mode().IsRegular() {
		return append(errs, fmt.Sprintf("is not a regular file (%s)", info.Mode()))
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		errs = append(errs, fmt.Sprintf("has mode %04o: a backup may hold secrets and must be readable by its owner only (0600)", perm))
	}
	if info.Size() == 0 {
		errs = append(errs, "is empty")
	}
	return errs
}

// checkUnknownAction: executing an action the plugin never planned is
// refused with a blocking problem in the response and changes nothing; an
// error would be reported as a crash of the plugin, and success would
// hide a core and plugin that disagree on the plan.
func checkUnknownAction(t testing.TB, cfg Config) {
	h := newHost(t, cfg, true)
	in := h.start()
	if _, ok := in.impl.(sdk.Executor); !ok {
		t.Skip("the plugin does not implement Execute")
	}
	in.init()
	in.validate(in.preAnswers())
	in.confirm(in.allAnswers())
	before := Snapshot(t, h.root)
	resp, err := in.execute(unknownActionID)
	switch {
	case err != nil:
		t.Errorf("executing unknown action %q returns an error (%v): refuse it with a blocking problem in the response instead", unknownActionID, err)
	case !sdk.HasBlocking(resp.Problems):
		t.Errorf("executing unknown action %q succeeds (Changed=%v, outcome %q, problems %q): it must be refused with a blocking problem",
			unknownActionID, resp.Changed, resp.Outcome, problemsText(resp.Problems))
	}
	for _, d := range Diff(before, Snapshot(t, h.root)) {
		t.Errorf("executing unknown action %q changed the host: %s", unknownActionID, d)
	}
}

// checkUnderRoot: the plugin finds the Setup host under the root, and a
// complete run, a second run and closeup change nothing outside the root;
// next to the root lies a copy of the Setup host and a sentinel file.
func checkUnderRoot(t testing.TB, cfg Config) {
	h := newHost(t, cfg, true)
	outside := Snapshot(t, h.outside)
	first := h.start()
	resp := first.init()
	if cfg.Setup != nil && !resp.Installed {
		t.Errorf("Setup populated the root, but init reports nothing installed: does the plugin resolve every path under Environment.Root?")
	}
	if cfg.SkipCleanup {
		first.validate(first.preAnswers())
		first.confirm(first.allAnswers())
		if _, err := first.closeup(sdk.CloseupRequest{Aborted: true}); err != nil {
			t.Errorf("closeup after an abort: %v", err)
		}
	} else {
		run := first.runAll(first.approveAfter("a run", resp), "a run")
		for _, b := range backupsOf(run) {
			if _, ok := underRoot(h.root, b.Path); !ok {
				t.Errorf("backup %s is outside the root %s", b.Path, h.root)
			}
		}
		if _, err := first.closeup(sdk.CloseupRequest{Succeeded: true, Executed: idsOf(run)}); err != nil {
			t.Errorf("closeup after success: %v", err)
		}
		second := h.start()
		second.runAll(second.approve("a second run"), "a second run")
	}
	for _, d := range Diff(outside, Snapshot(t, h.outside)) {
		t.Errorf("the run changed %s, outside the root: %s", h.outside, d)
	}
}

// checkCloseup: closeup answers, without an error and without changing the
// host, after an abort, after a failed action and after a complete run.
func checkCloseup(t testing.TB, cfg Config) {
	h := newHost(t, cfg, true)
	closeup := func(in *instance, what string, req sdk.CloseupRequest) {
		t.Helper()
		before := Snapshot(t, h.root)
		if _, err := in.closeup(req); err != nil {
			t.Errorf("closeup %s: %v", what, err)
		}
		for _, d := range Diff(before, Snapshot(t, h.root)) {
			t.Errorf("closeup %s changed the host: %s", what, d)
		}
	}

	aborted := h.start()
	aborted.init()
	aborted.validate(aborted.preAnswers())
	aborted.confirm(aborted.allAnswers())
	closeup(aborted, "after an abort", sdk.CloseupRequest{Aborted: true})

	failed := h.start()
	if plan := byStage(failed.approve("a run that fails")); len(plan) > 0 {
		closeup(failed, "after a failed action", sdk.CloseupRequest{FailedAction: plan[0].ID})
	}

	succeeded := h.start()
	plan := succeeded.approve("a run")
	var run []executed
	if !cfg.SkipCleanup {
		run = succeeded.runAll(plan, "a run")
	}
	closeup(succeeded, "after success", sdk.CloseupRequest{Succeeded: true, Executed: idsOf(run)})
}
