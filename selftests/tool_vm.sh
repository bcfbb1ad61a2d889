#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ephportctl against the real module: every verb changes what sysfs shows,
# the JSON outputs carry their documented keys, bad input and the kernel's
# refusals change nothing and give a one-line error with the documented
# exit status (1: runtime error, 2: usage error), and so does a missing
# module.

# "run enable" runs the tool, not the shell builtin:
# shellcheck disable=SC3044
# shellcheck source=lib/lib.sh
. "$(dirname "$0")/lib/lib.sh"

TOOL=$(command -v ephportctl || echo /ephport/bin/ephportctl)
tmp=$(mktemp -d)
out=$tmp/out
err=$tmp/err
trap 'rm -rf "$tmp"' EXIT

# run ARGS... - the tool's stdout in $out, stderr in $err, status in $rc
run() {
	rc=0
	"$TOOL" "$@" >"$out" 2>"$err" || rc=$?
}

# What check (lib.sh) shows when a test case fails: the last run.
show_failure() {
	echo "# status $rc; stdout:"
	sed 's/^/#   /' "$out"
	echo "# stderr:"
	sed 's/^/#   /' "$err"
}

# The configuration as sysfs shows it.
config() {
	for f in enabled range strategy; do
		printf '%s=%s ' "$f" "$(cat "$SYSFS/$f" 2>&1)"
	done
}

# failed STATUS PATTERN - exit STATUS, nothing on stdout, one line on stderr
# matching PATTERN, and the configuration as it was ($before).
failed() {
	[ "$rc" = "$1" ] && [ ! -s "$out" ] && [ "$(wc -l <"$err")" -eq 1 ] &&
		grep -q -- "$2" "$err" && [ "$(config)" = "$before" ]
}

# succeeded FILE VALUE - exit 0, nothing on stderr, FILE reads VALUE
succeeded() {
	[ "$rc" = 0 ] && [ ! -s "$err" ] && [ "$(cat "$SYSFS/$1")" = "$2" ]
}

# succeeded_rule NAME ATTR VALUE - the same for an attribute of a rule
succeeded_rule() {
	[ "$rc" = 0 ] && [ ! -s "$err" ] &&
		[ "$(cat "/sys/kernel/config/ephport/rules/$1/$2")" = "$3" ]
}

# json_line OPEN CLOSE KEY... - exit 0, one line from OPEN to CLOSE, every key
json_line() {
	[ "$rc" = 0 ] && [ ! -s "$err" ] && [ "$(wc -l <"$out")" -eq 1 ] || return 1
	first=$(head -c 1 "$out")
	last=$(tr -d '\n' <"$out" | tail -c 1)
	[ "$first" = "$1" ] && [ "$last" = "$2" ] || return 1
	shift 2
	for key in "$@"; do
		grep -qF "\"$key\":" "$out" || { echo "# no key \"$key\""; return 1; }
	done
}

# One TCP connect() from the module's range to a closed loopback port.
connect_once() {
	nc -w 1 127.0.0.1 1 </dev/null >/dev/null 2>&1
	true
}

# Every strategy the module offers.
all_strategies() {
	[ -s "$SYSFS/available_strategies" ] || return 1
	for s in $(cat "$SYSFS/available_strategies"); do
		run set strategy "$s"
		succeeded strategy "$s" || { echo "# set strategy $s"; return 1; }
	done
}

nobody() {
	su nobody -s /bin/sh -c "$*"
}

ktap_print_header
ktap_set_plan 74

# Without the module: the documented error for every verb that needs it.
unload
before=$(config)
run status
check "status without the module: status 1, one-line error" \
	failed 1 "module not loaded (/sys/kernel/ephport missing)"
run set range 40000 40010
check "set range without the module: module not loaded" failed 1 "module not loaded"
run set strategy sequential
check "set strategy without the module: module not loaded" failed 1 "module not loaded"
run enable
check "enable without the module: module not loaded" failed 1 "module not loaded"
run stats --json
check "stats without the module: module not loaded" failed 1 "module not loaded"
run reset
check "reset without the module: module not loaded" failed 1 "module not loaded"

check "insmod succeeds" load

run status
check "status: status 0" [ "$rc" = 0 ]
check "status shows the strategy and the range" \
	sh -c "grep -q kernel '$out' && grep -q auto '$out'"

