package report

import (
	"encoding/json"
	"io"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// Document describes a whole run. Its field names are part of the product's
// interface for automation: add fields, never rename them.
type Document struct {
	Version string `json:"version"`
	// DurationMS is the whole run, from start to the end of closeup.
	DurationMS int64      `json:"duration_ms"`
	ExitCode   int        `json:"exit_code"`
	Status     string     `json:"status"`
	Message    string     `json:"message,omitempty"`
	Changed    bool       `json:"changed"`
	DryRun     bool       `json:"dry_run"`
	Root       string     `json:"root"`
	LogFile    string     `json:"log_file,omitempty"`
	AnswerFile string     `json:"answer_file,omitempty"`
	Plugins    []Plugin   `json:"plugins"`
	Problems   []Problem  `json:"problems"`
	Answers    []Answer   `json:"answers"`
	Plan       []Action   `json:"plan"`
	Actions    []Executed `json:"actions"`
	Backups    []Backup   `json:"backups"`
	Notes      []Note     `json:"notes"`
}

// Statuses of a run.
const (
	StatusSucceeded     = "succeeded"
	StatusNothingToDo   = "nothing-to-clean"
	StatusDryRun        = "dry-run"
	StatusRefused       = "refused"
	StatusAborted       = "aborted"
	StatusFailed        = "failed"
	StatusInterrupted   = "interrupted"
	StatusUsageError    = "usage-error"
	StatusPluginsListed = "listed"
)

// Plugin is a plugin as the run saw it.
type Plugin struct {
	Name        string      `json:"name"`
	Source      string      `json:"source"`
	Version     string      `json:"version,omitempty"`
	Protocol    int         `json:"protocol,omitempty"`
	Phases      []sdk.Phase `json:"phases"`
	Path        string      `json:"path"`
	SHA256      string      `json:"sha256,omitempty"`
	Status      string      `json:"status"`
	Reason      string      `json:"reason,omitempty"`
	Description string      `json:"description,omitempty"`
	Installed   bool        `json:"installed"`
	Findings    []string    `json:"findings,omitempty"`
	Shadows     []string    `json:"shadows,omitempty"`
	Stderr      []string    `json:"stderr,omitempty"`
	Started     string      `json:"start_time,omitempty"`
}

// Problem is a problem with the plugin and phase that reported it.
type Problem struct {
	Plugin   string       `json:"plugin"`
	Phase    string       `json:"phase"`
	Severity sdk.Severity `json:"severity"`
	Kind     string       `json:"kind,omitempty"`
	Message  string       `json:"message"`
	Remedy   string       `json:"remedy,omitempty"`
	File     string       `json:"file,omitempty"`
	Line     int          `json:"line,omitempty"`
}

// NewProblem locates p at plugin and phase.
func NewProblem(plugin, phase string, p sdk.Problem) Problem {
	return Problem{Plugin: plugin, Phase: phase, Severity: p.Severity, Kind: string(p.Kind), Message: p.Message,
		Remedy: p.Remedy, File: p.File, Line: p.Line}
}

// Text renders the problem on one line: plugin, what is wrong, what to do.
func (p Problem) Text() string {
	sp := sdk.Problem{Message: p.Message, Remedy: p.Remedy, File: p.File, Line: p.Line}
	return p.Plugin + ": " + sp.String()
}

// Answer is an answer the run used. Value is masked for secrets.
type Answer struct {
	Plugin    string `json:"plugin"`
	Key       string `json:"key"`
	AnswerKey string `json:"answer_key,omitempty"`
	Value     string `json:"value"`
	Source    string `json:"source"`
}

// Action is one step of the plan.
type Action struct {
	Plugin      string    `json:"plugin"`
	ID          string    `json:"id"`
	Stage       sdk.Stage `json:"stage"`
	Description string    `json:"description"`
	Resources   []string  `json:"resources,omitempty"`
}

// Executed is what happened to one step.
type Executed struct {
	Action
	Status  string `json:"status"` // done, failed, not-run
	Changed bool   `json:"changed"`
	// StartedMS is when the action started, from the start of the run.
	StartedMS int64 `json:"started_ms"`
	// DurationMS is how long the action took, round trip included.
	DurationMS int64  `json:"duration_ms"`
	Outcome    string `json:"outcome,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Backup is a backup file written by a plugin.
type Backup struct {
	Plugin      string `json:"plugin"`
	Path        string `json:"path"`
	Description string `json:"description,omitempty"`
}

// Note is a line of the summary.
type Note struct {
	Plugin string `json:"plugin"`
	Text   string `json:"text"`
}

// Encode writes the document as indented JSON, masking secrets.
func (d *Document) Encode(w io.Writer, mask func(string) string) error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, mask(string(b))+"\n")
	return err
}

// Normalize replaces nil slices by empty ones so that consumers always see
// arrays.
func (d *Document) Normalize() {
	if d.Plugins == nil {
		d.Plugins = []Plugin{}
	}
	if d.Problems == nil {
		d.Problems = []Problem{}
	}
	if d.Answers == nil {
		d.Answers = []Answer{}
	}
	if d.Plan == nil {
		d.Plan = []Action{}
	}
	if d.Actions == nil {
		d.Actions = []Executed{}
	}
	if d.Backups == nil {
		d.Backups = []Backup{}
	}
	if d.Notes == nil {
		d.Notes = []Note{}
	}
	for i := range d.Plugins {
		if d.Plugins[i].Phases == nil {
			d.Plugins[i].Phases = []sdk.Phase{}
		}
	}
}
