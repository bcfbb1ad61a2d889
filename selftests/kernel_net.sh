#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's own port-allocation selftests (tools/testing/selftests/net of
# linux-source-6.12, built by the Makefile into net/), first on the stock
# kernel, then with the module loaded under every strategy it offers: a test
# that passes on the stock kernel must pass under each strategy.  One result
# per (test, strategy); a test, or a case of a kselftest-harness test, that
# fails on the stock kernel is reported as skipped, with its output.
#
# Each run is in a network namespace of its own, set up as the test's .sh
# wrapper does (the VM has busybox only: no "ip netns", so unshare -n).

. "$(dirname "$0")/lib/lib.sh"

NET=$(cd "$(dirname "$0")" && pwd)/net
TMP=${TMPDIR:-/tmp}/kernel_net.$$
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT

# NAME HARNESS SYSCTLS COMMAND: HARNESS is 1 for kselftest_harness.h tests,
# SYSCTLS "name=value,..." under /proc/sys/net/ipv4 ("_" for a space, "-"
# for none), COMMAND the program and its arguments joined by ":".
TESTS="ip_local_port_range 1 ip_local_port_range=40000_49999 ip_local_port_range
bind_timewait 1 - bind_timewait
bind_wildcard 1 - bind_wildcard
reuseaddr_conflict 0 - reuseaddr_conflict
reuseaddr_ports_exhausted 1 ip_local_port_range=32768_32768,ip_autobind_reuse=1 reuseaddr_ports_exhausted
reuseport_addr_any 0 - reuseport_addr_any
reuseport_dualstack 0 - reuseport_dualstack
sk_bind_sendto_listen 0 - sk_bind_sendto_listen
sk_connect_zero_addr 0 - sk_connect_zero_addr
so_incoming_cpu 1 - so_incoming_cpu
tcp_inq4 0 - tcp_inq:-4
tcp_inq6 0 - tcp_inq:-6"

# in_netns SYSCTLS COMMAND ARGS... - run in a fresh network namespace
in_netns() {
	unshare -n sh -c '
		ip link set lo up
		for kv in $(echo "$1" | tr , " "); do
			[ "$kv" = - ] && continue
			echo "${kv#*=}" | tr _ " " >"/proc/sys/net/ipv4/${kv%%=*}" || exit 1
		done
		cmd=$2
		shift 2
		cd "$0" && exec "./$cmd" "$@"' "$NET" "$@"
}

# The cases of a harness test's output that passed, one name a line.
passed_cases() {
	sed -n 's/^ok [0-9]* \([^ #]*\).*/\1/p' "$1"
}

failed_cases() {
	sed -n 's/^not ok [0-9]* \([^ #]*\).*/\1/p' "$1"
}

# indent FILE - a test's output, as TAP diagnostics
indent() {
	sed 's/^/# /' "$1"
}

# The stock kernel: which tests (and cases) the strategies must pass.
stock() {
	echo "$TESTS" | while read -r name harness sysctls cmd; do
		out=$TMP/$name.stock
		in_netns "$sysctls" $(echo "$cmd" | tr : " ") >"$out" 2>&1
		rc=$?
		if [ "$harness" = 1 ]; then
			passed_cases "$out" >"$TMP/$name.cases"
			for c in $(failed_cases "$out"); do
				echo "$name: $c"
			done >"$TMP/$name.skipped"
			[ -s "$TMP/$name.cases" ] || [ -s "$TMP/$name.skipped" ] ||
				echo "$name (exit $rc, no case ran)" >"$TMP/$name.skipped"
		elif [ "$rc" = 0 ]; then
			echo all >"$TMP/$name.cases"
		else
			echo "$name (exit $rc)" >"$TMP/$name.skipped"
			: >"$TMP/$name.cases"
		fi
	done
}

# run_all LABEL - each test's stock-passing part; one result per test.
run_all() {
	label=$1
	echo "$TESTS" | while read -r name harness sysctls cmd; do
		[ -s "$TMP/$name.cases" ] || continue
		out=$TMP/$name.out
		if [ "$harness" = 1 ]; then
			set --
			for c in $(cat "$TMP/$name.cases"); do
				set -- "$@" -r "$c"
			done
			in_netns "$sysctls" $(echo "$cmd" | tr : " ") "$@" >"$out" 2>&1
			rc=$?
			n=$(passed_cases "$out" | wc -l)
			want=$(wc -l <"$TMP/$name.cases")
			[ "$n" = "$want" ] || rc=1
			desc="$name under $label ($n/$want cases)"
		else
			in_netns "$sysctls" $(echo "$cmd" | tr : " ") >"$out" 2>&1
			rc=$?
			desc="$name under $label"
		fi
		if [ "$rc" = 0 ]; then
			echo "ok $name $desc"
		else
			echo "not ok $name $desc"
			indent "$out"
		fi
	done >"$TMP/results.$label"
	while IFS= read -r line; do
		case $line in
		"ok "*) ktap_test_pass "${line#ok * }" ;;
		"not ok "*) line=${line#not ok }; ktap_test_fail "${line#* }" ;;
		*) echo "$line" ;;
		esac
	done <"$TMP/results.$label"
}

ktap_print_header
unload
# ip_local_port_range has SCTP variants, reuseport_addr_any DCCP ones
# (kernels before 6.16); the VM does not autoload modules.
for m in sctp dccp_ipv4 dccp_ipv6; do
	modprobe "$m" 2>/dev/null
done
start=$(date +%s)
stock
for f in "$TMP"/*.skipped; do
	[ -s "$f" ] || continue
	name=$(basename "$f" .skipped)
	ktap_print_msg "fails on the stock kernel, skipped everywhere:"
	indent "$TMP/$name.stock"
	while read -r what; do
		ktap_test_skip "$what: fails on the stock kernel"
	done <"$f"
done
echo "$TESTS" | while read -r name harness rest; do
	[ -s "$TMP/$name.cases" ] && echo "ok $name stock"
done >"$TMP/stock.list"
while read -r ok name label; do
	ktap_test_pass "$name on the stock kernel"
done <"$TMP/stock.list"

if ! load; then
	ktap_test_fail "insmod"
else
	echo 1 >"$SYSFS/enabled"
	# EPHPORT_NET_STRATEGIES (comma-separated) narrows the strategies:
	# make check does so on the debug kernel, where each run is slow.
	strategies=$(cat "$SYSFS/available_strategies")
	if [ -n "${EPHPORT_NET_STRATEGIES:-}" ]; then
		ktap_print_msg "strategies narrowed to $EPHPORT_NET_STRATEGIES (of: $strategies)"
		strategies=$(echo "$EPHPORT_NET_STRATEGIES" | tr , ' ')
	fi
	for s in $strategies; do
		if echo "$s" >"$SYSFS/strategy"; then
			run_all "$s"
		else
			ktap_test_fail "strategy $s selected"
		fi
	done
	unload
fi
ktap_print_msg "kernel_net: $(($(date +%s) - start)) s"
KSFT_NUM_TESTS=$((KTAP_TESTNO - 1))
echo "1..$KSFT_NUM_TESTS"
ktap_finished
