// Command engine-cleanup-plugin-example is an example of an external
// engine-cleanup plugin, written against sdk/ alone. Copy it to start your
// own.
//
// It cleans a made-up "example-app" that a site installed next to the
// engine: a daemon (its run marker /run/example-app/running), data in
// /var/lib/example-app, a cache in /var/cache/example-app, and its record
// /etc/example-app/example.conf. It asks one question (whether to remove the
// cache), plans an action in every stage, backs up its data and leaves a
// note in the summary. Every path is resolved under the root the core hands
// over, and every action decides from the current state, so running it again
// is harmless.
package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

const (
	record     = "/etc/example-app/example.conf"
	runMarker  = "/run/example-app/running"
	dataDir    = "/var/lib/example-app"
	cacheDir   = "/var/cache/example-app"
	backupDir  = "/var/lib/example-app-backups"
	cacheKey   = "example.removeCache"
	cacheAnswr = "OVESETUP_EXAMPLE/removeCache"
)

type example struct {
	env       sdk.Environment
	installed bool
	answers   sdk.Answers
}

var (
	_ sdk.Initializer = (*example)(nil)
	_ sdk.Validator   = (*example)(nil)
	_ sdk.Confirmer   = (*example)(nil)
	_ sdk.Executor    = (*example)(nil)
	_ sdk.Closer      = (*example)(nil)
)

func main() { sdk.Serve(&example{}) }

func (e *example) path(p string) string { return filepath.Join(e.env.Root, p) }

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func (e *example) Info(context.Context, sdk.InfoRequest) (sdk.InfoResponse, error) {
	return sdk.InfoResponse{
		Name:        "example",
		Version:     "1.0.0",
		Description: "example external plugin: cleans example-app",
		// Runs before the engine in every stage, as a component that
		// depends on the engine should.
		DependsOn:  []string{"engine"},
		AnswerKeys: []string{cacheAnswr},
	}, nil
}

func (e *example) Init(ctx context.Context, req sdk.InitRequest) (sdk.InitResponse, error) {
	e.env = req.Environment
	e.installed = exists(e.path(record))
	if !e.installed {
		if exists(e.path(dataDir)) {
			return sdk.InitResponse{Problems: []sdk.Problem{{Severity: sdk.Warning, Kind: sdk.KindLeftover,
				Message: dataDir + " exists but " + record + " does not: left alone",
				Remedy:  "remove it by hand if it is not needed"}}}, nil
		}
		return sdk.InitResponse{}, nil
	}
	sdk.Logger(ctx).Info("example-app found", "record", record)
	return sdk.InitResponse{
		Installed: true,
		Findings:  []string{"example-app is installed (" + record + ")"},
		Questions: []sdk.Question{{
			Key: cacheKey, Prompt: "Remove the example-app cache as well?", Type: sdk.YesNo,
			Default: "true", AnswerKey: cacheAnswr,
		}},
	}, nil
}

func (e *example) Validate(_ context.Context, req sdk.ValidateRequest) (sdk.ValidateResponse, error) {
	return sdk.ValidateResponse{Plan: e.plan(req.Answers)}, nil
}

func (e *example) Confirm(_ context.Context, req sdk.ConfirmRequest) (sdk.ConfirmResponse, error) {
	e.answers = req.Answers
	return sdk.ConfirmResponse{Plan: e.plan(req.Answers)}, nil
}

// plan is the same for the same host and answers: IDs are stable.
func (e *example) plan(answers sdk.Answers) []sdk.Action {
	if !e.installed {
		return nil
	}
	plan := []sdk.Action{
		{ID: "example.stop", Stage: sdk.StageStop, Description: "Stop example-app", Resources: []string{runMarker}},
		{ID: "example.backup", Stage: sdk.StageBackup, Description: "Back up example-app data", Resources: []string{dataDir}},
		{ID: "example.remove-data", Stage: sdk.StageRemove, Description: "Remove example-app data", Resources: []string{dataDir}},
	}
	if removeCache, ok := answers.Bool(cacheKey); !ok || removeCache {
		plan = append(plan, sdk.Action{ID: "example.remove-cache", Stage: sdk.StageRemove,
			Description: "Remove example-app cache", Resources: []string{cacheDir}})
	}
	return append(plan, sdk.Action{ID: "example.forget", Stage: sdk.StageForget,
		Description: "Remove the example-app record", Resources: []string{record}})
}

