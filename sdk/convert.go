package sdk

import (
	pb "github.com/engine-cleanup/engine-cleanup/sdk/proto/pluginv1"
)

// This file holds the only translation between domain types and the wire
// format; nothing outside the adapters sees protocol types.

var phaseToPB = map[Phase]pb.Phase{
	PhaseInit: pb.Phase_PHASE_INIT, PhaseValidate: pb.Phase_PHASE_VALIDATE,
	PhaseConfirm: pb.Phase_PHASE_CONFIRM, PhaseCleanup: pb.Phase_PHASE_CLEANUP,
	PhaseCloseup: pb.Phase_PHASE_CLOSEUP,
}

var stageToPB = map[Stage]pb.Stage{
	StageStop: pb.Stage_STAGE_STOP, StageBackup: pb.Stage_STAGE_BACKUP,
	StageRemove: pb.Stage_STAGE_REMOVE, StageForget: pb.Stage_STAGE_FORGET,
}

var severityToPB = map[Severity]pb.Severity{
	Warning: pb.Severity_SEVERITY_WARNING, Blocking: pb.Severity_SEVERITY_BLOCKING,
}

var kindToPB = map[ProblemKind]pb.ProblemKind{
	KindGeneral:              pb.ProblemKind_PROBLEM_KIND_UNSPECIFIED,
	KindSequenceIIImpossible: pb.ProblemKind_PROBLEM_KIND_SEQUENCE_II_IMPOSSIBLE,
	KindLeftover:             pb.ProblemKind_PROBLEM_KIND_LEFTOVER,
}

var questionTypeToPB = map[QuestionType]pb.QuestionType{
	YesNo: pb.QuestionType_QUESTION_TYPE_YES_NO, Choice: pb.QuestionType_QUESTION_TYPE_CHOICE,
	Approval: pb.QuestionType_QUESTION_TYPE_APPROVAL, Text: pb.QuestionType_QUESTION_TYPE_TEXT,
	Password: pb.QuestionType_QUESTION_TYPE_PASSWORD,
}

func invert[K comparable, V comparable](m map[K]V) map[V]K {
	out := make(map[V]K, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

var (
	phaseFromPB        = invert(phaseToPB)
	stageFromPB        = invert(stageToPB)
	severityFromPB     = invert(severityToPB)
	kindFromPB         = invert(kindToPB)
	questionTypeFromPB = invert(questionTypeToPB)
)

func mapSlice[A, B any](in []A, f func(A) B) []B {
	if len(in) == 0 {
		return nil
	}
	out := make([]B, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func phasesToPB(p []Phase) []pb.Phase {
	return mapSlice(p, func(v Phase) pb.Phase { return phaseToPB[v] })
}

// phasesFromPB drops phases this SDK does not know (a newer plugin).
func phasesFromPB(p []pb.Phase) []Phase {
	var out []Phase
	for _, v := range p {
		if ph, ok := phaseFromPB[v]; ok {
			out = append(out, ph)
		}
	}
	return out
}

func problemToPB(p Problem) *pb.Problem {
	return &pb.Problem{Severity: severityToPB[p.Severity], Kind: kindToPB[p.Kind], Message: p.Message,
		Remedy: p.Remedy, File: p.File, Line: int32(p.Line)}
}

// problemFromPB treats an unknown severity as blocking: a problem the core
// cannot classify must not be ignored.
func problemFromPB(p *pb.Problem) Problem {
	sev, ok := severityFromPB[p.GetSeverity()]
	if !ok {
		sev = Blocking
	}
	return Problem{Severity: sev, Kind: kindFromPB[p.GetKind()], Message: p.GetMessage(),
		Remedy: p.GetRemedy(), File: p.GetFile(), Line: int(p.GetLine())}
}

func problemsToPB(p []Problem) []*pb.Problem      { return mapSlice(p, problemToPB) }
func problemsFromPB(p []*pb.Problem) []Problem    { return mapSlice(p, problemFromPB) }
func actionsToPB(a []Action) []*pb.Action         { return mapSlice(a, actionToPB) }
func actionsFromPB(a []*pb.Action) []Action       { return mapSlice(a, actionFromPB) }
func backupsToPB(b []Backup) []*pb.Backup         { return mapSlice(b, backupToPB) }
func backupsFromPB(b []*pb.Backup) []Backup       { return mapSlice(b, backupFromPB) }
func questionsToPB(q []Question) []*pb.Question   { return mapSlice(q, questionToPB) }
func questionsFromPB(q []*pb.Question) []Question { return mapSlice(q, questionFromPB) }

func actionToPB(a Action) *pb.Action {
	return &pb.Action{Id: a.ID, Stage: stageToPB[a.Stage], Description: a.Description, Resources: a.Resources}
}

// actionFromPB leaves an unknown stage empty; the core rejects such a plan.
func actionFromPB(a *pb.Action) Action {
	return Action{ID: a.GetId(), Stage: stageFromPB[a.GetStage()], Description: a.GetDescription(),
		Resources: a.GetResources()}
}

func backupToPB(b Backup) *pb.Backup { return &pb.Backup{Path: b.Path, Description: b.Description} }
func backupFromPB(b *pb.Backup) Backup {
	return Backup{Path: b.GetPath(), Description: b.GetDescription()}
}

func questionToPB(q Question) *pb.Question {
	return &pb.Question{Key: q.Key, Prompt: q.Prompt, Type: questionTypeToPB[q.Type], Default: q.Default,
		AnswerKey: q.AnswerKey, Choices: q.Choices, Purpose: q.Purpose}
}

func questionFromPB(q *pb.Question) Question {
	return Question{Key: q.GetKey(), Prompt: q.GetPrompt(), Type: questionTypeFromPB[q.GetType()],
		Default: q.GetDefault(), AnswerKey: q.GetAnswerKey(), Choices: q.GetChoices(), Purpose: q.GetPurpose()}
}

func environmentToPB(e Environment) *pb.Environment {
	return &pb.Environment{Root: e.Root, ServiceManager: e.ServiceManager, LibvirtUri: e.LibvirtURI,
		DryRun: e.DryRun, RunId: e.RunID, Settings: e.Settings}
}

func environmentFromPB(e *pb.Environment) Environment {
	return Environment{Root: e.GetRoot(), ServiceManager: e.GetServiceManager(), LibvirtURI: e.GetLibvirtUri(),
		DryRun: e.GetDryRun(), RunID: e.GetRunId(), Settings: e.GetSettings()}
}
