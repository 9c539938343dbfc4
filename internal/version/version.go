// Package version holds the product version, set at build time with
// -ldflags "-X github.com/engine-cleanup/engine-cleanup/internal/version.Version=…".
package version

// Version is the product version.
var Version = "0.1.0-dev"
