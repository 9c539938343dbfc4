package services

import (
	"context"
	"time"
)

// none is the Manager for --service-manager none, and for hosts where
// nothing manages services: it reports every unit as not installed and
// changes nothing.
type none struct{}

var _ Manager = none{}

const noneDetail = "service management disabled (--service-manager none)"

func (none) Kind() Kind { return KindNone }

func (none) Status(_ context.Context, unit string) (Status, error) {
	if err := checkName(unit); err != nil {
		return Status{}, err
	}
	return Status{Unit: unit, State: "unknown", EnablementState: "unknown"}, nil
}

func (none) Stop(_ context.Context, unit string, _ time.Duration) (Outcome, error) {
	if err := checkName(unit); err != nil {
		return Outcome{}, err
	}
	return Outcome{Unit: unit, Result: ResultSkipped, Detail: noneDetail}, nil
}

func (none) Disable(_ context.Context, unit string) (Outcome, error) {
	if err := checkName(unit); err != nil {
		return Outcome{}, err
	}
	return Outcome{Unit: unit, Result: ResultSkipped, Detail: noneDetail}, nil
}

func (none) Close() {}
