// Package answers decides where the answer to each question comes from —
// a flag, an answer file, a default, or the terminal — and writes the answers
// a run used, in otopi's answer-file format, so that existing automation
// keeps working.
package answers

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/engine-cleanup/engine-cleanup/core/dialog"
	"github.com/engine-cleanup/engine-cleanup/sdk"
	"github.com/engine-cleanup/engine-cleanup/sdk/otopi"
)

// Answer-file keys the core itself understands.
const (
	KeyRemove     = "OVESETUP_CORE/remove"
	KeyAutoAccept = "DIALOG/autoAcceptDefault"
	// KeyRemoveAll is what otopi's cleanup asked first; only True makes
	// sense here, since partial cleanup is not supported.
	KeyRemoveAll = "OVESETUP_REMOVE/removeAll"
)

// Dir is where a run saves the answers it used (under --root).
const Dir = "/var/lib/ovirt-engine/setup/answers"

// Sources of an answer.
const (
	FromFlag       = "flag"
	FromFile       = "answer-file"
	FromDefault    = "default"
	FromAutoAccept = "auto-accept-default"
	FromTerminal   = "terminal"
)

// ApprovalQuestion is the core's final approval, asked after the plan is shown.
var ApprovalQuestion = sdk.Question{
	Key:       "core.remove",
	Prompt:    "The actions above will be executed; data will be lost. Proceed with cleanup?",
	Type:      sdk.Approval,
	Default:   "false",
	AnswerKey: KeyRemove,
}

// Question is a declared question and the plugin that declared it.
type Question struct {
	Plugin string
	sdk.Question
}

// Answer is a resolved question.
type Answer struct {
	Question
	Value  string
	Source string
}

// Inputs are what can answer a question without asking.
type Inputs struct {
	Unattended bool
	DontDropDB bool
	// Files are the parsed --config-append files, in order.
	Files []*otopi.File
	env   otopi.Env
}

// Load parses answer files. An error names the file and line.
func Load(paths []string) ([]*otopi.File, error) {
	var files []*otopi.File
	for _, p := range paths {
		f, err := otopi.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading answer file: %w", err)
		}
		files = append(files, f)
	}
	return files, nil
}

func (in *Inputs) merged() otopi.Env {
	if in.env == nil {
		in.env = otopi.Merge(in.Files...)
	}
	return in.env
}

// AutoAccept reports whether the answer files ask to take every default, as
// otopi's DIALOG/autoAcceptDefault does.
func (in *Inputs) AutoAccept() bool {
	v, _ := in.merged().Bool(KeyAutoAccept)
	return v
}

// CanApprove reports whether the final approval can be had without a
// terminal: -u, or an answer file that answers it or accepts defaults.
func (in *Inputs) CanApprove() bool {
	return in.Unattended || len(in.Files) > 0
}

// Check rejects answer-file keys that neither the core nor any plugin knows,
// and a removeAll of False. known holds every plugin's answer keys.
func (in *Inputs) Check(known []string) error {
	accepted := map[string]bool{KeyRemove: true, KeyAutoAccept: true, KeyRemoveAll: true}
	for _, k := range known {
		accepted[k] = true
	}
	for _, f := range in.Files {
		for _, e := range f.Entries {
			v := e.Value
			switch {
			case strings.HasPrefix(e.Key, "QUESTION/"):
				// otopi's record of a human dialog; informational only.
			case !accepted[e.Key]:
				return fmt.Errorf("%s:%d: unknown answer key %q: no plugin uses it; remove the line or check its spelling",
					v.File, v.Line, e.Key)
			case e.Key == KeyRemoveAll:
				if b, ok := otopiBool(v); !ok || !b {
					return fmt.Errorf("%s:%d: %s must be bool:True: partial cleanup is not supported",
						v.File, v.Line, e.Key)
				}
			case e.Key == KeyRemove || e.Key == KeyAutoAccept:
				if _, ok := otopiBool(v); !ok {
					return fmt.Errorf("%s:%d: %s must be bool:True or bool:False, not %s", v.File, v.Line, e.Key, v.Type)
				}
			}
		}
	}
	return nil
}

