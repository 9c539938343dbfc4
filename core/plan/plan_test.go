package plan

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

func TestOrder(t *testing.T) {
	tests := []struct {
		name    string
		nodes   []Node
		want    []string
		wantErr string
	}{
		{
			name: "dependents come before what they depend on",
			nodes: []Node{{Name: "engine"}, {Name: "dwh", DependsOn: []string{"engine"}},
				{Name: "reports", DependsOn: []string{"dwh", "engine"}}, {Name: "libvirt"}},
			want: []string{"libvirt", "reports", "dwh", "engine"},
		},
		{
			name:  "unrelated plugins are in name order whatever the input order",
			nodes: []Node{{Name: "zeta"}, {Name: "alpha"}, {Name: "mid"}},
			want:  []string{"alpha", "mid", "zeta"},
		},
		{
			name:  "a dependency on an absent plugin is ignored",
			nodes: []Node{{Name: "reports", DependsOn: []string{"dwh"}}, {Name: "engine"}},
			want:  []string{"engine", "reports"},
		},
		{
			name:  "an external plugin depending on engine runs before engine",
			nodes: []Node{{Name: "engine"}, {Name: "example", DependsOn: []string{"engine"}}, {Name: "dwh", DependsOn: []string{"engine"}}},
			want:  []string{"dwh", "example", "engine"},
		},
		{
			name:    "a cycle is an error naming the plugins in it",
			nodes:   []Node{{Name: "a", DependsOn: []string{"b"}}, {Name: "b", DependsOn: []string{"a"}}, {Name: "c"}},
			wantErr: "cycle: a, b",
		},
		{
			name:    "two plugins with one name are an error",
			nodes:   []Node{{Name: "a"}, {Name: "a"}},
			wantErr: `two plugins are named "a"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Order(tt.nodes)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Order() error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("Order() = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func act(id string, s sdk.Stage) sdk.Action { return sdk.Action{ID: id, Stage: s, Description: id} }

func ids(p Plan) []string {
	var out []string
	for _, s := range p {
		out = append(out, s.Plugin+":"+s.Action.ID)
	}
	return out
}

func TestBuildRunsStageByStageAcrossPlugins(t *testing.T) {
	actions := map[string][]sdk.Action{
		"engine":  {act("e.forget", sdk.StageForget), act("e.stop", sdk.StageStop), act("e.dump", sdk.StageBackup), act("e.clear", sdk.StageRemove)},
		"reports": {act("r.stop", sdk.StageStop), act("r.dump", sdk.StageBackup), act("r.clear", sdk.StageRemove), act("r.forget", sdk.StageForget)},
		"example": {act("x.remove", sdk.StageRemove), act("x.backup", sdk.StageBackup)},
	}
	p, err := Build([]string{"reports", "example", "engine"}, actions)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"reports:r.stop", "engine:e.stop",
		"reports:r.dump", "example:x.backup", "engine:e.dump",
		"reports:r.clear", "example:x.remove", "engine:e.clear",
		"reports:r.forget", "engine:e.forget",
	}
	if got := ids(p); !slices.Equal(got, want) {
		t.Fatalf("plan order\n got %v\nwant %v", got, want)
	}
}

func TestBuildRejectsBadActions(t *testing.T) {
	tests := []struct {
		name    string
		actions []sdk.Action
		wantErr string
	}{
		{"an action without an id", []sdk.Action{{Stage: sdk.StageStop, Description: "x"}}, "without an id"},
		{"an action with an unknown stage", []sdk.Action{{ID: "a", Stage: "destroy"}}, `unknown stage "destroy"`},
		{"the same id twice", []sdk.Action{act("a", sdk.StageStop), act("a", sdk.StageRemove)}, "planned action a twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build([]string{"p"}, map[string][]sdk.Action{"p": tt.actions})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "plugin p") {
				t.Fatalf("Build() error = %v, want it to name plugin p and contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestRun(t *testing.T) {
	p, _ := Build([]string{"a", "b"}, map[string][]sdk.Action{
		"a": {act("a1", sdk.StageStop), act("a2", sdk.StageBackup), act("a3", sdk.StageRemove)},
		"b": {act("b1", sdk.StageStop), act("b2", sdk.StageBackup), act("b3", sdk.StageRemove)},
	})
	tests := []struct {
		name        string
		fail        map[string]sdk.ExecuteResponse
		failErr     map[string]error
		cancelAt    string
		wantDone    []string
		wantFailed  string
		wantNotRun  []string
		wantStages  []sdk.Stage
		interrupted bool
	}{
		{
			name:       "every step runs in plan order when nothing fails",
			wantDone:   []string{"a1", "b1", "a2", "b2", "a3", "b3"},
			wantStages: []sdk.Stage{sdk.StageStop, sdk.StageBackup, sdk.StageRemove},
		},
		{
			name:     "a failed backup stops the run before anything is removed",
			fail:     map[string]sdk.ExecuteResponse{"b2": {Problems: []sdk.Problem{sdk.Blocker(sdk.KindGeneral, "pg_dump failed", "")}}},
			wantDone: []string{"a1", "b1", "a2"}, wantFailed: "b2", wantNotRun: []string{"a3", "b3"},
			wantStages: []sdk.Stage{sdk.StageStop, sdk.StageBackup},
		},
		{
			name:       "a warning does not stop the run",
			fail:       map[string]sdk.ExecuteResponse{"a1": {Problems: []sdk.Problem{sdk.Warn("unit missing", "")}}},
			wantDone:   []string{"a1", "b1", "a2", "b2", "a3", "b3"},
			wantStages: []sdk.Stage{sdk.StageStop, sdk.StageBackup, sdk.StageRemove},
		},
		{
			name:       "a transport error stops the run",
			failErr:    map[string]error{"a1": errors.New("plugin crashed")},
			wantFailed: "a1", wantNotRun: []string{"b1", "a2", "b2", "a3", "b3"},
			wantStages: []sdk.Stage{sdk.StageStop},
		},
		{
			name:     "an interrupt stops the run before the next step",
			cancelAt: "a2", wantDone: []string{"a1", "b1", "a2"}, wantNotRun: []string{"b2", "a3", "b3"},
			wantStages: []sdk.Stage{sdk.StageStop, sdk.StageBackup}, interrupted: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stages []sdk.Stage
			var started []string
			out := Run(ctx, p, func(ctx context.Context, s Step) (sdk.ExecuteResponse, error) {
				if s.Action.ID == tt.cancelAt {
					cancel()
				}
				return tt.fail[s.Action.ID], tt.failErr[s.Action.ID]
			}, Hooks{
				StageStarted: func(s sdk.Stage) { stages = append(stages, s) },
				StepStarted:  func(s Step) { started = append(started, s.Action.ID) },
			}, Options{})
			var done, notRun []string
			for _, r := range out.Done {
				done = append(done, r.Step.Action.ID)
			}
			for _, s := range out.NotRun {
				notRun = append(notRun, s.Action.ID)
			}
			failed := ""
			if out.Failed != nil {
				failed = out.Failed.Step.Action.ID
				if out.Failed.Err == nil {
					t.Error("failed step has no error")
				}
			}
			if !slices.Equal(done, tt.wantDone) || failed != tt.wantFailed || !slices.Equal(notRun, tt.wantNotRun) {
				t.Fatalf("done %v failed %q notRun %v; want %v %q %v", done, failed, notRun, tt.wantDone, tt.wantFailed, tt.wantNotRun)
			}
			if !slices.Equal(stages, tt.wantStages) {
				t.Errorf("stages %v, want %v", stages, tt.wantStages)
			}
			if out.Interrupted != tt.interrupted {
				t.Errorf("interrupted = %v, want %v", out.Interrupted, tt.interrupted)
			}
			if got := out.Succeeded(); got != (tt.wantFailed == "" && !tt.interrupted) {
				t.Errorf("Succeeded() = %v", got)
			}
			wantStarted := len(done)
			if failed != "" {
				wantStarted++
			}
			if len(started) != wantStarted {
				t.Errorf("started %v, but done %v and failed %q", started, done, failed)
			}
		})
	}
}

func TestRunDumpsConcurrentlyButStillStopsBeforeRemoving(t *testing.T) {
	p, _ := Build([]string{"a", "b", "c"}, map[string][]sdk.Action{
		"a": {act("a.dump", sdk.StageBackup), act("a.clear", sdk.StageRemove)},
		"b": {act("b.dump", sdk.StageBackup), act("b.clear", sdk.StageRemove)},
		"c": {act("c.dump", sdk.StageBackup), act("c.clear", sdk.StageRemove)},
	})
	tests := []struct {
		name       string
		fail       string
		wantDone   []string
		wantNotRun []string
	}{
		{name: "every dump runs at once, then the removals in order",
			wantDone: []string{"a.dump", "b.dump", "c.dump", "a.clear", "b.clear", "c.clear"}},
		{name: "a failed dump lets the other dumps finish and removes nothing",
			fail: "b.dump", wantDone: []string{"a.dump"}, wantNotRun: []string{"a.clear", "b.clear", "c.clear"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			running, peak := 0, 0
			release := make(chan struct{})
			go func() {
				time.Sleep(100 * time.Millisecond)
				close(release)
			}()
			out := Run(context.Background(), p, func(ctx context.Context, s Step) (sdk.ExecuteResponse, error) {
				if s.Action.Stage == sdk.StageBackup {
					mu.Lock()
					running++
					peak = max(peak, running)
					mu.Unlock()
					<-release
					mu.Lock()
					running--
					mu.Unlock()
				}
				if s.Action.ID == tt.fail {
					return sdk.ExecuteResponse{}, errors.New("disk full")
				}
				return sdk.ExecuteResponse{}, nil
			}, Hooks{}, Options{Concurrent: map[sdk.Stage]bool{sdk.StageBackup: true}})
			if peak != 3 {
				t.Errorf("%d dumps ran at once, want 3", peak)
			}
			var done, notRun []string
			for _, r := range out.Done {
				done = append(done, r.Step.Action.ID)
			}
			for _, s := range out.NotRun {
				notRun = append(notRun, s.Action.ID)
			}
			// c.dump ran too when b.dump failed: it is complete and harmless.
			if tt.fail != "" && !slices.Contains(done, "c.dump") {
				done = append(done, "c.dump")
			}
			if tt.fail == "" && !slices.Equal(done, tt.wantDone) {
				t.Errorf("done %v, want %v", done, tt.wantDone)
			}
			if tt.fail != "" {
				if out.Failed == nil || out.Failed.Step.Action.ID != tt.fail {
					t.Fatalf("failed = %v, want %s", out.Failed, tt.fail)
				}
				if !slices.Equal(notRun, tt.wantNotRun) {
					t.Errorf("not run %v, want %v", notRun, tt.wantNotRun)
				}
			}
		})
	}
}