run set range 40000 40010
check "set range 40000 40010" succeeded range "40000 40010"
run set range 41000-41010
check "set range 41000-41010" succeeded range "41000 41010"
run status
check "status shows the new range" grep -q 41000 "$out"
run set range auto
check "set range auto" succeeded range auto
check "set strategy NAME, for each strategy" all_strategies
run set strategy sequential
check "set strategy sequential" succeeded strategy sequential
run disable
check "disable" succeeded enabled 0
# Enabling redirects the kernel's functions again: with ftrace turned off
# (which the kernel allows only while the module is disabled), it refuses.
if echo 0 2>/dev/null >/proc/sys/kernel/ftrace_enabled; then
	before=$(config)
	run enable
	echo 1 >/proc/sys/kernel/ftrace_enabled
	check "enable refused by ftrace: status 1, says why, still disabled" \
		failed 1 "cannot enable ephport: .*ftrace refused"
else
	ktap_test_skip "enable refused by ftrace (cannot turn ftrace off here)"
fi
run enable
check "enable" succeeded enabled 1

# Some allocations to count, log and reset.
run set range 40000 40999
connect_once
connect_once
check "connect() is counted" [ "$(cat "$SYSFS/stats/tcp4_connect")" -ge 2 ]
run reset
check "reset zeroes the global counters" \
	sh -c "[ \$(cat $SYSFS/stats/allocations) = 0 ] && [ \$(cat $SYSFS/stats/tcp4_connect) = 0 ]"
# shellcheck disable=SC2016
check "reset zeroes this namespace's counters" \
	awk '!NF { done = 1 } NR > 1 && !done { for (i = 2; i <= NF; i++) if ($i != 0) bad = 1 }
	     END { exit bad }' \
	/proc/net/ephport/stats
connect_once

run status --json
check "status --json: one JSON object with the documented keys" \
	json_line "{" "}" enabled range strategy available_strategies totals \
	allocations failures probes probes_per_allocation paths netns_allocations \
	tcp4-connect tcp6-connect tcp-bind udp4 udp6 occupancy tcp udp used free warn_pct
check "status --json shows the configuration" \
	grep -qF '"range":{"low":40000,"high":40999}' "$out"
run -j status
check "-j status: the same keys" json_line "{" "}" enabled range strategy totals paths
run stats --json
check "stats --json: one JSON object with the documented keys" \
	json_line "{" "}" paths tcp4-connect tcp6-connect tcp-bind udp4 udp6 allocations \
	failures probes max_probes histogram 1 2-3 ">=1024" rules
run stats
check "stats: status 0, every path" \
	sh -c "[ $rc = 0 ] && grep -q tcp4-connect '$out' && grep -q udp6 '$out'"
run log --json
check "log --json: one JSON array with the documented keys" \
	json_line "[" "]" time path local remote probes strategy rule result pid comm
check "log --json shows the connect()" \
	sh -c "grep -qF '\"path\":\"tcp4-connect\"' '$out' && grep -qF '\"comm\":\"nc\"' '$out'"
run log -n 1 --json
check "log -n 1 --json: one entry" \
	sh -c "[ $rc = 0 ] && [ \$(grep -o '\"time\":' '$out' | wc -l) = 1 ]"
run log
check "log: status 0, shows the connect()" \
	sh -c "[ $rc = 0 ] && grep -q 'tcp4-connect.*nc' '$out'"

# log: filters, wall-clock times, follow mode.
run log --comm nc --path tcp4-connect --port 1 --json
check "log --comm nc --path tcp4-connect --port 1: only the connect()s of nc" \
	sh -c "[ $rc = 0 ] && grep -qF '\"comm\":\"nc\"' '$out' &&
	[ \$(grep -o '\"comm\":' '$out' | wc -l) = \$(grep -o '\"comm\":\"nc\"' '$out' | wc -l) ] &&
	! grep -qF '\"path\":\"udp' '$out'"
run log --comm no-such-comm --json
check "log --comm of no process: an empty list" sh -c "[ $rc = 0 ] && [ \"\$(cat '$out')\" = '[]' ]"
run log -T -n 1
check "log -T: the entry's time on today's wall clock" \
	sh -c "[ $rc = 0 ] && grep -q '^$(date +%Y-%m-%d) ' '$out'"
