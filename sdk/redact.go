package sdk

import (
	"encoding/json"
	"io"
	"slices"
	"strings"
	"sync"
)

// Mask replaces a secret wherever it would be shown.
const Mask = "********"

// Redactor masks registered secrets in text. It is safe for concurrent use.
type Redactor struct {
	mu       sync.RWMutex
	replacer *strings.Replacer
	secrets  map[string]bool
}

// NewRedactor returns a Redactor that knows no secret yet.
func NewRedactor() *Redactor { return &Redactor{secrets: map[string]bool{}} }

// Add registers secrets. Each is also masked in the escaped forms it takes
// inside JSON and quoted strings, since log lines carry both. Secrets shorter
// than 3 bytes are ignored: masking them would garble unrelated text.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, s := range secrets {
		if len(s) < 3 || r.secrets[s] {
			continue
		}
		changed = true
		r.secrets[s] = true
	}
	if !changed {
		return
	}
	var forms []string
	seen := map[string]bool{}
	for s := range r.secrets {
		quoted, _ := json.Marshal(s)
		for _, f := range []string{s, string(quoted[1 : len(quoted)-1])} {
			if !seen[f] {
				seen[f] = true
				forms = append(forms, f)
			}
		}
	}
	// Longest first, so a secret containing another is masked whole.
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, Mask)
	}
	r.replacer = strings.NewReplacer(pairs...)
}

// String returns s with every registered secret masked.
func (r *Redactor) String(s string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.replacer == nil {
		return s
	}
	return r.replacer.Replace(s)
}

// Writer returns a writer that masks secrets before writing to w. Each Write
// is masked on its own, so callers must write whole lines (hclog does).
func (r *Redactor) Writer(w io.Writer) io.Writer { return redactWriter{r: r, w: w} }

type redactWriter struct {
	r *Redactor
	w io.Writer
}

func (rw redactWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(rw.w, rw.r.String(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
