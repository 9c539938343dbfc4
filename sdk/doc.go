// Package sdk is everything a plugin author needs to extend engine-cleanup:
// the phase interfaces, the request and response types, Serve, and the
// client and server adapters of the gRPC protocol.
//
// A plugin is an executable named engine-cleanup-plugin-<name> whose main
// calls Serve. The core launches it with hashicorp/go-plugin, asks for its
// Info, and then drives it through the phases:
//
//	init      detect what is installed; no side effects
//	validate  report problems, declare questions, build a plan; no side effects
//	confirm   receive the answers, return the final plan; no side effects
//	cleanup   execute the approved actions one at a time, stage by stage
//	closeup   contribute notes to the summary
//
// Only Info is mandatory; a plugin implements the phases it needs through the
// optional interfaces Initializer, Validator, Confirmer, Executor and Closer,
// and Serve advertises exactly those. Domain failures are Problems in a
// response, never Go errors: an error returned from a phase is reported as a
// plugin failure.
//
// Plugins never touch the terminal and never write to stdout. They log with
// the hclog logger that Logger returns, which reaches the core's log file
// named after the plugin; every secret registered with Redact is masked
// before a log line leaves the process.
package sdk
