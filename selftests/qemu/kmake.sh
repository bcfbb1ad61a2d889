#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kmake.sh KDIR M [MAKE ARG...] - make -C KDIR M=M [ARG...]: on the host,
# or, when the headers in KDIR were made by a compiler the host does not
# have (sid's kernel and gcc-16), inside the Debian root of build-root.sh,
# with KDIR's kernel directory and M bind-mounted at their own paths.

set -eu

kdir=${1:?usage: kmake.sh KDIR M [MAKE ARG...]}
m=${2:?usage: kmake.sh KDIR M [MAKE ARG...]}
shift 2

cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' "$kdir/.config" 2>/dev/null)
if [ -z "$cc" ] || command -v "$cc" >/dev/null; then
	exec make -C "$kdir" M="$m" "$@"
fi
# A kernel directory of fetch-kernel.sh: its headers point into its root/,
# which the build reads too.
kroot=$(cd "$kdir/.." && pwd)
[ -d "$kroot/root" ] || kroot=$kdir
exec "$(dirname "$0")/build-root.sh" "$cc" "$kroot" "$m" -- make -C "$kdir" M="$m" "$@"
