#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fetch-source.sh - take what the tests and the style gate need from Debian's
# linux-source-6.12 package: kselftest_harness.h, kselftest.h, checkpatch.pl
# and its data files.  They are unpacked into $EPHPORT_CACHE/linux-source-<ver>
# (printed on success); the package itself is not installed.

set -eu

pkg=${EPHPORT_SOURCE_PKG:-linux-source-6.12}
cache=${EPHPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ephport}

die() { echo "fetch-source: $*" >&2; exit 1; }

ver=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "no $pkg package known to apt (apt-get update?)"
dir=$cache/$pkg-$ver
if [ -f "$dir/.complete" ]; then
	echo "$dir"
	exit 0
fi

echo "fetch-source: $pkg $ver" >&2
mkdir -p "$cache" || die "cannot create $cache"
tmp=$(mktemp -d "$cache/.src.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver" >&2) ||
	die "apt-get download $pkg failed"
dpkg -x "$tmp"/*.deb "$tmp/x"
tarball=$(ls "$tmp"/x/usr/src/linux-source-*.tar.xz)
top=$(basename "$tarball" .tar.xz)
rm -rf "$dir"
mkdir -p "$dir"
tar -C "$dir" --strip-components=1 -xJf "$tarball" \
	"$top/tools/testing/selftests/kselftest_harness.h" \
	"$top/tools/testing/selftests/kselftest.h" \
	"$top/tools/testing/selftests/kselftest/ktap_helpers.sh" \
	"$top/scripts/checkpatch.pl" \
	"$top/scripts/spelling.txt" \
	"$top/scripts/const_structs.checkpatch" ||
	die "cannot unpack $tarball"
touch "$dir/.complete"
echo "$dir"