"$TOOL" log -f -i 0.2 --path tcp4-connect >"$tmp/follow" 2>"$err" &
follow=$!
sleep 1
before_f=$(grep -c 'tcp4-connect' "$tmp/follow")
connect_once
sleep 1
kill -TERM $follow
rc=0
wait $follow || rc=$?
check "log -f prints a new connect() once, then exits 0 on SIGTERM" \
	sh -c "[ $rc = 0 ] && [ \$(grep -c 'tcp4-connect' '$tmp/follow') = \$(($before_f + 1)) ]"

# A failed allocation is logged: the range's one port is reserved.
reserved=$(cat /proc/sys/net/ipv4/ip_local_reserved_ports)
run set range 40000 40000
echo 40000 >/proc/sys/net/ipv4/ip_local_reserved_ports
connect_once
echo "$reserved" >/proc/sys/net/ipv4/ip_local_reserved_ports
run log --failures --json
check "log --failures: the failed connect(), its errno and destination" \
	sh -c "[ $rc = 0 ] && grep -qF '\"result\":\"EADDRNOTAVAIL\"' '$out' &&
	grep -qF '\"remote\":\"127.0.0.1:1\"' '$out' && grep -qF '\"local\":\"127.0.0.1:0\"' '$out' &&
	! grep -qF '\"result\":\"ok\"' '$out'"
run log --failures
check "log --failures (text): the result column" \
	sh -c "[ $rc = 0 ] && grep -q 'result' '$out' && grep -q 'tcp4-connect .*EADDRNOTAVAIL .* nc$' '$out'"

# Occupancy and warn_pct: a listener bound to port 0 holds the range's
# one port.
run set warn-pct 50
check "set warn-pct 50" succeeded warn_pct 50
warn_refused() {
	failed 2 "warn-pct must be" && [ "$(cat "$SYSFS/warn_pct")" = 50 ]
}
before=$(config)
run set warn-pct 101
check "set warn-pct 101: refused, warn_pct unchanged" warn_refused
nc -l -p 0 </dev/null >/dev/null 2>&1 &
holder=$!
sleep 1
run status --json
check "status --json: the one TCP port of the range in use, warn_pct" \
	sh -c "[ $rc = 0 ] &&
	grep -qF '\"tcp\":{\"range\":{\"low\":40000,\"high\":40000},\"used\":1,\"free\":0}' '$out' &&
	grep -qF '\"warn_pct\":50' '$out'"
run watch -i 0.2 -n 1
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
check "watch marks the protocol at or above warn_pct" \
	sh -c "[ $rc = 0 ] && grep -q 'tcp used%' '$out' && grep -q ' 100.0!  *0.0$' '$out'"
check "crossing warn_pct is in the kernel log, with the namespace and protocol" \
	sh -c "dmesg | grep -q 'ephport: netns [0-9]*: tcp ports 1 of 1 used (40000-40000), at or above warn_pct 50%'"
run set warn-pct 0
run set range 40000 40999

# watch: this namespace's rates; another namespace sees none of them.
"$TOOL" watch -i 2 -n 1 --json >"$tmp/watch" 2>"$err" &
w1=$!
unshare -n "$TOOL" watch -i 2 -n 1 --json >"$tmp/watch-ns" 2>>"$err" &
w2=$!
sleep 0.5
connect_once
connect_once
rc=0
wait $w1 || rc=$?
wait $w2 || rc=$?
cp "$tmp/watch" "$out"
check "watch --json: one line, this namespace's tcp4-connect rate" \
	sh -c "[ $rc = 0 ] && [ \$(wc -l <'$tmp/watch') = 1 ] &&
	grep -q '\"tcp4-connect\":{\"allocations_per_s\":[0-9.]*[1-9]' '$tmp/watch'"
check "watch in a new namespace: no allocations there" \
	sh -c "[ \$(wc -l <'$tmp/watch-ns') = 1 ] &&
	grep -q '\"tcp4-connect\":{\"allocations_per_s\":0.000,' '$tmp/watch-ns'"

# stats --format prometheus: the values of stats, in the text format.
run stats --format prometheus
n=$(awk '$1 == "tcp4-connect" { print $2 }' /proc/net/ephport/stats)
check "stats --format prometheus: HELP, TYPE, the counters of stats, a histogram" \
	sh -c "[ $rc = 0 ] && grep -q '^# TYPE ephport_allocations_total counter$' '$out' &&
	grep -q '^ephport_allocations_total{path=\"tcp4-connect\"} $n$' '$out' &&
	grep -q '^ephport_probes_per_allocation_bucket{path=\"udp6\",le=\"+Inf\"} ' '$out' &&
	! grep -v '^#' '$out' | grep -qv '^ephport_[a-z_]*\({[^}]*}\)\{0,1\} [0-9][0-9]*$'"

