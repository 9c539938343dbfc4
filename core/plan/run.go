package plan

import (
	"context"
	"fmt"
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

// Hooks let a caller report progress. Any may be nil.
type Hooks struct {
	StageStarted func(sdk.Stage)
	StepStarted  func(Step)
	StepFinished func(Result)
}

// ExecuteFunc executes one step.
type ExecuteFunc func(ctx context.Context, step Step) (sdk.ExecuteResponse, error)

// Run executes the plan in order and stops at the first failure or when ctx
// ends; what did not run is listed in the outcome.
func Run(ctx context.Context, p Plan, execute ExecuteFunc, hooks Hooks) Outcome {
	var out Outcome
	stage := sdk.Stage("")
	for i, step := range p {
		if ctx.Err() != nil {
			out.Interrupted = true
			out.NotRun = append(out.NotRun, p[i:]...)
			return out
		}
		if step.Action.Stage != stage {
			stage = step.Action.Stage
			if hooks.StageStarted != nil {
				hooks.StageStarted(stage)
			}
		}
		if hooks.StepStarted != nil {
			hooks.StepStarted(step)
		}
		begin := time.Now()
		resp, err := execute(ctx, step)
		if err == nil && sdk.HasBlocking(resp.Problems) {
			err = fmt.Errorf("%s", firstBlocking(resp.Problems))
		}
		res := Result{Step: step, Response: resp, Err: err, Duration: time.Since(begin)}
		if hooks.StepFinished != nil {
			hooks.StepFinished(res)
		}
		if err != nil {
			out.Failed = &res
			out.Interrupted = ctx.Err() != nil
			out.NotRun = append(out.NotRun, p[i+1:]...)
			return out
		}
		out.Done = append(out.Done, res)
	}
	return out
}

func firstBlocking(problems []sdk.Problem) string {
	for _, p := range problems {
		if p.Severity == sdk.Blocking {
			return p.String()
		}
	}
	return ""
}
