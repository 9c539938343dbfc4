package reports_test

import (
	"testing"

	"github.com/engine-cleanup/engine-cleanup/plugins/reports"
	"github.com/engine-cleanup/engine-cleanup/sdk/sdktest"
)

// TestConformance runs the SDK's conformance kit without a Setup: the plugin
// is still a placeholder that refuses any host where its records exist, so
// the kit checks its info and that, on a host without the component, it
// finds nothing, plans nothing and changes nothing.
func TestConformance(t *testing.T) {
	sdktest.Run(t, sdktest.Config{New: reports.New})
}
