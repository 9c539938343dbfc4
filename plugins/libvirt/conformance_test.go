package libvirt_test

import (
	"testing"

	"github.com/engine-cleanup/engine-cleanup/plugins/libvirt"
	"github.com/engine-cleanup/engine-cleanup/sdk/sdktest"
)

// TestConformance runs the SDK's conformance kit on a host without the
// component (in every build, with or without cgo): the plugin finds
// nothing, plans nothing and changes nothing, although libvirt's test
// driver holds a domain of its own ("test"). TestConformanceWithDomains
// runs it on hosts with recorded domains.
func TestConformance(t *testing.T) {
	sdktest.Run(t, sdktest.Config{New: libvirt.New})
}
