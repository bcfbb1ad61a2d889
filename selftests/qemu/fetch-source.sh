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
apt_opts=
. "$(dirname "$0")/apt.sh"

ver=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "no $pkg package known to apt (apt-get update?)"
dir=$cache/$pkg-$ver
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
	"$top/scripts/const_structs.checkpatch" ||
	die "cannot unpack $tarball"
touch "$dir/.complete"
echo "$dir"
