package plan

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// Result is what happened to one step.
type Result struct {
	Step     Step
	Response sdk.ExecuteResponse
	// Err is set when the step failed: a transport failure, or a blocking
	// problem in the response.
	Err error
	// Duration is how long the step took, round trip included.
	Duration time.Duration
	// ran is true when the step was executed.
	ran bool
}

// Outcome is what a run of a plan did.
type Outcome struct {
	Done   []Result
	Failed *Result
	// NotRun are the steps never started, in plan order.
	NotRun []Step
	// Interrupted is true when the context ended the run.
	Interrupted bool
}

// Succeeded reports whether every step ran and none failed.
func (o Outcome) Succeeded() bool { return o.Failed == nil && !o.Interrupted && len(o.NotRun) == 0 }

// Hooks let a caller report progress. Any may be nil. StepStarted and
// StepFinished may be called from several goroutines at once for a stage
// that runs concurrently.
type Hooks struct {
	StageStarted func(sdk.Stage)
	StepStarted  func(Step)
	StepFinished func(Result)
}

// ExecuteFunc executes one step.
type ExecuteFunc func(ctx context.Context, step Step) (sdk.ExecuteResponse, error)

// Options tune Run.
type Options struct {
	// Concurrent stages run their steps at the same time, up to Limit at
	// once. Only a stage whose steps are independent and not destructive
	// belongs here: the backup stage, so that several databases are dumped
	// at once. A failure still stops the run after the stage.
	Concurrent map[sdk.Stage]bool
	Limit      int
}

// Run executes the plan in order and stops at the first failure or when ctx
// ends; what did not run is listed in the outcome.
func Run(ctx context.Context, p Plan, execute ExecuteFunc, hooks Hooks, opts Options) Outcome {
	var out Outcome
	for start := 0; start < len(p); {
		stage := p[start].Action.Stage
		end := start
		for end < len(p) && p[end].Action.Stage == stage {
			end++
		}
		if ctx.Err() != nil {
			out.Interrupted = true
			out.NotRun = append(out.NotRun, p[start:]...)
			return out
		}
		if hooks.StageStarted != nil {
			hooks.StageStarted(stage)
		}
		var results []Result
		if opts.Concurrent[stage] && end-start > 1 {
			results = runConcurrently(ctx, p[start:end], execute, hooks, opts.Limit)
		} else {
			results = runInOrder(ctx, p[start:end], execute, hooks)
		}
		stopped := false
		for i, res := range results {
			switch {
			case !res.ran:
				out.NotRun = append(out.NotRun, res.Step)
				stopped = true
			case res.Err != nil && out.Failed == nil:
				out.Failed = &results[i]
				stopped = true
			case res.Err != nil:
				// A second failure in a concurrent stage: reported by the
				// hook, the run stops at the first.
			default:
				out.Done = append(out.Done, res)
			}
		}
		if stopped {
			out.Interrupted = ctx.Err() != nil
			out.NotRun = append(out.NotRun, p[end:]...)
			return out
		}
		start = end
	}
	return out
}

func runStep(ctx context.Context, step Step, execute ExecuteFunc, hooks Hooks) Result {
	if hooks.StepStarted != nil {
		hooks.StepStarted(step)
	}
	begin := time.Now()
	resp, err := execute(ctx, step)
	if err == nil && sdk.HasBlocking(resp.Problems) {
		err = fmt.Errorf("%s", firstBlocking(resp.Problems))
	}
	res := Result{Step: step, Response: resp, Err: err, Duration: time.Since(begin), ran: true}
	if hooks.StepFinished != nil {
		hooks.StepFinished(res)
	}
	return res
}

// runInOrder runs steps one after another and stops at the first failure
// or when ctx ends; the steps after it are returned without having run.
func runInOrder(ctx context.Context, steps Plan, execute ExecuteFunc, hooks Hooks) []Result {
	results := make([]Result, len(steps))
	for i, step := range steps {
		results[i] = Result{Step: step}
	}
	for i, step := range steps {
		if ctx.Err() != nil {
			return results
		}
		results[i] = runStep(ctx, step, execute, hooks)
		if results[i].Err != nil {
			return results
		}
	}
	return results
}

// runConcurrently runs every step of a stage at once (up to limit) and
// returns the results in plan order. A failure does not cancel the others:
// they are backups, and a complete backup is never harmful.
func runConcurrently(ctx context.Context, steps Plan, execute ExecuteFunc, hooks Hooks, limit int) []Result {
	if limit <= 0 {
		limit = len(steps)
	}
	results := make([]Result, len(steps))
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i, step := range steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				results[i] = Result{Step: step}
				return
			}
			results[i] = runStep(ctx, step, execute, hooks)
		}()
	}
	wg.Wait()
	return results
}

func firstBlocking(problems []sdk.Problem) string {
	for _, p := range problems {
		if p.Severity == sdk.Blocking {
			return p.String()
		}
	}
	return ""
}
