#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh KERNEL_DIR MODULE PAYLOAD OUT - build the test VM's initramfs
#
#   KERNEL_DIR  a directory made by fetch-kernel.sh
#   MODULE      ephport.ko built for that kernel
#   PAYLOAD     directory copied to /ephport (tool, tests, scripts)
#   OUT         the gzipped cpio archive to write
#
# $EPHPORT_EXTRA_KO names more modules to put beside ephport.ko.
#
# The archive holds a static busybox, /init, the payload, ephport.ko and the
# few kernel modules the tests load (veth, sctp, configfs; dccp_ipv4 where
# the kernel has it), decompressed, with their dependencies and a
# modules.dep made by depmod.  A name ending in '?' is left out when the
# kernel does not have it.

set -eu

kernel=${1:?usage}
module=${2:?usage}
payload=${3:?usage}
out=${4:?usage}
here=$(cd "$(dirname "$0")" && pwd)
# Unset: the list below; set but empty: none (a kernel with all built in).
kmods=${EPHPORT_VM_KMODS-veth sctp configfs dccp_ipv4? dccp_ipv6?}

die() { echo "mkinitramfs: $*" >&2; exit 1; }

if [ -f "$kernel/release" ]; then
	release=$(cat "$kernel/release")
else
	release=$(basename "$(readlink -f "$kernel/build")" | sed 's/^linux-headers-//')
fi
moddir=$kernel/root/lib/modules/$release
[ -d "$moddir" ] || die "no modules for $release in $kernel"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 755 "$stage"	# the VM's /, which unprivileged tests must read
mkdir -p "$stage/bin" "$stage/dev" "$stage/proc" "$stage/sys" "$stage/tmp" \
	"$stage/run" "$stage/etc" "$stage/lib/modules/$release" "$stage/ephport"
cp /bin/busybox "$stage/bin/busybox"
cp "$here/init" "$stage/init"
chmod 755 "$stage/init"
cp -a "$payload/." "$stage/ephport/"
cp "$module" "$stage/ephport/ephport.ko"
for ko in ${EPHPORT_EXTRA_KO:-}; do
	cp "$ko" "$stage/ephport/"
done
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$stage/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"

# Copy a kernel module and, recursively, what it depends on ("name?": if any).
add_kmod() {
	name=${1%\?}
	# Built into the kernel: nothing to copy.
	grep -qs "/$name\.ko\$" "$moddir/modules.builtin" && return 0
	f=$(find "$moddir/kernel" -name "$name.ko*" | head -n 1)
	[ -n "$f" ] || [ "$name" != "$1" ] || die "kernel module $1 not found"
	[ -n "$f" ] || return 0
	rel=${f#"$moddir"/}
	dst=$stage/lib/modules/$release/${rel%.xz}
	[ -f "$dst" ] && return 0
	mkdir -p "$(dirname "$dst")"
	case $f in
	*.xz) xz -dc "$f" >"$dst" ;;
	*) cp "$f" "$dst" ;;
	esac
	for dep in $(/sbin/modinfo -F depends "$dst" | tr ',' ' '); do
		add_kmod "$dep"
	done
}
set -f	# names, not file patterns ('?' marks the optional ones)
for m in $kmods; do
	add_kmod "$m"
done
set +f
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ -f "$moddir/$f" ] && cp "$moddir/$f" "$stage/lib/modules/$release/"
done
/sbin/depmod -b "$stage" "$release"

# The same files make the same archive (sorted, no dates): two boots then
# run the same instructions (make bench BENCH_CLOCK=icount BENCH_BOOTS=2).
find "$stage" -exec touch -h -d @0 {} +
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible) |
	gzip -1 -n >"$out"
