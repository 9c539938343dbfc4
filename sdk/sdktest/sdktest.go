package sdktest

import (
	"testing"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// Config says how to run the conformance checks against one plugin.
type Config struct {
	// New returns a fresh plugin value. Every check, and every simulated
	// run within a check, gets its own: plugins keep state between phases.
	New func() sdk.Plugin
	// Setup populates root as a host with the component installed, in a
	// state the plugin can clean, and may fail t. It is called on fresh
	// empty directories: the root of every host, and a decoy next to it.
	// Nil means an empty host, on which most checks have little to
	// exercise.
	Setup func(t testing.TB, root string)
	// Answers answers questions by key for the checks that confirm and
	// clean; every question not in it takes its default, as with -u. A
	// question without a default (a password, say) needs an answer here.
	Answers sdk.Answers
	// SkipCleanup skips the checks that execute planned actions, for a
	// plugin whose cleanup needs real services. Discouraged: those checks
	// are the ones that prove a run can be repeated and resumed. An
	// unknown action is still tried: refusing it needs no service.
	SkipCleanup bool
	// Environment is the template of what every plugin instance is told.
	// Root and RunID are set by the kit; an empty ServiceManager becomes
	// "none" and an empty LibvirtURI "test:///default", so that a
	// conformance run never reaches the real services or domains of the
	// machine running the tests.
	Environment sdk.Environment
}

// Run runs every conformance check against the plugin cfg describes, each
// as a subtest named after what it requires. The plugin is driven through
// the SDK's real gRPC adapters, in process, so what it returns crosses the
// wire format exactly as it would reach the core.
func Run(t *testing.T, cfg Config) {
	t.Helper()
	if cfg.New == nil {
		t.Fatal("sdktest: Config.New is nil")
	}
	for _, c := range checks() {
		t.Run(c.name, func(t *testing.T) { c.run(t, cfg) })
	}
}

// check is one conformance requirement. It reports through testing.TB so
// that the kit's own tests can run it against a recorder.
type check struct {
	name string
	run  func(t testing.TB, cfg Config)
}

// checks lists the requirements in the order Run runs them.
func checks() []check {
	return []check{
		{"info is valid", checkInfo},
		{"an empty host has nothing to clean", checkEmptyHost},
		{"init and validate change nothing", checkNoSideEffects},
		{"questions are well formed", checkQuestions},
		{"the plan is stable and well formed", checkPlan},
		{"cleanup is idempotent", checkIdempotent},
		{"an interrupted cleanup converges when run again", checkInterrupted},
		{"backups are complete and private", checkBackups},
		{"an unknown action is refused", checkUnknownAction},
		{"paths stay under the root", checkUnderRoot},
		{"closeup answers after success and after abort", checkCloseup},
	}
}
