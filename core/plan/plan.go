package plan

import (
	"fmt"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// Step is one action of one plugin.
type Step struct {
	Plugin string
	Action sdk.Action
}

// Plan is every step of a run in execution order.
type Plan []Step

// Build merges the plugins' actions into one plan: stage by stage, plugins in
// order within a stage, each plugin's actions in the order it gave them.
// It rejects actions without a valid stage or ID, and duplicate IDs within a
// plugin, naming the plugin.
func Build(order []string, actions map[string][]sdk.Action) (Plan, error) {
	for _, name := range order {
		seen := map[string]bool{}
		for _, a := range actions[name] {
			if a.ID == "" {
				return nil, fmt.Errorf("plugin %s planned an action without an id: %q", name, a.Description)
			}
			if !a.Stage.Valid() {
				return nil, fmt.Errorf("plugin %s planned action %s with unknown stage %q", name, a.ID, a.Stage)
			}
			if seen[a.ID] {
				return nil, fmt.Errorf("plugin %s planned action %s twice", name, a.ID)
			}
			seen[a.ID] = true
		}
	}
	var p Plan
	for _, stage := range sdk.Stages {
		for _, name := range order {
			for _, a := range actions[name] {
				if a.Stage == stage {
					p = append(p, Step{Plugin: name, Action: a})
				}
			}
		}
	}
	return p, nil
}

// Stage returns the steps of one stage.
func (p Plan) Stage(s sdk.Stage) Plan {
	var out Plan
	for _, st := range p {
		if st.Action.Stage == s {
			out = append(out, st)
		}
	}
	return out
}
