#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kmake.sh KDIR M [MAKE ARG...] - make -C KDIR M=M [ARG...]: on the host,
# or, when the headers in KDIR were made by a compiler the host does not
# have (sid's kernel and gcc-16), inside the Debian root of build-root.sh,
# with KDIR's kernel directory, M and the directories in $EPHPORT_KMAKE_DIRS
# bind-mounted at their own paths.
#
# kmake.sh --host-cc KDIR - succeed when the host has KDIR's compiler;
# otherwise print its name and fail.

set -eu

host_cc() { # host_cc KDIR
	cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' "$1/.config" 2>/dev/null)
	[ -z "$cc" ] || command -v "$cc" >/dev/null
}

if [ "${1:-}" = --host-cc ]; then
	host_cc "${2:?usage: kmake.sh --host-cc KDIR}" || { echo "$cc"; exit 1; }
	exit 0
fi
kdir=${1:?usage: kmake.sh KDIR M [MAKE ARG...]}
m=${2:?usage: kmake.sh KDIR M [MAKE ARG...]}
shift 2

host_cc "$kdir" && exec make -C "$kdir" M="$m" "$@"
# A kernel directory of fetch-kernel.sh: its headers point into its root/,
# which the build reads too.
kroot=$(cd "$kdir/.." && pwd)
[ -d "$kroot/root" ] || kroot=$kdir
# shellcheck disable=SC2086 # EPHPORT_KMAKE_DIRS: words
exec "$(dirname "$0")/build-root.sh" "$cc" "$kroot" "$m" ${EPHPORT_KMAKE_DIRS:-} -- \
	make -C "$kdir" M="$m" "$@"
