//go:build cgo && libvirt_dlopen

package libvirt

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

// probeLibvirt opens libvirt.so.0 as the binding does and returns why it
// cannot (to be freed), or NULL when it can.
static char *probeLibvirt(void) {
	void *h = dlopen("libvirt.so.0", RTLD_NOW | RTLD_LOCAL);
	if (h != NULL) {
		dlclose(h);
		return NULL;
	}
	const char *e = dlerror();
	return strdup(e != NULL ? e : "dlopen failed");
}
*/
import "C"

import "unsafe"

// dlopenError says why libvirt.so.0 cannot be opened, "" when it can. The
// binding opens the library in its package init and keeps only "Failed to
// open libvirt.so.0" for later calls; the dynamic loader's own reason
// ("cannot open shared object file", "file too short", a missing symbol
// version) tells the administrator what to install.
func dlopenError() string {
	e := C.probeLibvirt()
	if e == nil {
		return ""
	}
	defer C.free(unsafe.Pointer(e))
	return C.GoString(e)
}
