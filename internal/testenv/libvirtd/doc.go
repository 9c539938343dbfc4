// Package libvirtd starts a private, real libvirtd with the qemu driver for
// one test, so that code driving libvirt (plugins/libvirt) can be tested
// across processes — against a daemon, with real managed saves, snapshot,
// checkpoint and NVRAM metadata — without touching the host's libvirt.
//
// Why an unprivileged ("session") daemon: a libvirtd running as root reads
// the fixed /etc/libvirt/qemu.conf and keeps its state in /var/lib/libvirt
// and /run/libvirt whatever --config says, so it would collide with the
// host's own libvirt and with other test binaries. A libvirtd running as
// an ordinary user takes everything from $XDG_CONFIG_HOME,
// $XDG_CACHE_HOME and $XDG_RUNTIME_DIR, which the harness points into one
// short directory, /tmp/lvd-<pid>-<random>. As root, the daemon runs as the
// "libvirt-qemu" user (made by scripts/setup.sh, or by
// libvirt-daemon-system); otherwise as the user running the test. The
// qemu driver is the same code as for qemu:///system, with these paths:
//
//	<dir>/config/libvirt/qemu/<name>.xml         domain definitions
//	<dir>/config/libvirt/qemu/save/<name>.save   managed-save images   (/var/lib/libvirt/qemu/save)
//	<dir>/config/libvirt/qemu/snapshot/<name>/   snapshot metadata     (/var/lib/libvirt/qemu/snapshot)
//	<dir>/config/libvirt/qemu/checkpoint/<name>/ checkpoint metadata   (/var/lib/libvirt/qemu/checkpoint)
//	<dir>/data/                                  disk images, NVRAM files of the test (owned by the daemon's user)
//
// and the URI qemu:///session?socket=<dir>/run/libvirt/libvirt-sock, which
// a root client (virsh, the Go binding, engine-cleanup --libvirt-uri)
// reaches like any other. qemu.conf sets stdio_handler "file" (no
// virtlogd) and security_driver "none".
//
// Domains are TCG guests (type qemu: no /dev/kvm needed) of 64 MiB with no
// disk (DomainSpec, DomainXML); a qcow2 disk in the XML (which need not
// exist) allows checkpoint metadata, and an NVRAM path adds a UEFI loader
// so that undefine has an NVRAM file to remove.
//
// Start skips the test, naming the packages, when libvirtd, its qemu driver
// or qemu-system-x86_64 is missing. Readiness is a successful connection.
// At the end of the test the daemon's domains are destroyed and undefined
// with every flag, the daemon is stopped by PID (SIGTERM, then SIGKILL),
// any qemu process it left (found by its command line naming the
// daemon's directory) is killed by PID, and the directory is removed. If
// the test binary dies, libvirtd gets SIGTERM (Pdeathsig); the next Start
// sweeps the directories of dead test binaries, killing by PID the
// processes that still name them.
//
// The qemu driver probes the capabilities of qemu-system-x86_64 on its
// first connection (3.5 to 4 s), which Start waits for. Stop keeps the
// result in <tmp>/lvd-capscache-<uid> (written aside and renamed into
// place; never swept) and Start copies it into the next daemon's cache;
// libvirt checks each entry against the qemu binary and its own version
// and probes again when it is stale.
//
// Costs on the 2-vCPU reference machine: Start 0.1 to 0.3 s with the
// capabilities cached, 4 s without; a TCG domain starts in 0.4 s; a
// managed save of a 64 MiB guest takes 1.6 s; destroying a running TCG
// guest about 1.5 s; Stop well under a second.
package libvirtd
