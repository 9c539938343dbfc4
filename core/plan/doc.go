// Package plan orders plugins, merges their actions into one plan and runs
// it stage by stage.
//
// The order is the heart of the product's safety: every plugin's stop
// actions run first, then every backup, then every remove, then every
// forget, so nothing is destroyed before every backup is written and records
// go last. Within a stage, dependents run before what they depend on
// (reports, then dwh, then engine). When an action fails, nothing further
// runs.
package plan
