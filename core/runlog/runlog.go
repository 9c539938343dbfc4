// Package runlog creates the log file of one run and the identity that names
// its files.
//
// Every run writes its own log, at oVirt's path
// /var/log/ovirt-engine/setup/ovirt-engine-remove-<YYYYmmddHHMMSS>-<random>.log
// (under --root when given), through a redactor so that no secret the core
// knows reaches the file.
package runlog

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/engine-cleanup/engine-cleanup/sdk"
)

// LogDir is where oVirt's setup tools keep their logs.
const LogDir = "/var/log/ovirt-engine/setup"

// ID names the files of one run: a timestamp and a random tag.
type ID struct {
	Time   time.Time
	Random string
}

// NewID returns the ID of a run starting now.
func NewID(now time.Time) ID {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return ID{Time: now, Random: string(b)}
}

// Stamp is the timestamp part, YYYYmmddHHMMSS.
func (id ID) Stamp() string { return id.Time.Format("20060102150405") }

// String is the stamp and the random tag joined by a dash.
func (id ID) String() string { return id.Stamp() + "-" + id.Random }

// DefaultPath returns the log path of a run under root.
func DefaultPath(root string, id ID) string {
	return filepath.Join(root, LogDir, fmt.Sprintf("ovirt-engine-remove-%s.log", id))
}

// Log is an open run log.
type Log struct {
	Path   string
	Logger hclog.Logger
	file   *os.File
}

// Open creates the log file (0600, parents 0755) and a logger writing to it
// through redact.
func Open(path string, redact *sdk.Redactor, level hclog.Level) (*Log, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("creating log directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening log file: %w", err)
	}
	logger := hclog.New(&hclog.LoggerOptions{
		Name:            "engine-cleanup",
		Level:           level,
		Output:          redact.Writer(f),
		IncludeLocation: false,
		TimeFormat:      "2006-01-02 15:04:05.000Z0700",
		Color:           hclog.ColorOff,
	})
	return &Log{Path: path, Logger: logger, file: f}, nil
}

// Discard returns a Log that writes nowhere, for runs that must not create
// files (listing plugins).
func Discard() *Log { return &Log{Logger: hclog.NewNullLogger()} }

// Close flushes and closes the file.
func (l *Log) Close() error {
	if l.file == nil {
		return nil
	}
	if err := l.file.Sync(); err != nil {
		l.file.Close()
		return err
	}
	return l.file.Close()
}

var _ io.Closer = (*Log)(nil)
