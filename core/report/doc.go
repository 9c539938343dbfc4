// Package report renders a run for people and for machines: Console prints
// stage headers, one line per action and the summary; Document is the one
// JSON document --json prints. Neither sees a secret: the orchestrator masks
// text before it gets here, and Console masks again on the way out.
package report
