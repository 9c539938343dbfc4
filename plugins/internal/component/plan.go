package component

import (
	"context"
	"sort"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// Handler executes one planned action, deciding from the current state of
// the host so that running it again is harmless.
type Handler func(ctx context.Context, progress func(sdk.Progress)) sdk.ExecuteResponse

// Plan is a plugin's plan: its actions and how to execute each.
type Plan struct {
	actions  []sdk.Action
	handlers map[string]Handler
}

// Add appends an action and its handler.
func (p *Plan) Add(a sdk.Action, h Handler) {
	if p.handlers == nil {
		p.handlers = map[string]Handler{}
	}
	p.actions = append(p.actions, a)
	p.handlers[a.ID] = h
}

// Actions returns the actions stage by stage, each stage in the order its
// actions were added.
func (p *Plan) Actions() []sdk.Action {
	out := append([]sdk.Action(nil), p.actions...)
	sort.SliceStable(out, func(i, j int) bool { return stageIndex(out[i].Stage) < stageIndex(out[j].Stage) })
	return out
}

func stageIndex(s sdk.Stage) int {
	for i, v := range sdk.Stages {
		if v == s {
			return i
		}
	}
	return len(sdk.Stages)
}

// Execute runs the action with the given ID; an unknown ID is refused.
func (p *Plan) Execute(ctx context.Context, req sdk.ExecuteRequest) sdk.ExecuteResponse {
	h, ok := p.handlers[req.ActionID]
	if !ok {
		return Failed("unknown action "+req.ActionID, "report this to the engine-cleanup developers")
	}
	sdk.Logger(ctx).Info("executing", "action", req.ActionID)
	return h(ctx, req.Progress)
}

// Failed is the response of an action that could not be done.
func Failed(message, remedy string) sdk.ExecuteResponse {
	if remedy == "" {
		remedy = "fix the cause and run engine-cleanup again"
	}
	return sdk.ExecuteResponse{Problems: []sdk.Problem{sdk.Blocker(sdk.KindGeneral, message, remedy)}}
}

// Wants returns the answer to a yes-no question, or its default (Yes) when
// it is not answered yet.
func Wants(a sdk.Answers, key string) bool {
	v, ok := a.Bool(key)
	return !ok || v
}

// SeqII is a blocking problem of the sequence-II kind: something was set up
// that cannot be cleaned because the record that locates it is gone,
// unreadable or contradictory.
func SeqII(file string, line int, message, remedy string) sdk.Problem {
	return sdk.Blocker(sdk.KindSequenceIIImpossible, message, remedy).At(file, line)
}
