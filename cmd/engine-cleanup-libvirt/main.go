// Command engine-cleanup-libvirt serves engine-cleanup's built-in libvirt
// plugin. It is a binary of its own because the libvirt binding opens
// libvirt.so.0 and its dependencies when the process starts: linked into
// engine-cleanup, every process — the core's --help included — would pay
// for it. Built with -tags libvirt_dlopen, it starts on a host without
// libvirt and reports why libvirt is unavailable. The core launches it
// like any plugin; run by hand it only says so.
package main

import (
	"github.com/engine-cleanup/engine-cleanup/plugins/libvirt"
	"github.com/engine-cleanup/engine-cleanup/sdk"
)

func main() { sdk.Serve(libvirt.New()) }
