#!/usr/bin/env bash
# Installs everything engine-cleanup's build, demo and tests need on a fresh
# Debian 12 machine: Debian packages (only those missing) and Go modules.
# Safe to run again; it changes nothing when all is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # build: protocol generation, libvirt binding (cgo)
  protobuf-compiler pkg-config libvirt-dev libvirt0
  # tests: a throwaway PostgreSQL cluster per test
  postgresql-15 postgresql-client-15
  # tests: a private systemd --user manager with D-Bus
  systemd dbus-user-session
  # tests: a real libvirt daemon with the qemu driver, and virsh
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86
  # tools used by scripts and tests
  util-linux tar gzip
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  # Without systemd as PID 1, package scripts cannot start services; that is harmless here.
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# libvirtd's qemu driver wants this user, normally created by libvirt-daemon-system.
if ! getent passwd libvirt-qemu >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo groupadd --system libvirt-qemu 2>/dev/null || true
  $sudo useradd --system -g libvirt-qemu libvirt-qemu
fi

command -v go >/dev/null || { echo "setup: Go is missing (expected at /usr/local/go/bin)" >&2; exit 1; }
go mod download