func (e *example) Execute(ctx context.Context, req sdk.ExecuteRequest) (sdk.ExecuteResponse, error) {
	log := sdk.Logger(ctx).With("action", req.ActionID)
	switch req.ActionID {
	case "example.stop":
		return removeIfPresent(e.path(runMarker), "stopped", "already stopped")
	case "example.backup":
		return e.backup(ctx, req.Progress)
	case "example.remove-data":
		return removeIfPresent(e.path(dataDir), "removed", "already gone")
	case "example.remove-cache":
		return removeIfPresent(e.path(cacheDir), "removed", "already gone")
	case "example.forget":
		log.Info("forgetting example-app")
		return removeIfPresent(e.path(record), "removed", "already gone")
	}
	return sdk.ExecuteResponse{Problems: []sdk.Problem{sdk.Blocker(sdk.KindGeneral,
		"unknown action "+req.ActionID, "report this to the plugin's author")}}, nil
}

func removeIfPresent(p, done, already string) (sdk.ExecuteResponse, error) {
	if !exists(p) {
		return sdk.ExecuteResponse{Outcome: already}, nil
	}
	if err := os.RemoveAll(p); err != nil {
		return sdk.ExecuteResponse{Problems: []sdk.Problem{sdk.Blocker(sdk.KindGeneral,
			fmt.Sprintf("removing %s: %v", p, err), "check the permissions, then run engine-cleanup again")}}, nil
	}
	return sdk.ExecuteResponse{Changed: true, Outcome: done}, nil
}

// backup writes a tar.gz of the data directory under a temporary name and
// renames it when complete, so a killed run never leaves a truncated backup.
// When the data is already gone (a rerun), there is nothing to back up.
func (e *example) backup(ctx context.Context, progress func(sdk.Progress)) (sdk.ExecuteResponse, error) {
	src := e.path(dataDir)
	if !exists(src) {
		return sdk.ExecuteResponse{Outcome: "nothing left to back up"}, nil
	}
	dir := e.path(backupDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return sdk.ExecuteResponse{}, err
	}
	final := filepath.Join(dir, "example-app-"+e.env.RunID+".tar.gz")
	tmp, err := os.CreateTemp(dir, ".example-app-*.tmp")
	if err != nil {
		return sdk.ExecuteResponse{}, err
	}
	defer os.Remove(tmp.Name())
	if err := writeTarGz(ctx, tmp, src, progress); err != nil {
		tmp.Close()
		return sdk.ExecuteResponse{Problems: []sdk.Problem{sdk.Blocker(sdk.KindGeneral,
			"backing up "+dataDir+": "+err.Error(), "fix the cause and run engine-cleanup again")}}, nil
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return sdk.ExecuteResponse{}, err
	}
	if err := tmp.Close(); err != nil {
		return sdk.ExecuteResponse{}, err
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return sdk.ExecuteResponse{}, err
	}
	return sdk.ExecuteResponse{Changed: true, Outcome: "written",
		Backups: []sdk.Backup{{Path: final, Description: "example-app data"}},
		Notes:   []string{"example-app was removed; reinstall it after engine-setup if you need it"}}, nil
}

func writeTarGz(ctx context.Context, w io.Writer, src string, progress func(sdk.Progress)) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	var done int64
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() && !info.IsDir() {
			return nil // sockets and symlinks are not data worth keeping
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(filepath.Dir(src), p)
		hdr.Name = rel
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.IsDir() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		n, err := io.Copy(tw, f)
		f.Close()
		done += n
		progress(sdk.Progress{Message: rel, Done: done})
		return err
	})
	if err != nil {
		return err
	}
	return errors.Join(tw.Close(), gz.Close())
}

func (e *example) Closeup(_ context.Context, req sdk.CloseupRequest) (sdk.CloseupResponse, error) {
	if req.FailedAction != "" {
		return sdk.CloseupResponse{Notes: []string{"example-app cleanup stopped at " + req.FailedAction +
			"; run engine-cleanup again after fixing the cause"}}, nil
	}
	return sdk.CloseupResponse{}, nil
}
