#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh - install what building and testing ephport needs on a Debian host.
# Nothing happens when everything is present; otherwise, as root, apt-get
# installs the missing packages.

set -eu

missing=
need() { # need TEST PACKAGE
	eval "$1" >/dev/null 2>&1 || missing="$missing $2"
}
need 'command -v gcc' gcc
need 'command -v make' make
need 'test -f /usr/lib/x86_64-linux-gnu/libc.a' libc6-dev
need 'command -v qemu-system-x86_64' qemu-system-x86
need 'test -x /bin/busybox && /bin/busybox --list | grep -qx modprobe' busybox-static
need 'command -v cpio' cpio
need 'command -v pahole' dwarves
need 'command -v xz' xz-utils
need 'command -v depmod' kmod
need 'command -v jq' jq
need 'command -v apt-get' apt
need 'command -v perl' perl
need 'command -v gnuplot' gnuplot-nox
need 'command -v sparse' sparse
need 'command -v dkms' dkms
need 'command -v timeout' coreutils
# build-debug-kernel.sh: the kernel's own build.
need 'command -v flex' flex
need 'command -v bison' bison
need 'command -v bc' bc
need 'test -f /usr/include/libelf.h' libelf-dev
# build-root.sh: kernels made by a compiler the host lacks (sid's gcc-16).
need 'command -v mmdebstrap' mmdebstrap
need 'test -f /usr/share/keyrings/debian-archive-keyring.gpg' debian-archive-keyring

[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "ephport: missing packages:$missing (run as root, or apt-get install them)" >&2
	exit 1
fi
echo "ephport: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet.
apt-get install -y -q --no-install-recommends $missing >&2 ||
	{ apt-get update -q >&2 && apt-get install -y -q --no-install-recommends $missing >&2; }
