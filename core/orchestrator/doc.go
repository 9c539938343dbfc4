// Package orchestrator runs engine-cleanup: it finds and launches the
// plugins, drives them through init, validate, confirm, cleanup and closeup,
// and reports the run on the console, in the log and as JSON.
//
// Safety lives here: init, validate and confirm change nothing; any blocking
// problem refuses the whole run before cleanup; cleanup runs stage by stage
// across every plugin and stops at the first failure; closeup runs whatever
// happened.
package orchestrator
