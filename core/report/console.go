package report

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// Console prints the run for people: short stage headers, one line per
// action, and the summary.
type Console struct {
	mu       sync.Mutex
	w        io.Writer
	mask     func(string) string
	color    bool
	terminal bool
	// progressShown is true while a progress line is on screen.
	progressShown bool
}

// NewConsole writes to w. terminal enables the progress indicator; color
// enables colour (the caller turns it off for NO_COLOR and non-terminals).
func NewConsole(w io.Writer, mask func(string) string, terminal, color bool) *Console {
	return &Console{w: w, mask: mask, terminal: terminal, color: color}
}

const (
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	reset  = "\x1b[0m"
)

func (c *Console) paint(color, s string) string {
	if !c.color {
		return s
	}
	return color + s + reset
}

// Printf prints a line (a newline is added).
func (c *Console) Printf(format string, args ...interface{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clearProgress()
	fmt.Fprintln(c.w, c.mask(fmt.Sprintf(format, args...)))
}

func (c *Console) clearProgress() {
	if c.progressShown {
		fmt.Fprint(c.w, "\r\x1b[K")
		c.progressShown = false
	}
}

// Header prints a phase or summary header in otopi's style.
func (c *Console) Header(title string) {
	c.Printf("\n--== %s ==--", strings.ToUpper(title))
}

// Problem prints one problem on its own line.
func (c *Console) Problem(p Problem) {
	label := c.paint(yellow, "[WARNING]")
	if p.Severity == sdk.Blocking {
		label = c.paint(red, "[ERROR]")
	}
	c.Printf("%s %s", label, p.Text())
}

// Plan prints the plan grouped by stage.
func (c *Console) Plan(actions []Action) {
	stage := sdk.Stage("")
	for _, a := range actions {
		if a.Stage != stage {
			stage = a.Stage
			c.Printf("  %s:", stage)
		}
		c.Printf("    [%s] %s", a.Plugin, a.Description)
	}
}

// Stage prints the header of a cleanup stage.
func (c *Console) Stage(s sdk.Stage) { c.Printf("Stage %s", s) }

// StepStarted announces an action before it runs, so a hang or a kill shows
// which action was running.
func (c *Console) StepStarted(a Action) {
	if c.terminal {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.clearProgress()
		fmt.Fprint(c.w, c.mask(fmt.Sprintf("  [ .... ] %s: %s", a.Plugin, a.Description)))
		c.progressShown = true
		return
	}
	c.Printf("  [ .... ] %s: %s", a.Plugin, a.Description)
}

// StepFinished prints the outcome of an action.
func (c *Console) StepFinished(e Executed) {
	label := c.paint(green, "[  OK  ]")
	text := e.Plugin + ": " + e.Description
	switch {
	case e.Status == "failed":
		label = c.paint(red, "[FAILED]")
		text += ": " + e.Error
	case e.Outcome != "":
		text += " (" + e.Outcome + ")"
	}
	c.Printf("  %s %s", label, text)
}

// Progress updates the progress line of a long action. It prints nothing
// when the output is not a terminal.
func (c *Console) Progress(a Action, p sdk.Progress) {
	if !c.terminal {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clearProgress()
	amount := ""
	switch {
	case p.Total > 0:
		amount = fmt.Sprintf(" %d%%", p.Done*100/p.Total)
	case p.Done > 0:
		amount = " " + humanBytes(p.Done)
	}
	fmt.Fprint(c.w, c.mask(fmt.Sprintf("  [ .... ] %s: %s%s %s", a.Plugin, a.Description, amount, p.Message)))
	c.progressShown = true
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
