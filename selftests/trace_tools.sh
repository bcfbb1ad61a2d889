#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The perf recipes of Documentation/ephport.rst (section 11.3, "Tracing
# recipes"), run exactly as written there against the module: they see the
# allocations, the failures and the warn_pct crossings of a workload, and
# print what the documentation says they print.  Keep the commands here
# and there the same.  (bpftrace 0.17 never attached in the VM: see 11.3.)
#
# perf comes from Debian 12's linux-perf, which vm.sh appends to the
# initramfs of one series only (qemu/tracetools.sh): elsewhere the test is
# skipped.

# shellcheck source=lib/lib.sh
. "$(dirname "$0")/lib/lib.sh"

ktap_print_header
if ! command -v perf >/dev/null; then
	ktap_skip_all "no perf in this VM: vm.sh adds it (qemu/tracetools.sh) to the boot of series ${EPHPORT_TRACE_SERIES:-6.12} only"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 3

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

# A range of 10 ports, warned about at 5 used.
load range=40000-40009 strategy=sequential
echo 50 >"$SYSFS/warn_pct"

# In a new network namespace (its own occupancy, so its own crossing of
# warn_pct): 11 connections to one destination, the 11th failing with
# EADDRNOTAVAIL.
workload() {
	unshare -n sh -c 'ip link set lo up
		ephport_sock listen 8080 & l=$!
		sleep 1
		ephport_sock connect 8080 11
		kill $l' >/dev/null 2>&1
}

# show FILE - a program's output, in the test log
show() {
	sed 's/^/# /' "$1"
}

# The failed connect() of the workload as perf script prints it (a
# function: ktap_test_result splits its arguments into words).
failure_printed() {
	grep -Eq 'ephport_sock +[0-9]+ .*ephport:ephport_alloc: path=tcp4-connect family=AF_INET protocol=IPPROTO_TCP netns_cookie=[0-9]+ laddr=127\.0\.0\.1 lport=0 raddr=127\.0\.0\.1 rport=8080 .* strategy=sequential rule=- probes=[0-9]+ result=-99$' \
		script.txt
}

# while_running PID - the workload, again and again, while PID runs (perf
# starts counting a moment after it starts).
while_running() {
	while kill -0 "$1" 2>/dev/null; do
		workload
	done
}

# ---- perf stat: how many allocations and crossings ----
perf stat -e ephport:ephport_alloc -e ephport:ephport_occupancy -a -- sleep 10 2>stat.txt &
while_running $!
show stat.txt
allocs=$(awk '$2 == "ephport:ephport_alloc" { print $1 }' stat.txt)
crossings=$(awk '$2 == "ephport:ephport_occupancy" { print $1 }' stat.txt)
check "perf stat counts ephport_alloc (${allocs:-none}) and ephport_occupancy (${crossings:-none})" \
	test "${allocs:-0}" -ge 11 -a "${crossings:-0}" -ge 1

# ---- perf record and perf script: each failure, with names ----
# (stdout a file, not the pipe of the test log: on a pipe perf record
# writes the data there instead of to perf.data)
perf record -e ephport:ephport_alloc --filter 'result != 0' -a -- sleep 10 \
	>record.txt 2>&1 &
while_running $!
show record.txt
perf script >script.txt 2>&1
head -n 5 script.txt >head.txt
show head.txt
check "perf record --filter 'result != 0' and perf script: the failed connect(), by name" \
	failure_printed
check "perf record --filter 'result != 0' records failures only" \
	test "$(grep -c 'ephport:ephport_alloc:' script.txt)" -ge 1 -a \
	"$(grep -c 'result=0$' script.txt)" -eq 0

unload
ktap_finished
