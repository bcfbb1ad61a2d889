#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fetch-kernel.sh SERIES - download and unpack the newest Debian cloud kernel
# of SERIES: image, headers and the headers' dependencies.  SERIES is a
# kernel version (6.1, 6.12: the host's own apt sources) or a Debian suite
# (sid: its newest kernel, through the private apt of apt.sh).
#
# Nothing is installed on the host: the packages are unpacked with dpkg -x
# into $EPHPORT_CACHE/kernels/<release>/root.  On success the script prints
# the kernel directory, which holds:
#   vmlinuz   the kernel image
#   build     the headers directory to pass as KDIR
#   root/     the unpacked packages (lib/modules/<release> for extra modules)
#
# The package version is resolved with apt-cache every time: old versions
# disappear from the archive, so none is ever pinned.

set -eu

series=${1:?usage: fetch-kernel.sh SERIES}
cache=${EPHPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ephport}

die() { echo "fetch-kernel: $*" >&2; exit 1; }
. "$(dirname "$0")/apt.sh"

apt_opts=
case $series in
[0-9]*)
	re_series=$(printf '%s' "$series" | sed 's/\./\\./g')
	;;
*)
		suite_apt "$series"
	re_series='[0-9][0-9]*\.[0-9][0-9]*'
	;;
esac
# shellcheck disable=SC2086
release=$(apt-cache $apt_opts pkgnames linux-image- |
	sed -n "s/^linux-image-\(${re_series}\.[0-9][0-9]*\(+deb[0-9]*\)\{0,1\}\(-[0-9][0-9]*\)\{0,1\}-cloud-amd64\)\(-unsigned\)\{0,1\}\$/\1/p" |
	sort -uV | tail -n 1)
[ -n "$release" ] || die "no Debian cloud kernel of series $series found (apt-get update?)"

kdir=$cache/kernels/$release
if [ -f "$kdir/.complete" ]; then
	echo "$kdir"
	exit 0
fi

image=linux-image-$release-unsigned
apt-cache $apt_opts show "$image" >/dev/null 2>&1 || image=linux-image-$release
headers=linux-headers-$release
# The headers depend on linux-headers-<abi>-common and linux-kbuild-<ver>.
deps=$(apt-cache $apt_opts depends "$headers" 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-\(headers-[^ ]*-common\|kbuild-[^ ]*\)\)$/\1/p' | sort -u)
[ -n "$deps" ] || die "cannot resolve the dependencies of $headers"

# Since 7.x the image is a metapackage: the kernel, its modules and its
# System.map come in linux-{binary,modules,base}-<release>.
re_release=$(printf '%s' "$release" | sed 's/\./\\./g')
deps="$deps $(apt-cache $apt_opts depends "$image" 2>/dev/null |
	sed -n "s/^ *Depends: \(linux-[a-z]*-${re_release}\)\$/\1/p" | sort -u)"

echo "fetch-kernel: $release ($image $headers $(echo $deps))" >&2
rm -rf "$kdir"
mkdir -p "$kdir/debs" "$kdir/root" || die "cannot create $kdir"
debs=$(fetch_debs "$kdir/debs" "$image" "$headers" $deps)
for deb in $debs; do
	dpkg -x "$deb" "$kdir/root" || die "cannot unpack $deb"
done
rm -rf "$kdir/debs"

build=$kdir/root/usr/src/linux-headers-$release
[ -f "$build/Makefile" ] || die "$headers has no Makefile"
# The headers' Makefile includes the -common tree (and since 7.x names its
# output directory) by its absolute /usr/src path: point it into the cache.
sed -i "s#^\\(include \\|KBUILD_OUTPUT=\\)/usr/src/#\\1$kdir/root/usr/src/#" "$build/Makefile"
# Relative symlinks (scripts, tools -> ../../lib/linux-kbuild-*) already
# resolve inside root/; absolute ones would not.
find "$kdir/root/usr/src" -type l | while read -r l; do
	case $(readlink "$l") in
	/usr/*) ln -sfn "$kdir/root$(readlink "$l")" "$l" ;;
	esac
done

# Since 7.x the packages are merged-/usr: the modules and the kernel image
# live in usr/lib/modules/<release>.
[ -e "$kdir/root/lib" ] || ln -s usr/lib "$kdir/root/lib"
if [ -f "$kdir/root/boot/vmlinuz-$release" ]; then
	ln -sfn "root/boot/vmlinuz-$release" "$kdir/vmlinuz"
else
	ln -sfn "root/usr/lib/modules/$release/vmlinuz" "$kdir/vmlinuz"
fi
ln -sfn "root/usr/src/linux-headers-$release" "$kdir/build"
[ -f "$kdir/vmlinuz" ] || die "$image has no kernel image (/boot/vmlinuz-$release)"
touch "$kdir/.complete"
echo "$kdir"
