#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fetch-source.sh - take what the tests and the style gate need from Debian's
# linux-source-6.12 package: kselftest_harness.h, kselftest.h, checkpatch.pl
# and its data files, and the kernel's own port-allocation selftests of
# tools/testing/selftests/net (kernel_net.sh runs them).  They are unpacked
# into $EPHPORT_CACHE/linux-source-<ver>-<layout> (printed on success); the
# package itself is not installed.  Bump $layout whenever the list of files
# changes, so that an older cache is unpacked again.

set -eu

pkg=${EPHPORT_SOURCE_PKG:-linux-source-6.12}
cache=${EPHPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ephport}

# The kernel's tests of port allocation (see kernel_net.sh).
net_tests="ip_local_port_range bind_timewait bind_wildcard reuseaddr_conflict
reuseaddr_ports_exhausted reuseport_addr_any reuseport_dualstack
sk_bind_sendto_listen sk_connect_zero_addr so_incoming_cpu tcp_inq"

die() { echo "fetch-source: $*" >&2; exit 1; }
apt_opts=
. "$(dirname "$0")/apt.sh"

ver=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "no $pkg package known to apt (apt-get update?)"
layout=2
dir=$cache/$pkg-$ver-$layout
if [ -f "$dir/.complete" ]; then
	echo "$dir"
	exit 0
fi

echo "fetch-source: $pkg $ver" >&2
mkdir -p "$cache" || die "cannot create $cache"
tmp=$(mktemp -d "$cache/.src.XXXXXX") || die "cannot create a directory in $cache"
trap 'rm -rf "$tmp"' EXIT
deb=$(fetch_debs "$tmp" "$pkg=$ver")
dpkg -x "$deb" "$tmp/x" || die "cannot unpack $deb"
tarball=$(ls "$tmp"/x/usr/src/linux-source-*.tar.xz 2>/dev/null) ||
	die "$pkg holds no linux-source tarball"
top=$(basename "$tarball" .tar.xz)
rm -rf "$dir"
mkdir -p "$dir" || die "cannot create $dir"
tar -C "$dir" --strip-components=1 -xJf "$tarball" \
	"$top/tools/testing/selftests/kselftest_harness.h" \
	"$top/tools/testing/selftests/kselftest.h" \
	"$top/tools/testing/selftests/kselftest/ktap_helpers.sh" \
	"$top/scripts/checkpatch.pl" \
	"$top/scripts/spelling.txt" \
	"$top/scripts/const_structs.checkpatch" \
	$(for t in $net_tests; do echo "$top/tools/testing/selftests/net/$t.c"; done) ||
	die "cannot unpack $tarball"
touch "$dir/.complete"
echo "$dir"