func otopiBool(v otopi.Value) (bool, bool) { return v.Bool, v.Type == otopi.TypeBool }

// Resolve answers q without asking, if anything can: -d for a database
// question, then an answer file, then -u or auto-accept with the default.
// ok is false when the question must be asked.
func (in *Inputs) Resolve(q Question) (Answer, bool, error) {
	if in.DontDropDB && q.Purpose == sdk.PurposeDropDatabase {
		return Answer{Question: q, Value: "false", Source: FromFlag}, true, nil
	}
	if q.AnswerKey != "" {
		if v, ok := in.merged()[q.AnswerKey]; ok {
			val, err := fromFile(q, v)
			if err != nil {
				return Answer{}, false, err
			}
			return Answer{Question: q, Value: val, Source: FromFile}, true, nil
		}
	}
	if in.Unattended && q.Key == ApprovalQuestion.Key {
		return Answer{Question: q, Value: "true", Source: FromFlag}, true, nil
	}
	if in.Unattended || in.AutoAccept() {
		if q.Default == "" && q.Type != sdk.Text {
			return Answer{}, false, nil
		}
		src := FromDefault
		if !in.Unattended {
			src = FromAutoAccept
		}
		return Answer{Question: q, Value: q.Default, Source: src}, true, nil
	}
	return Answer{}, false, nil
}

// fromFile checks the type of an answer-file value against the question.
func fromFile(q Question, v otopi.Value) (string, error) {
	var raw string
	switch q.Type {
	case sdk.YesNo, sdk.Approval:
		if v.Type != otopi.TypeBool {
			return "", fmt.Errorf("%s:%d: %s must be bool:True or bool:False, not %s", v.File, v.Line, q.AnswerKey, v.Type)
		}
		raw = fmt.Sprint(v.Bool)
	default:
		if v.Type != otopi.TypeStr {
			return "", fmt.Errorf("%s:%d: %s must be str:<value>, not %s", v.File, v.Line, q.AnswerKey, v.Type)
		}
		raw = v.Str
	}
	val, err := dialog.Normalize(q.Question, raw)
	if err != nil {
		return "", fmt.Errorf("%s:%d: %s: %w", v.File, v.Line, q.AnswerKey, err)
	}
	return val, nil
}

// Save writes the answers used to dir/<stamp>-cleanup.conf (0600), without
// secrets, and returns the path. Answers without an answer-file key are not
// written: nothing could read them back.
func Save(dir, stamp, version string, used []Answer) (string, error) {
	env := otopi.Env{}
	var omitted []string
	for _, a := range used {
		if a.AnswerKey == "" {
			continue
		}
		if a.Secret() {
			omitted = append(omitted, a.AnswerKey)
			continue
		}
		switch a.Type {
		case sdk.YesNo, sdk.Approval:
			env[a.AnswerKey] = otopi.Bool(a.Value == "true")
		default:
			env[a.AnswerKey] = otopi.Str(a.Value)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating answers directory: %w", err)
	}
	path := filepath.Join(dir, stamp+"-cleanup.conf")
	tmp, err := os.CreateTemp(dir, ".cleanup-*.conf")
	if err != nil {
		return "", fmt.Errorf("writing answer file: %w", err)
	}
	defer os.Remove(tmp.Name())
	header := "OTOPI answer file, generated by engine-cleanup " + version
	if len(omitted) > 0 {
		sort.Strings(omitted)
		header += "\n# secret answers not saved: " + strings.Join(slices.Compact(omitted), ", ")
	}
	if err := otopi.Write(tmp, header, env); err != nil {
		tmp.Close()
		return "", fmt.Errorf("writing answer file: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("writing answer file: %w", err)
	}
	return path, nil
}
