#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# No memory leaked by a load, some work on every path and an unload:
# kmemleak's report stays empty.  Needs a kernel with DEBUG_KMEMLEAK (the
# debug kernel); skipped elsewhere.

. "$(dirname "$0")/lib/lib.sh"

km=/sys/kernel/debug/kmemleak
ktap_print_header
if [ ! -w "$km" ]; then
	ktap_skip_all "this kernel has no kmemleak (CONFIG_DEBUG_KMEMLEAK)"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 2

# What leaked before us is not ours.
echo scan >"$km"
echo clear >"$km"

load range=40000-40999 strategy=double-hash
ephport_sock listen 8080 &
listener=$!
sleep 1
for s in $(cat "$SYSFS/available_strategies"); do
	echo "$s" >"$SYSFS/strategy"
	ephport_sock connect 8080 20 >/dev/null
	ephport_sock -6 connect 8080 5 >/dev/null 2>&1
	ephport_sock bind 20 >/dev/null
	ephport_sock udp 9999 20 >/dev/null
done
unshare -n sh -c "ip link set lo up; ephport_sock bind 5 >/dev/null"
cat /proc/net/ephport/allocations >/dev/null
kill $listener
wait $listener 2>/dev/null
unload
check "rmmod after work on every path" test ! -e "$SYSFS"

# kmemleak reports an object after two scans without a reference to it.
echo scan >"$km"
sleep 6
echo scan >"$km"
leaks=$(grep -c "unreferenced object" "$km")
if [ "$leaks" = 0 ]; then
	ktap_test_pass "kmemleak: nothing leaked"
else
	sed 's/^/# /' "$km" | head -n 60
	ktap_test_fail "kmemleak: $leaks unreferenced objects"
fi
ktap_finished
