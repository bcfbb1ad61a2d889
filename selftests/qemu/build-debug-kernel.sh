#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# build-debug-kernel.sh [FRAGMENT] - build a small 6.12 kernel with the debug
# options of debug.config (KASAN, lockdep, UBSAN, kmemleak, ...) from
# Debian's linux-source-6.12 and print its directory, laid out like the ones
# fetch-kernel.sh prints:
#   vmlinuz   the kernel image (-> <release>/arch/x86/boot/bzImage)
#   build     the kernel build tree, a valid KDIR (-> <release>)
#   release   the kernel release (uname -r), one line
#   root/lib/modules/<release>/   modules.* files only: all is built in
#
# FRAGMENT defaults to debug.config beside this script.  Nothing is
# installed on the host.  The source package version is resolved with apt
# every time, never pinned.  The package is unpacked once per version into
# $EPHPORT_CACHE/debug-kernel/src-<version>; each build goes to
# $EPHPORT_CACHE/debug-kernel/<version>-<hash>, where <hash> covers the
# fragment, the config recipe below and the compiler: an unchanged fragment
# reuses the finished build at once, a changed one builds anew (the tree is
# built with O=, so the source stays pristine and shared).
#
# Environment: EPHPORT_CACHE (default ~/.cache/ephport), EPHPORT_JOBS
# (default nproc), EPHPORT_DEBUG_SOURCE_PKG (default linux-source-6.12).
# The build's output goes to <dir>/build.log; the script prints progress
# on stderr and only the directory on stdout.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
frag=${1:-$here/debug.config}
pkg=${EPHPORT_DEBUG_SOURCE_PKG:-linux-source-6.12}
cache=${EPHPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ephport}/debug-kernel
jobs=${EPHPORT_JOBS:-$(nproc)}

# How the .config is made; part of the cache key (bump "v" on any change
# to the configuration or build steps below).
recipe="v1 tinyconfig(tiny-base.config tiny.config x86/tiny.config) +fragment merge_config.sh -n; olddefconfig; bzImage modules"

die() { echo "build-debug-kernel: $*" >&2; exit 1; }
log() { echo "build-debug-kernel: $*" >&2; }

[ -f "$frag" ] || die "no config fragment $frag"
frag=$(cd "$(dirname "$frag")" && pwd)/$(basename "$frag")
for t in gcc make flex bison bc perl xz tar dpkg apt-get sha256sum flock; do
	command -v "$t" >/dev/null 2>&1 || die "$t is missing (apt-get install flex bison bc libelf-dev)"
done
[ -f /usr/include/libelf.h ] || die "libelf.h is missing (apt-get install libelf-dev), objtool needs it"

# The kernel's make must see none of these from the caller.
unset ARCH SUBARCH CROSS_COMPILE LOCALVERSION KBUILD_OUTPUT KCONFIG_CONFIG \
	O M KBUILD_EXTMOD INSTALL_MOD_PATH

ver=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "no $pkg package known to apt (apt-get update?)"
hash=$({ cat "$frag"; echo "$recipe"; gcc --version | head -n 1; } | sha256sum | cut -c1-12)
dir=$cache/$ver-$hash
src=$cache/src-$ver

if [ -f "$dir/.complete" ]; then
	echo "$dir"
	exit 0
fi
mkdir -p "$cache"
# One build at a time: a second caller waits, then finds it complete.
exec 9>"$cache/.lock"
flock 9
if [ -f "$dir/.complete" ]; then
	echo "$dir"
	exit 0
fi

# --- the source, unpacked once per package version
if [ ! -f "$src/.complete" ]; then
	log "unpacking $pkg $ver"
	rm -rf "$src" "$cache/.src.tmp"
	mkdir -p "$cache/.src.tmp"
	(cd "$cache/.src.tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver" >&2) ||
		die "apt-get download $pkg=$ver failed"
	dpkg -x "$cache"/.src.tmp/*.deb "$cache/.src.tmp/x"
	tarball=$(ls "$cache"/.src.tmp/x/usr/src/linux-source-*.tar.xz 2>/dev/null | head -n 1)
	[ -n "$tarball" ] || die "$pkg has no /usr/src/linux-source-*.tar.xz"
	mkdir -p "$src"
	tar -C "$src" --strip-components=1 -xJf "$tarball" || die "cannot unpack $tarball"
	rm -rf "$cache/.src.tmp"
	[ -f "$src/Makefile" ] || die "$tarball has no Makefile"
	touch "$src/.complete"
fi

# --- the configuration: tinyconfig (= allnoconfig + the tiny fragments)
# with ours merged in, then checked line by line.
log "configuring $dir"
rm -rf "$dir"
mkdir -p "$dir/obj"
obj=$dir/obj
(cd "$src" && scripts/kconfig/merge_config.sh -n -O "$obj" \
	kernel/configs/tiny-base.config kernel/configs/tiny.config \
	arch/x86/configs/tiny.config "$frag") >"$dir/config.log" 2>&1 ||
	die "merge_config.sh failed, see $dir/config.log"
make -s -C "$src" O="$obj" olddefconfig >>"$dir/config.log" 2>&1 ||
	die "make olddefconfig failed, see $dir/config.log"

bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		grep -qxF "$line" "$obj/.config" && continue
		got=$(grep "^${line%%=*}=" "$obj/.config" || echo "not set")
		;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }
		sym=${sym%% *}
		got=$(grep "^$sym=" "$obj/.config") || continue
		;;
	*) continue ;;
	esac
	log "not in effect: $line (final .config: $got)"
	bad=$((bad + 1))
done <"$frag"
[ "$bad" = 0 ] || die "$bad option(s) of $frag not in effect after olddefconfig"

release=$(make -s -C "$src" O="$obj" kernelrelease)
[ -n "$release" ] || die "cannot determine the kernel release"
# The tree is named after the release: mkinitramfs.sh derives the release
# from the basename of build's target.
mv "$obj" "$dir/$release"
obj=$dir/$release

# --- the build; the tree doubles as KDIR for out-of-tree modules
log "building $release with $jobs jobs (log: $dir/build.log)"
start=$(date +%s)
make -C "$src" O="$obj" -j"$jobs" bzImage modules >"$dir/build.log" 2>&1 9>&- || {
	tail -n 30 "$dir/build.log" >&2
	die "kernel build failed, see $dir/build.log"
}
make -C "$src" O="$obj" modules_install INSTALL_MOD_PATH="$dir/root" \
	DEPMOD=/sbin/depmod >>"$dir/build.log" 2>&1 ||
	die "make modules_install failed, see $dir/build.log"
# modules_install may leave a build link to the tree: it is not needed.
rm -f "$dir/root/lib/modules/$release/build" "$dir/root/lib/modules/$release/source"
log "built in $(($(date +%s) - start)) s"

[ -f "$obj/arch/x86/boot/bzImage" ] || die "no bzImage in $obj"
[ -f "$obj/Module.symvers" ] || die "no Module.symvers in $obj"
[ -d "$dir/root/lib/modules/$release" ] || die "modules_install made no lib/modules/$release"
echo "$release" >"$dir/release"
ln -sfn "$release" "$dir/build"
ln -sfn "$release/arch/x86/boot/bzImage" "$dir/vmlinuz"
touch "$dir/.complete"
echo "$dir"
