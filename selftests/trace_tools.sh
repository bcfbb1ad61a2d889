#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The perf and bpftrace recipes of Documentation/ephport.rst (section
# 11.3, "Tracing recipes"), run exactly as written there against the
# module: they see the allocations, the failures and the warn_pct
# crossings of a workload, and print what the documentation says they
# print.  Keep the commands here and there the same.
#
# perf and bpftrace come from Debian 12's linux-perf and bpftrace, which
# vm.sh appends to the initramfs of one series only (qemu/tracetools.sh):
# elsewhere the test is skipped.

# shellcheck source=lib/lib.sh
. "$(dirname "$0")/lib/lib.sh"

ktap_print_header
if ! command -v perf >/dev/null; then
	ktap_skip_all "no perf in this VM: vm.sh adds it (qemu/tracetools.sh) to the boot of series ${EPHPORT_TRACE_SERIES:-6.12} only"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 6

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

# A range of 10 ports, warned about at 5 used.
load range=40000-40009 strategy=sequential
echo 50 >"$SYSFS/warn_pct"

# In a new network namespace (its own occupancy, so its own crossing of
# warn_pct), whose inode it adds to netns.txt: 11 connections to one
# destination, the 11th failing with EADDRNOTAVAIL.
workload() {
	unshare -n sh -c 'ip link set lo up
		readlink /proc/self/ns/net >>netns.txt
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

# ---- bpftrace: the failures, and the crossings, as they happen ----
if ! command -v bpftrace >/dev/null; then
	for t in "the failed connect(), by name" "failures only" \
		"the warn_pct crossing of the workload's namespace"; do
		ktap_test_skip "bpftrace: $t: no bpftrace in this VM (qemu/tracetools.sh packs it)"
	done
	unload
	ktap_finished
	exit
fi

# Both programs at once, each until SIGINT (Ctrl-C in the documentation).
: >netns.txt
t0=$(date +%s)
bpftrace -e 'tracepoint:ephport:ephport_alloc /args->result != 0/ {
      printf("%s pid %d: errno %d to %s port %d, %d probes, rule %s\n",
             comm, pid, -args->result, ntop(args->raddr_v6), args->rport,
             args->probes, args->rule); }' >failures.txt 2>&1 &
bt_failures=$!
bpftrace -e 'tracepoint:ephport:ephport_occupancy {
      printf("netns %u protocol %d: %u of %u ports used, warn_pct %u, above %d\n",
             args->netns_inode, args->protocol, args->used, args->size,
             args->warn_pct, args->above); }' >crossings.txt 2>&1 &
bt_crossings=$!

# running_all PID... - whether every PID still runs
running_all() {
	for p; do
		kill -0 "$p" 2>/dev/null || return 1
	done
}

# running_any PID... - whether one PID at least still runs
running_any() {
	for p; do
		! kill -0 "$p" 2>/dev/null || return 0
	done
	return 1
}

# Under emulation, each takes a few seconds (LLVM) to say "Attaching".
while running_all $bt_failures $bt_crossings &&
	! { grep -q '^Attaching 1 probe' failures.txt &&
	    grep -q '^Attaching 1 probe' crossings.txt; } &&
	[ $(($(date +%s) - t0)) -lt 300 ]; do
	sleep 1
done
echo "# bpftrace: both programs attaching after $(($(date +%s) - t0)) s"

failure_line='^ephport_sock pid [0-9]+: errno 99 to ::ffff:127\.0\.0\.1 port 8080, [0-9]+ probes, rule -$'
crossing_line='^netns [0-9]+ protocol 6: [0-9]+ of 10 ports used, warn_pct 50, above 1$'
# The workload until both have printed what it makes (the probes are
# attached a moment after "Attaching"), five times at most.
n=0
while running_all $bt_failures $bt_crossings && [ $n -lt 5 ] &&
	! { grep -Eq "$failure_line" failures.txt &&
	    grep -Eq "$crossing_line" crossings.txt; }; do
	workload
	n=$((n + 1))
	sleep 1
done

# stop PID... - SIGINT, as Ctrl-C; SIGKILL to those that have not exited
# 90 s later.  Both programs get it together: they exit within a second.
# (Once, stopped one after the other, the second did not exit within 60 s
# of its SIGINT and printed nothing more; not understood.)
stop() {
	kill -INT "$@" 2>/dev/null
	i=0
	while running_any "$@" && [ $i -lt 90 ]; do
		sleep 1
		i=$((i + 1))
	done
	echo "# bpftrace: $i s to exit after SIGINT"
	kill -KILL "$@" 2>/dev/null
	wait "$@" 2>/dev/null
}
stop $bt_failures $bt_crossings
echo "# bpftrace: $n workloads, $(($(date +%s) - t0)) s in all"
show failures.txt
show crossings.txt

check "bpftrace on ephport_alloc /args->result != 0/: the failed connect(), by name" \
	grep -Eq "$failure_line" failures.txt
check "bpftrace on ephport_alloc /args->result != 0/: failures only" \
	test "$(grep -c ' errno ' failures.txt)" -ge 1 -a \
	"$(grep -c ' errno 0 ' failures.txt)" -eq 0

# crossed_in_workload - a crossing upward, at 5 of 10 ports or more, in
# the namespace of one of the workloads
crossed_in_workload() {
	sed 's/^net:\[\([0-9]*\)\]$/\1/' netns.txt >inodes.txt
	grep -E "$crossing_line" crossings.txt |
		while read -r _ ino _ _ used _; do
			grep -qx "$ino" inodes.txt && [ "$used" -ge 5 ] && echo yes
		done | grep -q yes
}
check "bpftrace on ephport_occupancy: the warn_pct crossing of the workload's namespace" \
	crossed_in_workload

unload
ktap_finished
