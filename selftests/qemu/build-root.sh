#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# build-root.sh CC DIR... -- COMMAND [ARG...] - run COMMAND inside a small
# Debian root that has the compiler CC (e.g. x86_64-linux-gnu-gcc-16), for
# kernel headers made by a compiler the host does not have.
#
# The root is made once with mmdebstrap from $EPHPORT_BUILD_SUITE (sid) and
# kept in $EPHPORT_CACHE/build-root/<suite>-<compiler>-<key>; the key covers
# the package list and the mirror, so a change of either builds a new root
# (and removes the old one), as does a root older than
# $EPHPORT_ROOT_MAX_DAYS (30) days.  COMMAND runs in private mount and PID
# namespaces, with each DIR bind-mounted at its own path and /proc mounted
# (objtool reads it): everything is unmounted when it exits, whatever
# happens.  Run as a user, the namespaces are user namespaces.

set -eu

die() { echo "build-root: $*" >&2; exit 1; }

cc=${1:?usage: build-root.sh CC DIR... -- COMMAND [ARG...]}
shift
cache=${EPHPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ephport}
suite=${EPHPORT_BUILD_SUITE:-sid}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/apt.sh"

# x86_64-linux-gnu-gcc-16 -> gcc-16, the package that provides it.
gcc=${cc##*-linux-gnu-}
case $gcc in
gcc-[0-9]*) ;;
*) die "cannot tell the Debian package of compiler $cc" ;;
esac
# What a module build of a Debian kernel runs: the compiler, make, objtool
# and the kbuild tools (libelf), pahole for BTF, bc, depmod; sparse for
# the style gate (lint.sh).
pkgs="$gcc,make,libc6-dev,libelf-dev,bc,kmod,dwarves,sparse"
mirror=$(suite_mirror)
key=$(printf '%s\n' "$suite" "$mirror" "$pkgs" | sha256sum | cut -c1-12)
base=$cache/build-root
root=$base/$suite-$gcc-$key

if [ -f "$root/.complete" ] &&
	[ -z "$(find "$root/.complete" -mtime +"${EPHPORT_ROOT_MAX_DAYS:-30}")" ]; then
	:
else
	command -v mmdebstrap >/dev/null ||
		die "mmdebstrap is missing (apt-get install mmdebstrap, or make deps)"
	mkdir -p "$base" || die "cannot create $base"
	echo "build-root: making a $suite root with $gcc in $root" >&2
	rm -rf "$root"
	start=$(date +%s)
	mmdebstrap -q --variant=minbase \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--include="$pkgs" "$suite" "$root" "$mirror" >&2 ||
		{ rm -rf "$root"; die "mmdebstrap of $suite failed"; }
	[ -x "$root/usr/bin/$cc" ] || { rm -rf "$root"; die "$cc is not in the $suite root"; }
	mkdir -p "$root/proc"
	touch "$root/.complete"
	# Older roots of this compiler are stale.
	for old in "$base/$suite-$gcc"-*; do
		[ "$old" = "$root" ] || rm -rf "$old"
	done
	echo "build-root: made in $(($(date +%s) - start))s, $(du -sh "$root" | cut -f1)" >&2
fi

dirs=
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	d=$(cd "$1" && pwd) || die "no directory $1"
	mkdir -p "$root$d" || die "cannot create $root$d"
	dirs="$dirs $d"
	shift
done
[ "${1:-}" = -- ] && [ $# -gt 1 ] || die "usage: build-root.sh CC DIR... -- COMMAND [ARG...]"
shift

userns=
[ "$(id -u)" = 0 ] || userns=--map-root-user
# shellcheck disable=SC2016
exec unshare $userns --mount --pid --fork --mount-proc="$root/proc" \
	/bin/sh -euc '
	root=$1 dirs=$2
	shift 2
	for d in $dirs; do
		mount --bind "$d" "$root$d"
	done
	cd "$root$PWD" 2>/dev/null || cd "$root"
	exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/ LANG=C.UTF-8 /bin/sh -c "cd \"\$1\" 2>/dev/null; shift; exec \"\$@\"" \
		sh "$PWD" "$@"' sh "$root" "$dirs" "$@"
