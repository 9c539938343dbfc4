// Package discovery finds external plugin candidates in the plugin search
// path and decides which of them may be executed, without running any.
//
// The search path is a list of directories, each tagged with what put it
// there: --plugin-dir flags first, then the admin directory, then the
// packaged directory. An earlier directory wins when two hold the same
// plugin name. Every file named engine-cleanup-plugin-<name> is a candidate;
// any other file is ignored.
//
// Before a candidate may be launched it must pass the checks of the
// specification, modelled on Vault's plugin directory checks: a regular file
// (or a symlink whose real target passes every check), executable by its
// owner, not writable by group or others, owned by root or the invoking user,
// in a directory owned by root or the invoking user and not writable by group
// or others. Like kubectl and the Docker CLI, names that clash with a
// built-in and names shadowed by an earlier directory are reported as
// warnings, and the file is not used.
//
// Scan reports every candidate with a status and a reason meant for an
// administrator, plus the SHA-256 of every regular file it could read.
// Whether a launchable candidate really is a plugin is found out only by
// launching it, which is not this package's job.
package discovery
