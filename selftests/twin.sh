#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A second copy of the module, built under another name (ephport_twin),
# cannot load while ephport is loaded, enabled or not: insmod fails with
# one clear line, nothing of the twin stays registered, and ephport keeps
# working.  (A livepatch of a hooked function is refused by ftrace while
# ephport is enabled: both need FTRACE_OPS_FL_IPMODIFY on the same
# functions; surface_files_test checks ftrace's refusal.)

. "$(dirname "$0")/lib/lib.sh"

twin=/ephport/ephport_twin.ko
ktap_print_header
if [ ! -f "$twin" ]; then
	ktap_skip_all "no ephport_twin.ko in this VM"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 8

# ktap_test_result() runs its command unquoted: checks are functions.
twin_refused() {
	! insmod "$twin" 2>/dev/null
}

# busybox insmod tries finit_module(), then init_module(): the module's
# init runs twice, and must say the same one line each time.
one_clear_line() {
	lines=$(dmesg | grep 'ephport_twin: ' | sed 's/^\[[^]]*\] //' | sort -u)
	echo "# $lines"
	[ "$(echo "$lines" | grep -c .)" = 1 ] &&
		echo "$lines" | grep -q 'another copy of ephport is loaded'
}

twin_gone() {
	! grep -q '^ephport_twin ' /proc/modules
}

ephport_works() {
	ephport_sock connect 8080 1 | grep -q 'local port 4000[0-9]'
}

load range=40000-40009 strategy=sequential
dmesg -c >/dev/null
check "insmod of a second copy fails" twin_refused
check "one clear ephport_twin: line in the kernel log" one_clear_line
check "nothing of the twin stays loaded" twin_gone
# Disabled, ephport holds no hook: the twin is refused all the same.
echo 0 >"$SYSFS/enabled"
dmesg -c >/dev/null
check "a second copy fails while ephport is disabled" twin_refused
check "nothing of the twin stays loaded (disabled)" twin_gone
echo 1 >"$SYSFS/enabled"
ephport_sock listen 8080 &
listener=$!
sleep 1
check "ephport still allocates from its range" ephport_works
unload
check "with ephport gone, the twin loads" insmod "$twin"
check "and unloads" rmmod ephport_twin
kill $listener 2>/dev/null
ktap_finished
