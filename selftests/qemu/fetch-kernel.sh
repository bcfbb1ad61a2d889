#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fetch-kernel.sh SERIES - download and unpack the newest Debian cloud kernel
# of SERIES (e.g. 6.1, 6.12): image, headers and the headers' dependencies.
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

re_series=$(printf '%s' "$series" | sed 's/\./\\./g')
release=$(apt-cache pkgnames linux-image- |
	sed -n "s/^linux-image-\(${re_series}\.[0-9][0-9]*\(+deb[0-9]*\)\{0,1\}\(-[0-9][0-9]*\)\{0,1\}-cloud-amd64\)\(-unsigned\)\{0,1\}\$/\1/p" |
	sort -uV | tail -n 1)
[ -n "$release" ] || die "no Debian cloud kernel of series $series found (apt-get update?)"

kdir=$cache/kernels/$release
if [ -f "$kdir/.complete" ]; then
	echo "$kdir"
	exit 0
fi

image=linux-image-$release-unsigned
apt-cache show "$image" >/dev/null 2>&1 || image=linux-image-$release
headers=linux-headers-$release
# The headers depend on linux-headers-<abi>-common and linux-kbuild-<ver>.
deps=$(apt-cache depends "$headers" 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-\(headers-[^ ]*-common\|kbuild-[^ ]*\)\)$/\1/p' | sort -u)
[ -n "$deps" ] || die "cannot resolve the dependencies of $headers"

echo "fetch-kernel: $release ($image $headers $(echo $deps))" >&2
rm -rf "$kdir"
mkdir -p "$kdir/debs" "$kdir/root"
(cd "$kdir/debs" && apt-get download -q -o APT::Sandbox::User=root "$image" "$headers" $deps >&2) ||
	die "apt-get download failed"
for deb in "$kdir"/debs/*.deb; do
	dpkg -x "$deb" "$kdir/root"
done
rm -rf "$kdir/debs"

build=$kdir/root/usr/src/linux-headers-$release
[ -f "$build/Makefile" ] || die "$headers has no Makefile"
# The headers' Makefile includes the -common tree by its absolute /usr/src
# path: point it into the cache instead.
sed -i "s|^include /usr/src/|include $kdir/root/usr/src/|" "$build/Makefile"
# Relative symlinks (scripts, tools -> ../../lib/linux-kbuild-*) already
# resolve inside root/; absolute ones would not.
find "$kdir/root/usr/src" -type l | while read -r l; do
	case $(readlink "$l") in
	/usr/*) ln -sfn "$kdir/root$(readlink "$l")" "$l" ;;
	esac
done

ln -sfn "root/boot/vmlinuz-$release" "$kdir/vmlinuz"
ln -sfn "root/usr/src/linux-headers-$release" "$kdir/build"
[ -f "$kdir/vmlinuz" ] || die "$image has no /boot/vmlinuz-$release"
touch "$kdir/.complete"
echo "$kdir"
