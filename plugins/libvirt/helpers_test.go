//go:build cgo

package libvirt

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"libvirt.org/go/libvirt"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// testHostURI is the test-driver URI of testdata/host.xml. Its state
// belongs to the connection that opens it.
func testHostURI(t testing.TB) string {
	t.Helper()
	abs, err := filepath.Abs("testdata/host.xml")
	if err != nil {
		t.Fatal(err)
	}
	return "test://" + abs
}

// openShared opens uri once, for the test and every plugin instance the
// test starts: the plugin gets it through options.open and never closes it.
func openShared(t testing.TB, uri string) (*libvirt.Connect, options) {
	t.Helper()
	c, err := libvirt.NewConnect(uri)
	if err != nil {
		t.Fatalf("connecting to %s: %v", uri, err)
	}
	t.Cleanup(func() { c.Close() })
	return c, options{open: func(string) (*libvirt.Connect, func(), error) { return c, func() {}, nil }}
}

// connect serves impl through the SDK's gRPC adapters in process, as the
// conformance kit does, so that every response crosses the wire format.
func connect(t testing.TB, impl sdk.Plugin) *sdk.Client {
	t.Helper()
	client, server := goplugin.TestPluginGRPCConn(t, false, map[string]goplugin.Plugin{
		sdk.PluginKey: &sdk.GRPCPlugin{Impl: impl},
	})
	t.Cleanup(func() { _ = client.Close() })
	t.Cleanup(server.Stop)
	raw, err := client.Dispense(sdk.PluginKey)
	if err != nil {
		t.Fatalf("dispensing the plugin: %v", err)
	}
	return raw.(*sdk.Client)
}

// run is one run of a plugin instance, as the core drives it.
type run struct {
	init     sdk.InitResponse
	validate sdk.ValidateResponse
	confirm  sdk.ConfirmResponse
	executed map[string]sdk.ExecuteResponse
	order    []string // action IDs, as executed
	took     map[string]time.Duration
	backups  []sdk.Backup
}

// problems gathers every problem of the run.
func (r *run) problems() []sdk.Problem {
	out := slices.Clone(r.init.Problems)
	out = append(out, r.validate.Problems...)
	for _, id := range r.order {
		out = append(out, r.executed[id].Problems...)
	}
	return out
}

func (r *run) blocking() []sdk.Problem {
	var out []sdk.Problem
	for _, p := range r.problems() {
		if p.Severity == sdk.Blocking {
			out = append(out, p)
		}
	}
	return out
}

// drive runs init, validate and confirm and, unless something blocks,
// executes the plan stage by stage and calls closeup. It fails the test
// on a Go error, which the core would report as a crashed plugin.
func drive(t testing.TB, impl sdk.Plugin, env sdk.Environment) *run {
	t.Helper()
	c := connect(t, impl)
	ctx := t.Context()
	r := &run{executed: map[string]sdk.ExecuteResponse{}, took: map[string]time.Duration{}}
	var err error
	if r.init, err = c.Init(ctx, sdk.InitRequest{Environment: env}); err != nil {
		t.Fatalf("init: %v", err)
	}
	if r.validate, err = c.Validate(ctx, sdk.ValidateRequest{Answers: sdk.Answers{}}); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if r.confirm, err = c.Confirm(ctx, sdk.ConfirmRequest{Answers: sdk.Answers{}}); err != nil {
		t.Fatalf("confirm: %v", err)
	}
	if sdk.HasBlocking(r.init.Problems) || sdk.HasBlocking(r.validate.Problems) || sdk.HasBlocking(r.confirm.Problems) {
		if _, err := c.Closeup(ctx, sdk.CloseupRequest{Aborted: true}); err != nil {
			t.Fatalf("closeup: %v", err)
		}
		return r
	}
	for _, stage := range sdk.Stages {
		var actions []sdk.Action
		for _, a := range r.confirm.Plan {
			if a.Stage == stage {
				actions = append(actions, a)
			}
		}
		// The core runs the backup stage 4 actions at a time
		// (core/orchestrator: plan.Options Concurrent, Limit 4).
		limit := 1
		if stage == sdk.StageBackup {
			limit = 4
		}
		responses := make([]sdk.ExecuteResponse, len(actions))
		took := make([]time.Duration, len(actions))
		errs := make([]error, len(actions))
		sem := make(chan struct{}, limit)
		var wg sync.WaitGroup
		for i, a := range actions {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				begin := time.Now()
				responses[i], errs[i] = c.Execute(ctx, sdk.ExecuteRequest{ActionID: a.ID, Progress: func(sdk.Progress) {}})
				took[i] = time.Since(begin)
			}()
			if limit == 1 {
				wg.Wait()
				if errs[i] != nil || sdk.HasBlocking(responses[i].Problems) {
					break
				}
			}
		}
		wg.Wait()
		failedAt := ""
		for i, a := range actions {
			if errs[i] != nil {
				t.Fatalf("execute %s: %v", a.ID, errs[i])
			}
			if took[i] == 0 && responses[i].Outcome == "" && len(responses[i].Problems) == 0 {
				continue // not run: an earlier action failed
			}
			r.executed[a.ID] = responses[i]
			r.took[a.ID] = took[i]
			r.order = append(r.order, a.ID)
			r.backups = append(r.backups, responses[i].Backups...)
			if sdk.HasBlocking(responses[i].Problems) && failedAt == "" {
				t.Logf("action %s failed: %v", a.ID, responses[i].Problems)
				failedAt = a.ID
			}
		}
		if failedAt != "" {
			c.Closeup(ctx, sdk.CloseupRequest{FailedAction: failedAt})
			return r
		}
	}
	if _, err := c.Closeup(ctx, sdk.CloseupRequest{Succeeded: true, Executed: r.order}); err != nil {
		t.Fatalf("closeup: %v", err)
	}
	return r
}

