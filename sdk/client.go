package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/engine-cleanup/engine-cleanup/sdk/proto/pluginv1"
)

// Client is the core's side of a plugin: it turns phase calls into protocol
// calls. It implements Plugin and every phase interface.
type Client struct {
	rpc pb.PluginClient
	// name is sent with every call when the process serves several plugins.
	name string
}

// For returns a client for the plugin called name in a process that serves
// several (see ServeBundle).
func (c *Client) For(name string) *Client { return &Client{rpc: c.rpc, name: name} }

func (c *Client) outgoing(ctx context.Context) context.Context {
	if c.name == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, MetadataKey, c.name)
}

var (
	_ Plugin      = (*Client)(nil)
	_ Initializer = (*Client)(nil)
	_ Validator   = (*Client)(nil)
	_ Confirmer   = (*Client)(nil)
	_ Executor    = (*Client)(nil)
	_ Closer      = (*Client)(nil)
)

// ErrNotImplemented is returned by Confirm and Execute when the plugin does
// not implement that phase.
var ErrNotImplemented = errors.New("phase not implemented by the plugin")

func clientError(err error) error {
	if status.Code(err) == codes.Unimplemented {
		return fmt.Errorf("%w: %v", ErrNotImplemented, status.Convert(err).Message())
	}
	if s, ok := status.FromError(err); ok {
		return errors.New(s.Message())
	}
	return err
}

// Info implements Plugin.
func (c *Client) Info(ctx context.Context, req InfoRequest) (InfoResponse, error) {
	r, err := c.rpc.Info(c.outgoing(ctx), &pb.InfoRequest{CoreVersion: req.CoreVersion})
	if err != nil {
		return InfoResponse{}, clientError(err)
	}
	return InfoResponse{Name: r.GetName(), Version: r.GetVersion(), Description: r.GetDescription(),
		Phases: phasesFromPB(r.GetPhases()), DependsOn: r.GetDependsOn(), Capabilities: r.GetCapabilities(),
		AnswerKeys: r.GetAnswerKeys()}, nil
}

// Init implements Initializer.
func (c *Client) Init(ctx context.Context, req InitRequest) (InitResponse, error) {
	r, err := c.rpc.Init(c.outgoing(ctx), &pb.InitRequest{Environment: environmentToPB(req.Environment)})
	if err != nil {
		return InitResponse{}, clientError(err)
	}
	return InitResponse{Installed: r.GetInstalled(), Findings: r.GetFindings(),
		Problems: problemsFromPB(r.GetProblems()), Questions: questionsFromPB(r.GetQuestions())}, nil
}

// Validate implements Validator.
func (c *Client) Validate(ctx context.Context, req ValidateRequest) (ValidateResponse, error) {
	r, err := c.rpc.Validate(c.outgoing(ctx), &pb.ValidateRequest{Answers: req.Answers})
	if err != nil {
		return ValidateResponse{}, clientError(err)
	}
	return ValidateResponse{Plan: actionsFromPB(r.GetPlan()), Problems: problemsFromPB(r.GetProblems())}, nil
}

// Confirm implements Confirmer.
func (c *Client) Confirm(ctx context.Context, req ConfirmRequest) (ConfirmResponse, error) {
	r, err := c.rpc.Confirm(c.outgoing(ctx), &pb.ConfirmRequest{Answers: req.Answers})
	if err != nil {
		return ConfirmResponse{}, clientError(err)
	}
	return ConfirmResponse{Plan: actionsFromPB(r.GetPlan()), Problems: problemsFromPB(r.GetProblems())}, nil
}

// Execute implements Executor. Progress updates are passed to req.Progress
// as they arrive.
func (c *Client) Execute(ctx context.Context, req ExecuteRequest) (ExecuteResponse, error) {
	stream, err := c.rpc.Execute(c.outgoing(ctx), &pb.ExecuteRequest{ActionId: req.ActionID})
	if err != nil {
		return ExecuteResponse{}, clientError(err)
	}
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return ExecuteResponse{}, errors.New("plugin closed the action without a result")
		}
		if err != nil {
			return ExecuteResponse{}, clientError(err)
		}
		if p := ev.GetProgress(); p != nil {
			if req.Progress != nil {
				req.Progress(Progress{Message: p.GetMessage(), Done: p.GetDone(), Total: p.GetTotal()})
			}
			continue
		}
		if r := ev.GetResult(); r != nil {
			return ExecuteResponse{Changed: r.GetChanged(), Outcome: r.GetOutcome(),
				Backups: backupsFromPB(r.GetBackups()), Notes: r.GetNotes(),
				Problems: problemsFromPB(r.GetProblems())}, nil
		}
	}
}

// Closeup implements Closer.
func (c *Client) Closeup(ctx context.Context, req CloseupRequest) (CloseupResponse, error) {
	r, err := c.rpc.Closeup(c.outgoing(ctx), &pb.CloseupRequest{Succeeded: req.Succeeded, Executed: req.Executed,
		FailedAction: req.FailedAction, Aborted: req.Aborted})
	if err != nil {
		return CloseupResponse{}, clientError(err)
	}
	return CloseupResponse{Notes: r.GetNotes(), Problems: problemsFromPB(r.GetProblems())}, nil
}
