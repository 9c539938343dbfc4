// Package libvirt is the built-in plugin that removes the libvirt domains
// an oVirt engine installation left behind, with their managed-save images
// and their snapshot and checkpoint metadata, so that a new installation
// can define domains of the same names again. See README.md.
//
// Which domains: those RecordFile names by UUID, and those whose XML
// carries the metadata element MetadataElement in MetadataNamespace; never
// any other, whatever its name. The connection URI is
// Environment.LibvirtURI (--libvirt-uri), or libvirt's default.
//
// The plan, per domain, across the core's stages: stop (one action for all
// running persistent domains: a graceful shutdown of all at once, destroy
// after ShutdownTimeout), backup (the secure domain XML, every snapshot's
// and checkpoint's XML in topological order and a restore note, in one
// .tar.gz under BackupDir), remove (one UndefineFlags call with every
// flag; a step-by-step fallback only for a driver that rejects flags; a
// transient domain is destroyed), and forget (RecordFile, once every
// domain it names is gone).
//
// The libvirt binding needs cgo. Built with -tags libvirt_dlopen, the
// binary does not link libvirt: it opens libvirt.so.0 when the plugin
// first calls it, and a host without libvirt runs every other component;
// this plugin then says "libvirt unavailable: <reason>" in its Info
// description and as an Init finding, and refuses the run only when a
// domain is recorded. Built without cgo, the plugin is a stand-in that
// does the same with the reason "built without cgo".
package libvirt
