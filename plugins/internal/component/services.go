package component

import (
	"context"
	"fmt"
	"time"

	"github.com/engine-cleanup/engine-cleanup/plugins/services"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// StopTimeout bounds the wait for one service to stop.
const StopTimeout = 3 * time.Minute

// Services are a component's services that exist on the host.
type Services struct {
	mgr   services.Manager
	Units []services.Status
}

// ProbeServices finds which of names exist, read-only. override is the
// --service-manager choice.
func ProbeServices(ctx context.Context, override string, names []string) (*Services, error) {
	mgr, err := services.Open(ctx, override, sdk.Logger(ctx).Named("services"))
	if err != nil {
		return nil, err
	}
	s := &Services{mgr: mgr}
	for _, n := range names {
		st, err := mgr.Status(ctx, n)
		if err != nil {
			mgr.Close()
			return nil, fmt.Errorf("reading the state of %s: %w", n, err)
		}
		if st.Exists {
			s.Units = append(s.Units, st)
		}
	}
	return s, nil
}

// Active reports whether the named service exists and is active.
func (s *Services) Active(name string) bool {
	for _, u := range s.Units {
		if u.Unit == name || u.Unit == name+".service" {
			return u.Active
		}
	}
	return false
}

// Plan stops every existing service (stop stage) and disables those that
// are enabled and that disable accepts (remove stage).
func (s *Services) Plan(component string, plan *Plan, disable func(unit string) bool) {
	for _, st := range s.Units {
		unit := st.Unit
		plan.Add(sdk.Action{ID: component + ".stop." + unit, Stage: sdk.StageStop, Description: "Stop " + unit,
			Resources: []string{"service:" + unit}}, func(ctx context.Context, _ func(sdk.Progress)) sdk.ExecuteResponse {
			out, err := s.mgr.Stop(ctx, unit, StopTimeout)
			if err != nil {
				return Failed(err.Error(), "")
			}
			return sdk.ExecuteResponse{Changed: out.Result == services.ResultStopped, Outcome: string(out.Result)}
		})
	}
	for _, st := range s.Units {
		unit := st.Unit
		if !st.Enabled || (disable != nil && !disable(unit)) {
			continue
		}
		plan.Add(sdk.Action{ID: component + ".disable." + unit, Stage: sdk.StageRemove, Description: "Disable " + unit,
			Resources: []string{"service:" + unit}}, func(ctx context.Context, _ func(sdk.Progress)) sdk.ExecuteResponse {
			out, err := s.mgr.Disable(ctx, unit)
			if err != nil {
				return Failed(err.Error(), "")
			}
			return sdk.ExecuteResponse{Changed: out.Result == services.ResultDisabled, Outcome: string(out.Result)}
		})
	}
}

// Close releases the service manager connection.
func (s *Services) Close() {
	if s != nil && s.mgr != nil {
		s.mgr.Close()
	}
}
