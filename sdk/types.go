package sdk

import (
	"fmt"
	"regexp"
	"strings"
)

// Phase is one of the five phases the core runs.
type Phase string

// The phases, in the order the core runs them.
const (
	PhaseInit     Phase = "init"
	PhaseValidate Phase = "validate"
	PhaseConfirm  Phase = "confirm"
	PhaseCleanup  Phase = "cleanup"
	PhaseCloseup  Phase = "closeup"
)

// Phases lists every phase in execution order.
var Phases = []Phase{PhaseInit, PhaseValidate, PhaseConfirm, PhaseCleanup, PhaseCloseup}

// Stage is the step of the cleanup phase an action belongs to. The core runs
// every plugin's stop actions, then every backup, then every remove, then
// every forget, so nothing is destroyed before every backup is written and
// records are removed last.
type Stage string

// The stages, in the order the core runs them.
const (
	StageStop   Stage = "stop"
	StageBackup Stage = "backup"
	StageRemove Stage = "remove"
	StageForget Stage = "forget"
)

// Stages lists every stage in execution order.
var Stages = []Stage{StageStop, StageBackup, StageRemove, StageForget}

// Valid reports whether s is one of the four stages.
func (s Stage) Valid() bool {
	for _, v := range Stages {
		if s == v {
			return true
		}
	}
	return false
}

// Severity says whether a problem stops the run.
type Severity string

// Severities. A blocking problem found before cleanup makes the core refuse
// the whole run; a warning is shown and the run goes on.
const (
	Warning  Severity = "warning"
	Blocking Severity = "blocking"
)

// ProblemKind classifies a problem beyond its severity.
type ProblemKind string

// Problem kinds.
const (
	// KindGeneral is any problem without a more specific kind.
	KindGeneral ProblemKind = ""
	// KindSequenceIIImpossible marks a host where something was installed
	// that cannot be cleaned because the record locating it is gone,
	// unreadable or contradictory.
	KindSequenceIIImpossible ProblemKind = "sequence-ii-impossible"
	// KindLeftover marks something found without a record that describes
	// it; it is reported and left alone.
	KindLeftover ProblemKind = "leftover"
)

// Problem is something a plugin found wrong. Message says what is wrong and
// where; Remedy says what the administrator can do about it.
type Problem struct {
	Severity Severity
	Kind     ProblemKind
	Message  string
	Remedy   string
	// File and Line locate the record at fault, when there is one.
	File string
	Line int
}

// String renders the problem on one line, with its location and remedy.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	if p.Remedy != "" {
		b.WriteString(" (")
		b.WriteString(p.Remedy)
		b.WriteString(")")
	}
	return b.String()
}

// Blocker returns a blocking problem.
func Blocker(kind ProblemKind, message, remedy string) Problem {
	return Problem{Severity: Blocking, Kind: kind, Message: message, Remedy: remedy}
}

// Warn returns a warning.
func Warn(message, remedy string) Problem {
	return Problem{Severity: Warning, Message: message, Remedy: remedy}
}

// At returns a copy of p located at file and line (0 when not known).
func (p Problem) At(file string, line int) Problem {
	p.File, p.Line = file, line
	return p
}

// HasBlocking reports whether any problem is blocking.
func HasBlocking(problems []Problem) bool {
	for _, p := range problems {
		if p.Severity == Blocking {
			return true
		}
	}
	return false
}

// QuestionType says how a question is asked and what answers it takes.
type QuestionType string

// Question types.
const (
	// YesNo takes Yes or No; its answer is "true" or "false".
	YesNo QuestionType = "yes-no"
	// Choice takes one of Choices.
	Choice QuestionType = "choice"
	// Approval takes OK or Cancel; Cancel aborts the whole run before
	// anything changes. Its answer is "true" (OK) or "false" (Cancel).
	Approval QuestionType = "approval"
	// Text takes free text.
	Text QuestionType = "text"
	// Password takes free text that is never echoed, logged or saved.
	Password QuestionType = "password"
)

// Purposes give the core's flags a meaning for questions they affect.
const (
	// PurposeDropDatabase marks a yes-no question that decides whether a
	// database is cleared: -d answers it No, -u takes its default.
	PurposeDropDatabase = "drop-database"
)

// Question is declared by a plugin and asked by the core in the confirm
// phase, unless a flag or an answer file answers it first.
type Question struct {
	// Key is stable and unique across plugins, e.g. "engine.dropDatabase".
	Key    string
	Prompt string
	Type   QuestionType
	// Default is the answer taken by -u and DIALOG/autoAcceptDefault:
	// "true"/"false" for yes-no and approval, one of Choices for choice.
	Default string
	// AnswerKey is the otopi answer-file key, e.g.
	// "OVESETUP_REMOVE/engineDatabase". Empty: only asked, never read.
	AnswerKey string
	Choices   []string
	Purpose   string
}

// Secret reports whether answers to q must never be shown or saved.
func (q Question) Secret() bool { return q.Type == Password }

// Answers maps question keys to answers. Yes-no and approval answers are
// "true" or "false".
type Answers map[string]string

// Bool returns the answer to key as a boolean; ok is false when key has no
// answer or the answer is not a boolean.
func (a Answers) Bool(key string) (value, ok bool) {
	switch a[key] {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// Action is one step of a plan. Its ID is stable: the same host state gives
// the same IDs, so a plan can be compared, logged and resumed.
type Action struct {
	ID          string
	Stage       Stage
	Description string
	// Resources names what the action touches: files, units, databases,
	// domains.
	Resources []string
}

// Backup is a file a plugin wrote in the backup stage.
type Backup struct {
	// Path is where the file is on this machine, under the root when the
	// core runs with --root, so the administrator can find it.
	Path        string
	Description string
}

// Progress is an update on a long action, such as a database dump.
type Progress struct {
	Message string
	Done    int64
	Total   int64 // 0 when unknown
}

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,63}$`)

// ValidName reports whether name can name a plugin: lowercase letters,
// digits and dashes, starting with a letter.
func ValidName(name string) bool { return namePattern.MatchString(name) }