# Bad input changes nothing: status 2 and one line.
before=$(config)
run set range 80 90
check "set range 80 90: status 2, one line, nothing changed" failed 2 "range must be"
run set range 50000 40000
check "set range 50000 40000: refused" failed 2 "range must be"
run set range 40000 40010x
check "set range 40000 40010x: refused" failed 2 "range must be"
run set strategy nope
check "set strategy nope: status 2, one line, nothing changed" \
	failed 2 "unknown strategy"
run frobnicate
check "unknown command: status 2, one line" failed 2 "is unknown"

# The kernel's refusal: a range below the namespace's unprivileged floor.
rc=0
# shellcheck disable=SC2016
unshare -n sh -c '
	echo "2000 60999" >/proc/sys/net/ipv4/ip_local_port_range &&
	echo 2000 >/proc/sys/net/ipv4/ip_unprivileged_port_start || exit 99
	exec "$0" set range 1500 2499' "$TOOL" >"$out" 2>"$err" || rc=$?
check "range below ip_unprivileged_port_start: status 1, one line, nothing changed" \
	failed 1 "refused"

# Rules: what the tool writes is what configfs shows, and a rule the
# kernel refuses leaves nothing behind.
RULES=/sys/kernel/config/ephport/rules
mkdir -p /sys/fs/cgroup/ep_tool
run rule add web cgroup /sys/fs/cgroup/ep_tool range 50000 50009 strategy sequential priority 5
check "rule add: status 0, configfs shows every setting" sh -c "[ $rc = 0 ] &&
	[ \"\$(cat $RULES/web/cgroup)\" = /ep_tool ] &&
	[ \"\$(cat $RULES/web/range)\" = '50000 50009' ] &&
	[ \"\$(cat $RULES/web/strategy)\" = sequential ] &&
	[ \"\$(cat $RULES/web/priority)\" = 5 ] && [ \"\$(cat $RULES/web/enabled)\" = 1 ]"
# shellcheck disable=SC2016
sh -c 'echo $$ >/sys/fs/cgroup/ep_tool/cgroup.procs && exec nc -w 1 127.0.0.1 1' \
	</dev/null >/dev/null 2>&1
run log
check "a connect() in the cgroup: the rule's range, the log names the rule" \
	grep -q "tcp4-connect *127.0.0.1:5000[0-9] .* sequential *web " "$out"
run rule list
check "rule list: the rule, its match, action and counters" \
	grep -q "^web *5 *yes *cgroup=/ep_tool *range=50000-50009 strategy=sequential *1 " "$out"
run rule list --json
check "rule list --json: one JSON array with the documented keys" \
	json_line "[" "]" name priority enabled cgroup uid netns proto path range \
	strategy allocations failures probes max_probes
check "rule list --json: the range as in status" \
	grep -qF '"range":{"low":50000,"high":50009}' "$out"
run ru l
check "ru l (prefixes): the rule list" grep -q "^web *5 *yes " "$out"
run rule show web --json
check "rule show --json: one JSON object with the keys of rule list" \
	json_line "{" "}" name priority enabled cgroup uid netns proto path range \
	strategy allocations failures probes max_probes
run rule set web priority 6 strategy - uid 0-65534
check "rule set: configfs shows the new settings, the others kept" sh -c "[ $rc = 0 ] &&
	[ \"\$(cat $RULES/web/priority)\" = 6 ] && [ \"\$(cat $RULES/web/strategy)\" = '' ] &&
	[ \"\$(cat $RULES/web/uid)\" = 0-65534 ] && [ \"\$(cat $RULES/web/cgroup)\" = /ep_tool ]"
run rule disable web
check "rule disable: enabled 0" succeeded_rule web enabled 0
run rule enable web
check "rule enable: enabled 1" succeeded_rule web enabled 1
run stats
check "stats: the rule table" grep -q "^web " "$out"
run rule add web proto udp
check "rule add of an existing name: status 1, the rule unchanged" \
	sh -c "[ $rc = 1 ] && grep -q exists '$err' && [ ! -s '$out' ] &&
	[ \"\$(cat $RULES/web/proto)\" = '' ]"
# shellcheck disable=SC2016
unshare -n sh -c '
	echo 2000 >/proc/sys/net/ipv4/ip_unprivileged_port_start || exit 99
	exec "$0" rule add low range 1500 1600' "$TOOL" >"$out" 2>"$err" || rc=$?
check "a value the kernel refuses: status 1, no rule left" \
	sh -c "[ $rc = 1 ] && grep -q range '$err' && [ ! -e $RULES/low ]"
run rule add here netns /proc/self/ns/net proto tcp path connect uid 1000-1999
check "rule add with netns as a path: its inode" \
	sh -c "[ $rc = 0 ] &&
	[ \"\$(cat $RULES/here/netns)\" = \"\$(stat -L -c %i /proc/self/ns/net)\" ] &&
	[ \"\$(cat $RULES/here/uid)\" = 1000-1999 ]"
rc=0
# shellcheck disable=SC2016
unshare -n sh -c 'stat -L -c %i /proc/self/ns/net; exec "$0" rule add old netns /proc/self/ns/net' \
	"$TOOL" >"$out" 2>"$err" || rc=$?
check "rule add netns of a namespace alive" [ "$rc" = 0 ]
ino=$(head -n 1 "$out")
run rule list
check "rule list: a netns rule whose namespace is gone" \
	sh -c "[ \"\$(cat $RULES/old/netns)\" = '$ino (gone)' ] &&
	grep -q '^old .* netns=$ino (gone) ' '$out'"
run rule del old
# Persistence: save, change, -b restores, save again is the same file.
PARAM=/sys/module/ephport/parameters/random_inc_n
run set random-inc 77
check "set random-inc 77: the module parameter random_inc_n" \
	sh -c "[ $rc = 0 ] && [ \"\$(cat $PARAM)\" = 77 ]"
run save "$tmp/saved"
saved_rc=$rc
run set strategy hash
run set random-inc 3
run set range 42000 42999
run rule set web priority 9
run rule add extra proto udp
run disable
run -b "$tmp/saved"
batch_rc=$rc
run save "$tmp/again"
check "save, change, -b FILE, save: the same file" \
	sh -c "[ $saved_rc = 0 ] && [ $batch_rc = 0 ] && [ $rc = 0 ] &&
	cmp '$tmp/saved' '$tmp/again' && [ ! -e $RULES/extra ] &&
	grep -qx 'set random-inc 77' '$tmp/saved' && [ \"\$(cat $PARAM)\" = 77 ] &&
	[ \"\$(cat $SYSFS/range)\" = '40000 40999' ] && [ \"\$(cat $SYSFS/enabled)\" = 1 ]"
printf 'set range 43000 43999\nset range 80 90\nset range 44000 44999\n' >"$tmp/bad"
run -b "$tmp/bad"
check "-b stops at the bad line: FILE:LINE, the lines before applied, none after" \
	sh -c "[ $rc = 2 ] && grep -q '$tmp/bad:2: range must be' '$err' &&
	[ \"\$(cat $SYSFS/range)\" = '43000 43999' ]"
run -b "$tmp/saved"

run rule del web
check "rule del: status 0, the rule is gone" sh -c "[ $rc = 0 ] && [ ! -e $RULES/web ]"
run rule del web
check "rule del of a missing rule: status 1, one line" \
	sh -c "[ $rc = 1 ] && grep -q 'does not exist' '$err' && [ \$(wc -l <'$err') = 1 ]"
run rule del here
rmdir /sys/fs/cgroup/ep_tool

# Unprivileged: reading works, writing is refused with the documented error.
# (An initramfs packed from a mktemp -d directory has a 0700 root.)
if [ "$(stat -c %a /)" = 700 ]; then
	echo "# / has mode 700, not searchable by nobody: chmod 755"
	chmod 755 /
fi
if [ "$(nobody id -u 2>/dev/null)" = 65534 ]; then
	rc=0
	nobody "$TOOL" status >"$out" 2>"$err" || rc=$?
	check "status as nobody" [ "$rc" = 0 ]
	rc=0
	nobody "$TOOL" set range 40000 40010 >"$out" 2>"$err" || rc=$?
	check "set range as nobody: permission denied, nothing changed" \
		failed 1 "permission denied"
else
	ktap_test_skip "status as nobody (su nobody does not work here)"
	ktap_test_skip "set range as nobody (su nobody does not work here)"
fi

unload
check "rmmod removes the sysfs directory" test ! -e "$SYSFS"
ktap_finished