// writeRecord writes RecordFile under root.
func writeRecord(t testing.TB, root, content string) string {
	t.Helper()
	p := filepath.Join(root, RecordFile)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// domainState is what a test compares of a domain: enough to tell that
// nothing of it changed, or that a restore gave it back.
type domainState struct {
	Name       string
	Active     bool
	Persistent bool
	Snapshots  map[string]string // name -> parent ("" for a root)
	Current    string
}

// domains lists every domain of c by UUID.
func domains(t testing.TB, c *libvirt.Connect) map[string]domainState {
	t.Helper()
	doms, err := c.ListAllDomains(0)
	if err != nil {
		t.Fatalf("listing domains: %v", err)
	}
	out := map[string]domainState{}
	for i := range doms {
		d := &doms[i]
		uuid, _ := d.GetUUIDString()
		out[uuid] = stateOf(t, d)
		d.Free()
	}
	return out
}

func stateOf(t testing.TB, d *libvirt.Domain) domainState {
	t.Helper()
	var s domainState
	s.Name, _ = d.GetName()
	s.Active, _ = d.IsActive()
	s.Persistent, _ = d.IsPersistent()
	s.Snapshots = map[string]string{}
	snaps, err := d.ListAllSnapshots(0)
	if err != nil {
		t.Fatalf("listing snapshots of %s: %v", s.Name, err)
	}
	for i := range snaps {
		name, _ := snaps[i].GetName()
		parent := ""
		if p, err := snaps[i].GetParent(0); err == nil {
			parent, _ = p.GetName()
			p.Free()
		}
		s.Snapshots[name] = parent
		if cur, _ := snaps[i].IsCurrent(0); cur {
			s.Current = name
		}
		snaps[i].Free()
	}
	return s
}

// noteLines returns the virsh command lines of an archive's restore note,
// verbatim, and the archive directory they run in.
func noteLines(t testing.TB, archive map[string]string) (dir string, lines []string) {
	t.Helper()
	for name, content := range archive {
		d, base := filepath.Split(name)
		if base != RestoreNote {
			continue
		}
		dir = strings.TrimSuffix(d, "/")
		for _, line := range strings.Split(content, "\n") {
			if strings.HasPrefix(line, "  virsh ") {
				lines = append(lines, strings.TrimSpace(line))
			}
		}
		return dir, lines
	}
	t.Fatalf("no %s in the archive", RestoreNote)
	return "", nil
}

// noteCommands is noteLines split into words.
func noteCommands(t testing.TB, archive map[string]string) (dir string, cmds [][]string) {
	t.Helper()
	dir, lines := noteLines(t, archive)
	for _, l := range lines {
		cmds = append(cmds, shellWords(t, l))
	}
	return dir, cmds
}

// shellWords splits a command line as a POSIX shell would, for the quoting
// shellQuote produces: plain words and single-quoted strings.
func shellWords(t testing.TB, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '\'':
			quoted = false
		case quoted:
			cur.WriteByte(c)
		case c == '\'':
			quoted, inWord = true, true
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unterminated quote in %q", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// restoreThroughAPI carries out a restore note's virsh commands with the Go
// binding on c, for a test-driver connection that virsh cannot reach.
func restoreThroughAPI(t testing.TB, c *libvirt.Connect, archive map[string]string) {
	t.Helper()
	dir, cmds := noteCommands(t, archive)
	file := func(name string) string {
		content, ok := archive[dir+"/"+name]
		if !ok {
			t.Fatalf("the restore note names %s, which is not in the archive", name)
		}
		return content
	}
	for _, cmd := range cmds {
		args := cmd[1:]
		if len(args) >= 2 && args[0] == "-c" {
			args = args[2:]
		}
		has := func(flag string) bool { return slices.Contains(args, flag) }
		switch args[0] {
		case "define":
			d, err := c.DomainDefineXML(file(args[1]))
			if err != nil {
				t.Fatalf("%q: %v", cmd, err)
			}
			d.Free()
		case "create":
			d, err := c.DomainCreateXML(file(args[1]), 0)
			if err != nil {
				t.Fatalf("%q: %v", cmd, err)
			}
			d.Free()
		case "snapshot-create", "checkpoint-create":
			d, err := c.LookupDomainByUUIDString(args[1])
			if err != nil {
				t.Fatalf("%q: %v", cmd, err)
			}
			if args[0] == "snapshot-create" {
				flags := libvirt.DOMAIN_SNAPSHOT_CREATE_REDEFINE
				if has("--current") {
					flags |= libvirt.DOMAIN_SNAPSHOT_CREATE_CURRENT
				}
				s, err := d.CreateSnapshotXML(file(args[2]), flags)
				if err != nil {
					t.Fatalf("%q: %v", cmd, err)
				}
				s.Free()
			} else {
				cp, err := d.CreateCheckpointXML(file(args[2]), libvirt.DOMAIN_CHECKPOINT_CREATE_REDEFINE)
				if err != nil {
					t.Fatalf("%q: %v", cmd, err)
				}
				cp.Free()
			}
			d.Free()
		default:
			t.Fatalf("the restore note has a command this test does not know: %q", cmd)
		}
	}
}
