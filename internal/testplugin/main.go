// Command testplugin is a plugin for the end-to-end tests whose behaviour is
// chosen by the name it is installed under (engine-cleanup-plugin-<name>):
// well-behaved plugins that trace every action, and every way a plugin can
// go wrong. It is a test fixture, never shipped.
//
// Every plugin appends "<name> <event>" lines to $ROOT/trace.log, so a test
// can see which phases and actions ran and in which order.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// behaviour is the part of the plugin name before the first digit, so that
// alpha1 and alpha2 behave alike under two names.
func behaviour(name string) string {
	return strings.TrimRight(name, "0123456789")
}

func main() {
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), "engine-cleanup-plugin-")
	t := &testPlugin{name: name, kind: behaviour(name)}
	switch t.kind {
	case "stdout":
		fmt.Println("hello from a plugin that talks before its handshake")
	case "nohandshake":
		fmt.Fprintln(os.Stderr, "starting up very slowly")
		time.Sleep(time.Hour)
	case "proto":
		// Speaks only protocol version 2, which this core does not.
		fmt.Fprintln(os.Stderr, "speaking protocol 2 only")
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig:  plugin.HandshakeConfig{ProtocolVersion: 2, MagicCookieKey: sdk.Handshake.MagicCookieKey, MagicCookieValue: sdk.Handshake.MagicCookieValue},
			VersionedPlugins: map[int]plugin.PluginSet{2: {sdk.PluginKey: &sdk.GRPCPlugin{Impl: t}}},
			GRPCServer:       plugin.DefaultGRPCServer,
			Logger:           hclog.New(&hclog.LoggerOptions{Output: os.Stderr, JSONFormat: true}),
		})
		return
	case "exit":
		fmt.Fprintln(os.Stderr, "not a plugin at all; exiting")
		os.Exit(1)
	}
	sdk.Serve(t)
}

// crash ends the process the hard way, as a fatal runtime error or a cgo
// fault would: a last word on the real stderr (fd 2, which go-plugin does
// not redirect) and an exit without any goodbye.
func crash(msg string) {
	_, _ = syscall.Write(2, []byte(msg+"\n"))
	os.Exit(7)
}

type testPlugin struct {
	name, kind string
	root       string
	answers    sdk.Answers
}

