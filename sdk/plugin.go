package sdk

import "context"

// Plugin is the one interface every plugin implements. The optional phase
// interfaces below add the phases a plugin takes part in.
type Plugin interface {
	Info(ctx context.Context, req InfoRequest) (InfoResponse, error)
}

// Initializer takes part in the init phase: detect what is installed by
// reading records and probing, without changing anything.
type Initializer interface {
	Init(ctx context.Context, req InitRequest) (InitResponse, error)
}

// Validator takes part in the validate phase: decide whether cleanup is
// possible, declare questions and build a plan, without changing anything.
type Validator interface {
	Validate(ctx context.Context, req ValidateRequest) (ValidateResponse, error)
}

// Confirmer takes part in the confirm phase: receive every answer and return
// the final plan. Without it, the core calls Validate again with every
// answer and takes that plan.
type Confirmer interface {
	Confirm(ctx context.Context, req ConfirmRequest) (ConfirmResponse, error)
}

// Executor takes part in the cleanup phase: execute one action of the
// approved plan. Execute must be idempotent and decide from the current
// state of the host, so that a run killed at any point converges when run
// again.
type Executor interface {
	Execute(ctx context.Context, req ExecuteRequest) (ExecuteResponse, error)
}

// Closer takes part in the closeup phase: add notes to the summary.
type Closer interface {
	Closeup(ctx context.Context, req CloseupRequest) (CloseupResponse, error)
}

// InfoRequest asks a plugin to describe itself.
type InfoRequest struct {
	CoreVersion string
}

// InfoResponse describes a plugin.
type InfoResponse struct {
	Name        string
	Version     string
	Description string
	// Phases is filled in by Serve from the interfaces the plugin
	// implements; a plugin leaves it empty.
	Phases []Phase
	// DependsOn names plugins this one depends on. Within a stage, a
	// dependent runs before its dependencies (reports before engine).
	DependsOn    []string
	Capabilities []string
	// AnswerKeys lists every answer-file key the plugin understands, whether
	// or not it asks the question on this host (engineStop is only asked
	// when the engine runs). The core rejects answer-file keys that neither
	// it nor any plugin knows.
	AnswerKeys []string
}

// Environment is what the core tells every plugin about the run.
type Environment struct {
	// Root is the directory that stands for "/" for every file path. A
	// plugin resolves every path, including absolute paths read from
	// records, under Root and never touches anything outside it.
	Root string
	// ServiceManager is "systemd", "sysv", "none" or "" (detect).
	ServiceManager string
	// LibvirtURI is the libvirt connection URI, or "" for the default.
	LibvirtURI string
	DryRun     bool
	// RunID is the timestamp-and-random tag of this run, for naming files.
	RunID string
	// Settings carries options added after this version of the protocol.
	Settings map[string]string
}

// InitRequest starts the init phase.
type InitRequest struct {
	Environment Environment
}

// InitResponse reports what the plugin found and declares the questions it
// needs answered.
type InitResponse struct {
	// Installed is true when the plugin found anything to clean.
	Installed bool
	// Findings are short lines for the console: what was found where.
	Findings  []string
	Problems  []Problem
	Questions []Question
}

// ValidateRequest starts the validate phase. Answers holds what flags and
// answer files already answered; a question without an answer here is
// asked in the confirm phase.
type ValidateRequest struct {
	Answers Answers
}

// ValidateResponse is the plan under the answers given, taking a question's
// default where there is no answer yet, and the problems found.
type ValidateResponse struct {
	Plan     []Action
	Problems []Problem
}

// ConfirmRequest hands every answer to the plugin.
type ConfirmRequest struct {
	Answers Answers
}

// ConfirmResponse is the final plan under the answers given.
type ConfirmResponse struct {
	Plan     []Action
	Problems []Problem
}

// ExecuteRequest asks for one action of the confirmed plan.
type ExecuteRequest struct {
	ActionID string
	// Progress reports progress of a long action; never nil.
	Progress func(Progress)
}

// ExecuteResponse reports an executed action. A blocking problem means the
// action failed; the core then executes nothing more.
type ExecuteResponse struct {
	// Changed is false when the host already was in the wanted state.
	Changed bool
	// Outcome is a short text for the console, e.g. "already inactive".
	Outcome  string
	Backups  []Backup
	Notes    []string
	Problems []Problem
}

// CloseupRequest starts the closeup phase.
type CloseupRequest struct {
	// Succeeded is true when every action of every plugin succeeded.
	Succeeded bool
	// Executed lists this plugin's actions that completed.
	Executed []string
	// FailedAction is the ID of this plugin's action that failed, if any.
	FailedAction string
	// Aborted is true when the run stopped before cleanup.
	Aborted bool
}

// CloseupResponse adds notes to the summary.
type CloseupResponse struct {
	Notes    []string
	Problems []Problem
}
