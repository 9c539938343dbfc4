//go:build cgo && !libvirt_dlopen

package libvirt

// dlopenError is "": without libvirt_dlopen the binary links libvirt, and
// does not start without it.
func dlopenError() string { return "" }
