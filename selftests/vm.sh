#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vm.sh MODE SERIES... - for each kernel series: fetch the Debian kernel,
# build ephport.ko against its headers, pack the initramfs around the payload
# ($EPHPORT_BUILD/payload, made by "make -C selftests payload") and boot it in
# MODE (check, demo, bench, stress).  Console logs go to
# $EPHPORT_BUILD/logs/<series>-<mode>.log.

set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${EPHPORT_BUILD:-$top/.build}
q=$top/selftests/qemu
mode=${1:?usage: vm.sh MODE SERIES...}
shift

for series in "$@"; do
	kdir=$("$q/fetch-kernel.sh" "$series")
	rel=$(basename "$kdir")
	out=$build/kernels/$rel
	echo "# ephport: $mode on $rel"
	ko=$("$q/build-module.sh" "$kdir/build" "$out")
	"$q/mkinitramfs.sh" "$kdir" "$ko" "$build/payload" "$out/initramfs.cpio.gz"
	"$q/run-vm.sh" "$kdir/vmlinuz" "$out/initramfs.cpio.gz" \
		"$build/logs/$series-$mode.log" "$mode"
done
