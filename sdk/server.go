package sdk

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
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

// guard turns a panic in a phase into an error the core reports, with the
// stack in the log: the process survives, which matters when it serves
// several plugins, and the core stops using the plugin that panicked.
func (s *server) guard(phase Phase, err *error) {
	if v := recover(); v != nil {
		s.logger.Error("panic", "phase", phase, "value", fmt.Sprint(v), "stack", string(debug.Stack()))
		*err = status.Error(codes.Internal, fmt.Sprintf("%s phase: the plugin panicked: %v", phase, v))
	}
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

func (s *server) Info(ctx context.Context, req *pb.InfoRequest) (_ *pb.InfoResponse, err error) {
	defer s.guard("info", &err)
	resp, err := s.impl.Info(s.withRuntime(ctx), InfoRequest{CoreVersion: req.GetCoreVersion()})
	if err != nil {
		return nil, phaseError("info", err)
	}
	return &pb.InfoResponse{Name: resp.Name, Version: resp.Version, Description: resp.Description,
		Phases: phasesToPB(PhasesOf(s.impl)), DependsOn: resp.DependsOn, Capabilities: resp.Capabilities,
		AnswerKeys: resp.AnswerKeys}, nil
}

func (s *server) Init(ctx context.Context, req *pb.InitRequest) (_ *pb.InitResponse, err error) {
	defer s.guard(PhaseInit, &err)
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

func (s *server) Validate(ctx context.Context, req *pb.ValidateRequest) (_ *pb.ValidateResponse, err error) {
	defer s.guard(PhaseValidate, &err)
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

func (s *server) Confirm(ctx context.Context, req *pb.ConfirmRequest) (_ *pb.ConfirmResponse, err error) {
	defer s.guard(PhaseConfirm, &err)
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

func (s *server) Execute(req *pb.ExecuteRequest, stream pb.Plugin_ExecuteServer) (err error) {
	defer s.guard(PhaseCleanup, &err)
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

func (s *server) Closeup(ctx context.Context, req *pb.CloseupRequest) (_ *pb.CloseupResponse, err error) {
	defer s.guard(PhaseCloseup, &err)
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

// MetadataKey is the gRPC metadata key naming the plugin a call is for, when
// one process serves several plugins (the built-ins do).
const MetadataKey = "engine-cleanup-plugin"

// router serves one or more plugins on one gRPC server, choosing the plugin
// by the call's metadata. A process serving a single plugin accepts calls
// without the key, so simple clients need not send it.
type router struct {
	pb.UnimplementedPluginServer
	servers map[string]*server
	only    *server
}

func newRouter(servers map[string]*server) *router {
	r := &router{servers: servers}
	if len(servers) == 1 {
		for _, s := range servers {
			r.only = s
		}
	}
	return r
}

func (r *router) pick(ctx context.Context) (*server, error) {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if names := md.Get(MetadataKey); len(names) > 0 {
			if s, ok := r.servers[names[0]]; ok {
				return s, nil
			}
			return nil, status.Errorf(codes.NotFound, "this process serves no plugin named %q", names[0])
		}
	}
	if r.only != nil {
		return r.only, nil
	}
	return nil, status.Errorf(codes.InvalidArgument, "this process serves several plugins: name one in the %s metadata", MetadataKey)
}

func (r *router) Info(ctx context.Context, req *pb.InfoRequest) (*pb.InfoResponse, error) {
	s, err := r.pick(ctx)
	if err != nil {
		return nil, err
	}
	return s.Info(ctx, req)
}

func (r *router) Init(ctx context.Context, req *pb.InitRequest) (*pb.InitResponse, error) {
	s, err := r.pick(ctx)
	if err != nil {
		return nil, err
	}
	return s.Init(ctx, req)
}

func (r *router) Validate(ctx context.Context, req *pb.ValidateRequest) (*pb.ValidateResponse, error) {
	s, err := r.pick(ctx)
	if err != nil {
		return nil, err
	}
	return s.Validate(ctx, req)
}

func (r *router) Confirm(ctx context.Context, req *pb.ConfirmRequest) (*pb.ConfirmResponse, error) {
	s, err := r.pick(ctx)
	if err != nil {
		return nil, err
	}
	return s.Confirm(ctx, req)
}

func (r *router) Execute(req *pb.ExecuteRequest, stream pb.Plugin_ExecuteServer) error {
	s, err := r.pick(stream.Context())
	if err != nil {
		return err
	}
	return s.Execute(req, stream)
}

func (r *router) Closeup(ctx context.Context, req *pb.CloseupRequest) (*pb.CloseupResponse, error) {
	s, err := r.pick(ctx)
	if err != nil {
		return nil, err
	}
	return s.Closeup(ctx, req)
}
