#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run-vm.sh KERNEL INITRD LOG [MODE] - boot the test VM, copy its console to
# stdout and to LOG, and stop it after $EPHPORT_VM_TIMEOUT seconds at most.
# The VM has no network device: tests use loopback and network namespaces.

set -eu

kernel=${1:?usage: run-vm.sh KERNEL INITRD LOG [MODE]}
initrd=${2:?usage}
log=${3:?usage}
mode=${4:-check}
timeout=${EPHPORT_VM_TIMEOUT:-900}

# KVM only where the host CPU offers it to us; otherwise software emulation.
# EPHPORT_CLOCK=icount (make bench BENCH_CLOCK=icount): always emulation,
# the guest clock advancing 1 ns per instruction, skipping idle time, with
# RDRAND from a seeded generator and the RTC at a fixed date on that clock:
# a boot repeats the same instructions.
if [ "${EPHPORT_CLOCK:-wall}" = icount ]; then
	accel="-accel tcg,thread=single -icount shift=0,sleep=off -seed ${EPHPORT_VM_SEED:-1}
		-rtc base=2026-01-01T00:00:00,clock=vm -cpu ${EPHPORT_VM_CPU:-qemu64,+rdrand}"
elif [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
	accel="-accel kvm -cpu host"
else
	# RDRAND seeds the kernel's RNG at boot, as on real machines: without
	# it the RNG stays unseeded under emulation, and every
	# get_random_u32() takes the slow unseeded path.
	accel="-accel ${EPHPORT_TCG:-tcg,thread=single} -cpu ${EPHPORT_VM_CPU:-qemu64,+rdrand}"
fi

mkdir -p "$(dirname "$log")"
{
	rc=0
	timeout -k 10 "$timeout" qemu-system-x86_64 $accel -nographic -no-reboot \
		-m "${EPHPORT_VM_MEM:-1024}" -smp "${EPHPORT_VM_CPUS:-2}" -nic none \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 quiet panic=-1 EPHPORT_MODE=$mode ${EPHPORT_VM_CMDLINE:-}" \
		</dev/null 2>&1 || rc=$?
	[ "$rc" = 0 ] || echo "run-vm: qemu exited with status $rc (124: timed out after ${timeout}s)"
} | stdbuf -o0 tr -d '\r' | tee "$log"
