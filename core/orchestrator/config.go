package orchestrator

import (
	"io"
	"time"

	"github.com/engine-cleanup/engine-cleanup/core/pluginhost"
)

// Config is everything a run is told by the command line.
type Config struct {
	Version string
	// Root stands for "/" for every file path; "" or "/" is the real root.
	Root string

	PluginDirs        []string
	AdminPluginDir    string
	PackagedPluginDir string
	// BuiltIns are the built-in plugins, launched like external ones.
	BuiltIns []pluginhost.Spec
	UID      int

	Unattended  bool
	DontDropDB  bool
	DryRun      bool
	JSON        bool
	AnswerFiles []string
	LogFile     string

	ServiceManager string
	LibvirtURI     string

	StartTimeout  time.Duration
	PhaseTimeout  time.Duration
	ActionTimeout time.Duration

	Now func() time.Time
}

// IO is the run's view of the terminal.
type IO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// InTerminal is true when In is a terminal: questions may be asked.
	InTerminal bool
	// OutTerminal is true when the console output goes to a terminal:
	// progress lines and colour may be used.
	OutTerminal bool
	NoColor     bool
}

func (c Config) rootDir() string {
	if c.Root == "" {
		return "/"
	}
	return c.Root
}