func (t *testPlugin) trace(format string, args ...interface{}) {
	f, err := os.OpenFile(filepath.Join(t.root, "trace.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %s\n", t.name, fmt.Sprintf(format, args...))
}

func (t *testPlugin) Info(context.Context, sdk.InfoRequest) (sdk.InfoResponse, error) {
	info := sdk.InfoResponse{Name: t.name, Version: "0.0.1-test", Description: "test plugin (" + t.kind + ")",
		AnswerKeys: []string{"OVESETUP_TEST/" + t.name}}
	if t.kind == "misnamed" {
		info.Name = "somebody-else"
	}
	return info, nil
}

func (t *testPlugin) Init(ctx context.Context, req sdk.InitRequest) (sdk.InitResponse, error) {
	t.root = req.Environment.Root
	t.trace("init")
	log := sdk.Logger(ctx)
	switch t.kind {
	case "crashinit":
		crash("crashinit: about to crash in init")
	case "panic":
		panic("panic-in-init: nil map somewhere")
	case "hang":
		log.Info("hanging in init")
		<-ctx.Done()
		time.Sleep(time.Hour)
	case "refuse":
		return sdk.InitResponse{Installed: true, Problems: []sdk.Problem{sdk.Blocker(sdk.KindSequenceIIImpossible,
			"the post-install file says the component was set up, but its credentials file is missing",
			"restore the file from a backup, run with -d, or clean by hand").At("/etc/test/10-setup-database.conf", 0)}}, nil
	case "warn":
		return sdk.InitResponse{Problems: []sdk.Problem{{Severity: sdk.Warning, Kind: sdk.KindLeftover,
			Message: "found /etc/pki/test without any record: left alone", Remedy: "remove it by hand if unused"}}}, nil
	case "empty":
		return sdk.InitResponse{}, nil
	}
	resp := sdk.InitResponse{Installed: true, Findings: []string{t.kind + " component found"}}
	switch t.kind {
	case "secret":
		resp.Questions = []sdk.Question{{Key: t.name + ".password", Prompt: "Password of the test database?",
			Type: sdk.Password, AnswerKey: "OVESETUP_TEST/" + t.name}}
	case "approve":
		resp.Questions = []sdk.Question{{Key: t.name + ".stop", Prompt: "During execution the test service will be stopped",
			Type: sdk.Approval, Default: "true", AnswerKey: "OVESETUP_TEST/" + t.name}}
	case "drop":
		resp.Questions = []sdk.Question{{Key: t.name + ".drop",
			Prompt: "Drop database? If you want to reuse the existing database for the future installation, choose No.",
			Type:   sdk.YesNo, Default: "true", AnswerKey: "OVESETUP_TEST/" + t.name, Purpose: sdk.PurposeDropDatabase}}
	}
	return resp, nil
}

func (t *testPlugin) Validate(ctx context.Context, req sdk.ValidateRequest) (sdk.ValidateResponse, error) {
	t.trace("validate")
	if t.kind == "empty" || t.kind == "warn" {
		return sdk.ValidateResponse{}, nil
	}
	return sdk.ValidateResponse{Plan: t.plan(req.Answers)}, nil
}

func (t *testPlugin) Confirm(ctx context.Context, req sdk.ConfirmRequest) (sdk.ConfirmResponse, error) {
	t.answers = req.Answers
	for k, v := range req.Answers {
		if strings.HasSuffix(k, ".password") {
			// A careless plugin: the core must mask what it received.
			sdk.Logger(ctx).Info("received the password", "password", v)
			fmt.Fprintf(os.Stderr, "raw stderr line with the password %s\n", v)
			t.trace("confirm password-length=%d", len(v))
		} else {
			t.trace("confirm %s=%s", k, v)
		}
	}
	if t.kind == "empty" || t.kind == "warn" {
		return sdk.ConfirmResponse{}, nil
	}
	return sdk.ConfirmResponse{Plan: t.plan(req.Answers)}, nil
}

func (t *testPlugin) plan(answers sdk.Answers) []sdk.Action {
	var plan []sdk.Action
	for _, st := range sdk.Stages {
		if st == sdk.StageRemove && t.kind == "drop" {
			if drop, ok := answers.Bool(t.name + ".drop"); ok && !drop {
				continue
			}
		}
		plan = append(plan, sdk.Action{ID: t.name + "." + string(st), Stage: st,
			Description: fmt.Sprintf("%s %s action", t.name, st), Resources: []string{"/test/" + t.name}})
	}
	return plan
}

func (t *testPlugin) Execute(ctx context.Context, req sdk.ExecuteRequest) (sdk.ExecuteResponse, error) {
	t.trace("execute %s", req.ActionID)
	resp := sdk.ExecuteResponse{Changed: true, Outcome: "done"}
	switch {
	case t.kind == "crashclean" && strings.HasSuffix(req.ActionID, ".remove"):
		crash("crashclean: about to crash while removing")
	case t.kind == "failclean" && strings.HasSuffix(req.ActionID, ".backup"):
		return sdk.ExecuteResponse{Problems: []sdk.Problem{sdk.Blocker(sdk.KindGeneral,
			"pg_dump failed: disk full", "free space in the backups directory")}}, nil
	case t.kind == "slow" && strings.HasSuffix(req.ActionID, ".remove"):
		// Slow the first time only, so that a rerun after an interrupt
		// completes.
		marker := filepath.Join(t.root, "slow.started")
		if _, err := os.Stat(marker); err == nil {
			break
		}
		_ = os.WriteFile(marker, nil, 0o644)
		for i := 0; i < 600; i++ {
			req.Progress(sdk.Progress{Message: "working", Done: int64(i), Total: 600})
			select {
			case <-ctx.Done():
				t.trace("interrupted %s", req.ActionID)
				return sdk.ExecuteResponse{}, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	case t.kind == "pause" && strings.HasSuffix(req.ActionID, ".stop"):
		// Holds the run between validation and the remove stage, so a
		// test can change the host under engine-cleanup's feet.
		t.trace("paused")
		for i := 0; i < 50; i++ {
			if _, err := os.Stat(filepath.Join(t.root, "resume")); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	case strings.HasSuffix(req.ActionID, ".backup"):
		resp.Backups = []sdk.Backup{{Path: filepath.Join(t.root, "backups", t.name+".dump"), Description: t.name + " data"}}
	case t.kind == "secret" && strings.HasSuffix(req.ActionID, ".forget"):
		for _, v := range t.answers {
			resp.Notes = append(resp.Notes, "a careless note with the password "+v)
			resp.Outcome = "done with " + v
		}
	}
	return resp, nil
}

func (t *testPlugin) Closeup(ctx context.Context, req sdk.CloseupRequest) (sdk.CloseupResponse, error) {
	t.trace("closeup succeeded=%v aborted=%v failed=%s", req.Succeeded, req.Aborted, req.FailedAction)
	return sdk.CloseupResponse{Notes: []string{t.name + " note for the summary"}}, nil
}
