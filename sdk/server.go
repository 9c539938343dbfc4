package sdk

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/engine-cleanup/engine-cleanup/sdk/proto/pluginv1"
)

// server turns protocol calls into calls on a Plugin. A phase the plugin does
// not implement answers with an empty response.
type server struct {
	pb.UnimplementedPluginServer
	impl   Plugin
	logger hclog.Logger
	redact *Redactor
}

func newServer(impl Plugin) *server {
	return &server{impl: impl, logger: hclog.NewNullLogger(), redact: NewRedactor()}
}

// withRuntime gives a phase the plugin's logger and redactor.
func (s *server) withRuntime(ctx context.Context) context.Context {
	ctx = hclog.WithContext(ctx, s.logger)
	return context.WithValue(ctx, redactorKey{}, s.redact)
}

// phaseError turns a Go error from a phase into a gRPC status, so the core
// reports it as a failure of the plugin in that phase.
func phaseError(phase Phase, err error) error {
	return status.Error(codes.Unknown, fmt.Sprintf("%s phase: %v", phase, err))
}

// Phases returns the phases p implements.
func PhasesOf(p Plugin) []Phase {
	var out []Phase
	if _, ok := p.(Initializer); ok {
		out = append(out, PhaseInit)
	}
	if _, ok := p.(Validator); ok {
		out = append(out, PhaseValidate)
	}
	if _, ok := p.(Confirmer); ok {
		out = append(out, PhaseConfirm)
	}
	if _, ok := p.(Executor); ok {
		out = append(out, PhaseCleanup)
	}
	if _, ok := p.(Closer); ok {
		out = append(out, PhaseCloseup)
	}
	return out
}

func (s *server) Info(ctx context.Context, req *pb.InfoRequest) (*pb.InfoResponse, error) {
	resp, err := s.impl.Info(s.withRuntime(ctx), InfoRequest{CoreVersion: req.GetCoreVersion()})
	if err != nil {
		return nil, phaseError("info", err)
	}
	return &pb.InfoResponse{Name: resp.Name, Version: resp.Version, Description: resp.Description,
		Phases: phasesToPB(PhasesOf(s.impl)), DependsOn: resp.DependsOn, Capabilities: resp.Capabilities,
		AnswerKeys: resp.AnswerKeys}, nil
}

func (s *server) Init(ctx context.Context, req *pb.InitRequest) (*pb.InitResponse, error) {
	p, ok := s.impl.(Initializer)
	if !ok {
		return &pb.InitResponse{}, nil
	}
	resp, err := p.Init(s.withRuntime(ctx), InitRequest{Environment: environmentFromPB(req.GetEnvironment())})
	if err != nil {
		return nil, phaseError(PhaseInit, err)
	}
	return &pb.InitResponse{Installed: resp.Installed, Findings: resp.Findings,
		Problems: problemsToPB(resp.Problems), Questions: questionsToPB(resp.Questions)}, nil
}

func (s *server) Validate(ctx context.Context, req *pb.ValidateRequest) (*pb.ValidateResponse, error) {
	p, ok := s.impl.(Validator)
	if !ok {
		return &pb.ValidateResponse{}, nil
	}
	resp, err := p.Validate(s.withRuntime(ctx), ValidateRequest{Answers: req.GetAnswers()})
	if err != nil {
		return nil, phaseError(PhaseValidate, err)
	}
	return &pb.ValidateResponse{Plan: actionsToPB(resp.Plan), Problems: problemsToPB(resp.Problems)}, nil
}

func (s *server) Confirm(ctx context.Context, req *pb.ConfirmRequest) (*pb.ConfirmResponse, error) {
	p, ok := s.impl.(Confirmer)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "confirm phase not implemented")
	}
	resp, err := p.Confirm(s.withRuntime(ctx), ConfirmRequest{Answers: req.GetAnswers()})
	if err != nil {
		return nil, phaseError(PhaseConfirm, err)
	}
	return &pb.ConfirmResponse{Plan: actionsToPB(resp.Plan), Problems: problemsToPB(resp.Problems)}, nil
}

func (s *server) Execute(req *pb.ExecuteRequest, stream pb.Plugin_ExecuteServer) error {
	p, ok := s.impl.(Executor)
	if !ok {
		return status.Error(codes.Unimplemented, "cleanup phase not implemented")
	}
	progress := func(u Progress) {
		// A lost progress update is harmless; the result is what counts.
		_ = stream.Send(&pb.ExecuteEvent{Event: &pb.ExecuteEvent_Progress{Progress: &pb.Progress{
			Message: u.Message, Done: u.Done, Total: u.Total}}})
	}
	resp, err := p.Execute(s.withRuntime(stream.Context()), ExecuteRequest{ActionID: req.GetActionId(), Progress: progress})
	if err != nil {
		return phaseError(PhaseCleanup, err)
	}
	return stream.Send(&pb.ExecuteEvent{Event: &pb.ExecuteEvent_Result{Result: &pb.ExecuteResult{
		Changed: resp.Changed, Outcome: resp.Outcome, Backups: backupsToPB(resp.Backups), Notes: resp.Notes,
		Problems: problemsToPB(resp.Problems)}}})
}

func (s *server) Closeup(ctx context.Context, req *pb.CloseupRequest) (*pb.CloseupResponse, error) {
	p, ok := s.impl.(Closer)
	if !ok {
		return &pb.CloseupResponse{}, nil
	}
	resp, err := p.Closeup(s.withRuntime(ctx), CloseupRequest{Succeeded: req.GetSucceeded(),
		Executed: req.GetExecuted(), FailedAction: req.GetFailedAction(), Aborted: req.GetAborted()})
	if err != nil {
		return nil, phaseError(PhaseCloseup, err)
	}
	return &pb.CloseupResponse{Notes: resp.Notes, Problems: problemsToPB(resp.Problems)}, nil
}
