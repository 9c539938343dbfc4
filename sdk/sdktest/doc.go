// Package sdktest is the conformance kit for engine-cleanup plugins: one
// suite that every plugin, built-in or external, runs in its own tests to
// show that the core can drive it safely.
//
// An author calls Run from a test, with a constructor for fresh plugin
// values and a Setup that lays out, under a temporary root, a host with the
// component installed:
//
//	func TestConformance(t *testing.T) {
//		sdktest.Run(t, sdktest.Config{
//			New: func() sdk.Plugin { return &myPlugin{} },
//			Setup: func(t testing.TB, root string) {
//				for name, content := range map[string]string{
//					"etc/my-app/my-app.conf": "installed=true\n",
//					"var/lib/my-app/data.db": "data\n",
//				} {
//					p := filepath.Join(root, name)
//					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
//						t.Fatal(err)
//					}
//					if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
//						t.Fatal(err)
//					}
//				}
//			},
//		})
//	}
//
// Run drives the plugin through the SDK's real gRPC adapters, in process,
// so that everything it returns crosses the wire format as it would reach
// the core, and runs one subtest per requirement:
//
//   - info is valid: a valid name, a version, a description, the phases
//     the plugin implements, valid dependencies, otopi answer keys.
//   - an empty host has nothing to clean: not installed, no question, an
//     empty plan, no blocking problem, nothing written.
//   - init and validate change nothing: nor do confirm and closeup after
//     an abort; the whole root tree is compared before and after each.
//   - questions are well formed: keys prefixed with the plugin name, a
//     prompt, a known type, a default that fits it, answer keys listed in
//     Info; Config.Answers fits the questions.
//   - the plan is stable and well formed: IDs, stages and descriptions; the
//     same plan from Validate twice, Confirm twice, a second instance, and
//     Validate and Confirm alike at the defaults, under every answer to a
//     yes-no or choice question.
//   - cleanup is idempotent: after a complete run, a new run changes
//     nothing and repeating the actions fails none of them.
//   - an interrupted cleanup converges when run again: stopped after any
//     action and resumed, the host ends as an uninterrupted run leaves it,
//     and no earlier backup is lost.
//   - backups are complete and private: each is a non-empty regular file
//     under the root, mode 0600 or stricter.
//   - an unknown action is refused: with a blocking problem, not an error
//     and not success.
//   - paths stay under the root: the Setup host is found under the root,
//     and nothing next to the root changes.
//   - closeup answers after success and after abort: and after a failed
//     action, without an error and without changing the host.
//
// Each check starts new plugin values on a new host, so checks are
// independent; every check can fail, and says which phase, action or path
// is at fault. A plugin that implements only some phases is checked on
// those; without Confirm the kit calls Validate again, as the core does,
// and only logs that the plugin declares questions without Confirm.
//
// The host is a fresh directory standing for "/" (Environment.Root). Next
// to it the kit keeps a directory holding a sentinel file and a second copy
// of the Setup host, which no run may change. Every instance gets its own
// RunID, and ServiceManager "none" and LibvirtURI "test:///default" unless
// Config.Environment says otherwise, so a conformance run never reaches
// the services of the machine that runs it. Questions take their defaults
// unless Config.Answers answers them.
//
// Snapshot and Diff, which the checks use to prove that nothing changed,
// are exported for plugin tests of their own.
package sdktest
