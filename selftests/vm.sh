#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vm.sh MODE SERIES... - for each kernel series: fetch the Debian kernel,
# build ephport.ko against its headers, pack the initramfs around the payload
# ($EPHPORT_BUILD/payload, made by "make -C selftests payload") and boot it in
# MODE (check, demo, bench, stress), with the sample strategy module
# (samples/) and a second copy of ephport (twin.sh) beside it.  Each module
# built is checked by ibt-check.sh first.  The series "debug" is the debug kernel
# of qemu/build-debug-kernel.sh (KASAN, lockdep, ...): everything built in,
# 2 GiB of memory, panic_on_warn=1.  Console logs go to
# $EPHPORT_BUILD/logs/<series>-<mode>.log, the IBT checks' to
# $EPHPORT_BUILD/logs/<series>-ibt.log and <series>-ibt-sample.log.
#
# On one series ($EPHPORT_TRACE_SERIES, 6.12), when trace_tools.sh is to
# run (all tests, or EPHPORT_TESTS naming it), the initramfs gets perf and
# bpftrace appended (qemu/tracetools.sh, 79 MB more to unpack, 240 MB
# unpacked) and 512 MiB more memory; every other boot goes without.

set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${EPHPORT_BUILD:-$top/.build}
q=$top/selftests/qemu
mode=${1:?usage: vm.sh MODE SERIES...}
shift

# The static IBT check of what was just built (TAP, counted by
# tap-summary.sh); a failure does not stop the VM tests.
ibt_check() { # ibt_check KO MODULE_SYMVERS LOG
	IBT_KO=$1 IBT_SYMVERS=$2 \
		"$top/selftests/run-tests.sh" "$top/selftests" ibt-check.sh \
		>"$build/logs/$3.log" ||
		echo "# ephport: ibt-check.sh failed, see $build/logs/$3.log"
}

for series in "$@"; do
	if [ "$series" = debug ]; then
		kdir=$("$q/build-debug-kernel.sh")
		rel=debug-$(cat "$kdir/release")
		# All built in: no kernel module to add to the initramfs.
		no_kmods=1 mem=${EPHPORT_VM_MEM:-2048}
		cmdline="panic_on_warn=1 ${EPHPORT_VM_CMDLINE:-}"
		# Everything runs 3-5 times slower here: the kernel's own
		# selftests under two of the strategies (the stock path with
		# a range, and a walk with the lazily made table) instead of
		# all seven, which the release kernels cover.
		[ "$mode" = check ] &&
			cmdline="EPHPORT_NET_STRATEGIES=kernel,double-hash $cmdline"
	else
		kdir=$("$q/fetch-kernel.sh" "$series")
		rel=$(basename "$kdir")
		# The kernel modules: mkinitramfs.sh's list ($EPHPORT_VM_KMODS).
		no_kmods='' mem=${EPHPORT_VM_MEM:-1024}
		cmdline=${EPHPORT_VM_CMDLINE:-}
	fi
	out=$build/kernels/$rel
	echo "# ephport: $mode on $rel"
	ko=$("$q/build-module.sh" "$kdir/build" "$out")
	# The sample strategy module, built beside it against its exports.
	sample=$out/samples/ephport_sample.ko
	cat "$kdir/build/Module.symvers" "$out/Module.symvers" >"$out/samples/all.symvers"
	mkdir -p "$build/logs"
	ibt_check "$ko" "$kdir/build/Module.symvers" "$series-ibt"
	ibt_check "$sample" "$out/samples/all.symvers" "$series-ibt-sample"
	# A second copy under another name, for twin.sh.
	twin=$("$q/build-module.sh" "$kdir/build" "$out-twin" ephport_twin)
	env ${no_kmods:+EPHPORT_VM_KMODS=} EPHPORT_EXTRA_KO="$twin $sample" \
		"$q/mkinitramfs.sh" "$kdir" "$ko" "$build/payload" "$out/initramfs.cpio.gz"
	initrd=$out/initramfs.cpio.gz
	tests=$(printf '%s\n' "$cmdline" | sed -n 's/.*EPHPORT_TESTS=\([^ ]*\).*/\1/p')
	if [ "$mode" = check ] && [ "$series" = "${EPHPORT_TRACE_SERIES:-6.12}" ] &&
	   case ,${tests:-trace_tools.sh}, in *,trace_tools.sh,*) true ;; *) false ;; esac; then
		# The kernel unpacks concatenated archives one after the other.
		tools=$("$q/tracetools.sh")
		cat "$initrd" "$tools" >"$out/initramfs-trace.cpio.gz"
		initrd=$out/initramfs-trace.cpio.gz
		mem=$((mem + 512))
	fi
	log=$build/logs/$series-$mode.log
	# Counting instructions, 6.1 never brings its second CPU up (it stays
	# at "smp: Bringing up secondary CPUs", also with sleep=on or
	# tsc=reliable; 6.12 and 7.2 boot): it counts on one CPU.
	cpus=${EPHPORT_VM_CPUS:-2}
	if [ "${EPHPORT_CLOCK:-wall}" = icount ] && [ "$series" = 6.1 ] &&
	   [ -z "${EPHPORT_VM_CPUS:-}" ]; then
		cpus=1
	fi
	if [ -n "${EPHPORT_VM_QUIET:-}" ]; then
		# Several series at once (make check): the console goes to the
		# log only.
		t0=$(date +%s)
		EPHPORT_VM_MEM=$mem EPHPORT_VM_CPUS=$cpus EPHPORT_VM_CMDLINE=$cmdline "$q/run-vm.sh" \
			"$kdir/vmlinuz" "$initrd" "$log" "$mode" >/dev/null
		echo "# ephport: $mode on $rel done in $(($(date +%s) - t0)) s: $log"
	else
		EPHPORT_VM_MEM=$mem EPHPORT_VM_CPUS=$cpus EPHPORT_VM_CMDLINE=$cmdline "$q/run-vm.sh" \
			"$kdir/vmlinuz" "$initrd" "$log" "$mode"
	fi
done
