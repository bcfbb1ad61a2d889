#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ephportctl_stats_test.sh - host tests of the control tool: stats, log and watch
# (helpers and fixtures: ephportctl_lib.sh).

# "run enable" runs the tool, not the shell builtin:
# shellcheck disable=SC3044
# shellcheck source=ephportctl_lib.sh
. "$(dirname "$0")/ephportctl_lib.sh"
ktap_set_plan 24
fixture

# ---- stats ----

t_stats_text() {
	run stats && ok &&
	has "^path *allocations *failures *probes *max_probes *probes/alloc$" &&
	has "^tcp4-connect *20 *1 *1020 *1000 *51.00$" &&
	has "^tcp6-connect *0 *0 *0 *0 *0.00$" &&
	has "^tcp-bind *3 *0 *5 *2 *1.67$" &&
	has "^path *1 *2-3 *4-7 *8-15 *16-31 *32-63 *64-127 *128-255 *256-511 *512-1023 *>=1024$" &&
	has "^tcp4-connect *20 *0 *0 *0 *0 *0 *0 *0 *0 *1 *0$" &&
	has "^tcp-bind *1 *2 *0 " &&
	! has future && ! has 77 && ! has web && ! has zzz
}
check "stats shows the per-path and histogram tables" t_stats_text

t_stats_aligned() {
	run stats && ok &&
	[ "$(printf '%s\n' "$out" | sed -n '1,6p' | awk '{ print length($0) }' | sort -u |
	     wc -l)" -eq 1 ]
}
check "stats columns are aligned" t_stats_aligned

HIST='{"1": 20, "2-3": 0, "4-7": 0, "8-15": 0, "16-31": 0, "32-63": 0, "64-127": 0,
	"128-255": 0, "256-511": 0, "512-1023": 1, ">=1024": 0}'
t_stats_json() {
	run stats --json && ok && jqe '
		keys_unsorted == ["paths", "rules"] and .rules == [] and
		(.paths | keys_unsorted ==
			["tcp4-connect", "tcp6-connect", "tcp-bind", "udp4", "udp6"]) and
		(.paths["tcp4-connect"] | keys_unsorted ==
			["allocations", "failures", "probes", "max_probes", "histogram"]) and
		.paths["tcp4-connect"].allocations == 20 and
		.paths["tcp4-connect"].failures == 1 and .paths["tcp4-connect"].probes == 1020 and
		.paths["tcp4-connect"].max_probes == 1000 and
		(.paths["tcp4-connect"].histogram | keys_unsorted ==
			('"$HIST"' | keys_unsorted)) and
		.paths["tcp4-connect"].histogram == '"$HIST"' and
		.paths["tcp-bind"].histogram["2-3"] == 2 and
		([.paths[] | .allocations] | add) == 24' &&
	json=$out && run -j stats && [ "$out" = "$json" ]
}
check_json "stats --json: {paths, rules}; -j stats the same" t_stats_json

t_stats_columns() {
	run -j stats && json=$(printf '%s\n' "$out" | jq -S .) &&
	# The same table, columns in another order: the same result.
	awk '!NF { exit } { t = $2; $2 = $5; $5 = t; t = $6; $6 = $16; $16 = t; print }' \
		"$PROC/stats" >"$tmp/stats" && mv "$tmp/stats" "$PROC/stats" &&
	head -1 "$PROC/stats" | grep -q "^path max_probes failures probes allocations >=1024" &&
	run -j stats && ok && [ "$(printf '%s\n' "$out" | jq -S .)" = "$json" ]
}
check_json "stats finds columns by their header names" t_stats_columns
fixture

t_stats_bad() {
	fixture
	sed -i '2s/ 1 / x /' "$PROC/stats"
	run stats && fails 1 "ephportctl: malformed failures \"x\" in $PROC/stats" &&
	fixture && sed -i '3s/ 77$//' "$PROC/stats" &&
	run stats && fails 1 "ephportctl: malformed line 3 in $PROC/stats" &&
	rm "$PROC/stats" && run stats &&
	fails 1 "ephportctl: cannot read $PROC/stats: No such file or directory"
}
check "stats reports malformed and missing files" t_stats_bad
fixture

# ---- log ----

t_log_text() {
	run log && ok &&
	has "^ *time *path *local *remote *probes *strategy *rule *result *pid *comm$" &&
	has "^ *5.000001 *tcp-bind *\[::1\]:40001 *- *3 *random-pick *- *ok *124 *my prog$" &&
	has "^123.456789 *tcp4-connect *127.0.0.1:40000 *127.0.0.1:8080 *1 *sequential *web *ok *123 *curl$" &&
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 4 ]
}
check "log shows all entries, comm with blanks intact" t_log_text

t_log_n() {
	run log -n 2 && ok && [ "$(printf '%s\n' "$out" | wc -l)" -eq 3 ] &&
	! has "my prog" && has curl &&
	run log -n 10 && ok && [ "$(printf '%s\n' "$out" | wc -l)" -eq 4 ]
}
check "log -n N shows the last N entries" t_log_n

t_log_json() {
	run log --json && ok && jqe '
		length == 3 and
		(.[0] | keys_unsorted == ["time", "path", "local", "remote", "probes",
					  "strategy", "rule", "result", "pid", "comm"]) and
		.[0] == {"time": 5.000001, "path": "tcp-bind", "local": "[::1]:40001",
			 "remote": null, "probes": 3, "strategy": "random-pick", "rule": null,
			 "result": "ok", "pid": 124, "comm": "my prog"} and
		.[1].remote == "127.0.0.1:8080" and .[1].rule == "web" and
		.[1].time == 123.456789 and .[2].comm == "a\"b\\c"' &&
	json=$out && run -j log && [ "$out" = "$json" ] &&
	run log -n 1 --json && ok && jqe 'length == 1 and .[0].pid == 1'
}
check_json "log --json, -j log and log -n 1 --json" t_log_json

t_log_empty() {
	head -1 "$PROC/allocations" >"$tmp/a" && mv "$tmp/a" "$PROC/allocations" &&
	run log && ok && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
	run log --json && ok && [ "$out" = "[]" ]
}
check "log of an empty table" t_log_empty
fixture

t_log_bytes() {
	printf '1.0 udp6 [::]:1 - 1 hash - ok 7 \001\033[31m\377\342\202\254 x\n' \
		>>"$PROC/allocations" &&
	run log --json && ok && jqe '.[3].comm == "\u0001\u001b[31m\ufffd\u20ac x"' &&
	run log && ok && ! printf '%s\n' "$out" | grep -q "$(printf '\033')"
}
check_json "log escapes control bytes and invalid UTF-8" t_log_bytes
fixture

t_log_bad_n() {
	for n in 0 -1 abc 1.5 "" 2x 99999999999999999999999; do
		run log -n "$n" && fails 2 "ephportctl: -n needs a positive integer, not \"$n\"" ||
			return 1
	done
	run log -n && fails 2 'ephportctl: option "-n" needs a value'
}
check "log -n rejects 0, -1, abc, 1.5, empty, 2x, huge, nothing" t_log_bad_n

t_log_bad() {
	sed -i '2s/ 124 / pid /' "$PROC/allocations"
	run log && fails 1 "ephportctl: malformed pid \"pid\" in $PROC/allocations"
}
check "log reports a malformed entry" t_log_bad
fixture

# No process behind an allocation (a kernel socket): pid "-".
t_log_nopid() {
	printf '7.5 tcp-bind 0.0.0.0:40003 - 1 hash - ok - -\n' >>"$PROC/allocations" &&
	run log && ok && has "^ *7.5 *tcp-bind *0.0.0.0:40003 *- *1 *hash *- *ok *- *-$" &&
	run -j log && ok && jqe '.[3].pid == null and .[3].comm == "-" and .[2].pid == 1'
}
check_json "log: a pid of \"-\" is shown as it is, null in JSON" t_log_nopid
fixture

# log FILTER... - the comms of the entries shown, in order
log_comms() {
	run log "$@" --json && ok && printf '%s\n' "$out" | jq -r 'map(.comm) | join(",")'
}
t_log_filters() {
	[ "$(log_comms --pid 123)" = curl ] && [ "$(log_comms --pid 9)" = "" ] &&
	[ "$(log_comms --comm "my prog")" = "my prog" ] && [ "$(log_comms --comm my)" = "" ] &&
	[ "$(log_comms --path tcp4-connect)" = curl ] &&
	[ "$(log_comms --path tcp)" = "my prog" ] &&
	[ "$(log_comms --path bind)" = "my prog" ] &&
	[ "$(log_comms --path udp4)" = 'a"b\c' ] && [ "$(log_comms --path conn)" = "" ] &&
	[ "$(log_comms --rule web)" = curl ] && [ "$(log_comms --rule -)" = 'my prog,a"b\c' ] &&
	[ "$(log_comms --port 8080)" = curl ] && [ "$(log_comms --port 40001)" = "my prog" ] &&
	[ "$(log_comms --path connect --port 40001)" = "" ] &&
	[ "$(log_comms -n 2 --path bind)" = "" ] &&
	run log --comm curl && ok && [ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ] &&
	has "^123.456789 *tcp4-connect .* curl$" &&
	run log --pid x && fails 2 'ephportctl: --pid needs a process id, not "x"' &&
	run log --port 0 && fails 2 'ephportctl: --port needs a port number, not "0"' &&
	run log --port 65536 && fails 2 'ephportctl: --port needs a port number, not "65536"' &&
	run log --rule && fails 2 'ephportctl: option "--rule" needs a value'
}
check_json "log --pid, --comm, --path, --rule, --port select entries" t_log_filters

# A failed allocation: no local port, its errno as the result.
t_log_failures() {
	printf '150.0 tcp4-connect 10.0.0.1:0 10.0.0.2:80 28232 random-pick - EADDRNOTAVAIL 9 fail\n' \
		>>"$PROC/allocations" &&
	[ "$(log_comms --failures)" = fail ] &&
	[ "$(log_comms --failures --path udp)" = "" ] &&
	run log --failures && ok && [ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ] &&
	has "^ *150.0 *tcp4-connect *10.0.0.1:0 *10.0.0.2:80 *28232 *random-pick *- *EADDRNOTAVAIL *9 *fail$" &&
	run -j log --failures && ok && jqe '.[0].result == "EADDRNOTAVAIL" and .[0].pid == 9'
}
check_json "log --failures: only the failed allocations, with their errno" t_log_failures
fixture

# -T: boot time + (CLOCK_REALTIME - CLOCK_BOOTTIME) now.
t_log_wall() {
	boot=$(cut -d' ' -f1 /proc/uptime)
	printf '%s tcp-bind 0.0.0.0:40009 - 1 hash - ok 5 now\n' "$boot" >>"$PROC/allocations" &&
	run log -T && ok && has "^ *wall time *path " &&
	has "^$(date +%Y-%m-%d) [0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9]\{6\} *tcp-bind .* now$" &&
	run log -T --json && ok && jqe '
		(.[3] | keys_unsorted == ["time", "wall_time", "path", "local", "remote",
					  "probes", "strategy", "rule", "result", "pid", "comm"]) and
		(.[3].wall_time | test("^[0-9-]{10}T[0-9:]{8}\\.[0-9]{6}Z$")) and
		((.[3].wall_time | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) - now | fabs) < 5 and
		.[3].time == '"$boot"
}
check_json "log -T: wall-clock times (text local, JSON UTC)" t_log_wall
fixture

# log_follow ARGS... - log -f -i 0.05 ARGS in the background; the script on
# stdin then changes the log; SIGTERM ends it
log_follow() {
	"$TOOL" log -f -i 0.05 "$@" >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	sleep 0.3
	sh -e
	sleep 0.3
	stop_bg && ok
}
t_log_follow() {
	A=$PROC/allocations
	export A
	log_follow --comm new <<-'EOF' &&
	printf '130.5 udp4 0.0.0.0:40003 - 1 hash - ok 2 new\n' >>"$A"
	sleep 0.2
	printf '131.0 udp4 0.0.0.0:40004 - 1 hash - ok 3 new\n' >>"$A"
	sleep 0.2
	# The ring wraps: the oldest entries go.
	sed -i '2,3d' "$A"
	printf '132.0 udp4 0.0.0.0:40005 - 1 hash - ok 4 new\n' >>"$A"
	EOF
	[ "$(printf '%s\n' "$out" | grep -c "time *path")" -eq 1 ] &&
	[ "$(printf '%s\n' "$out" | grep -c " new$")" -eq 3 ] &&
	[ "$(printf '%s\n' "$out" | awk '/ new$/ { print $9 }' | tr '\n' ' ')" = "2 3 4 " ] &&
	fixture && log_follow -j -n 1 <<-'EOF' &&
	printf '140.0 tcp-bind 0.0.0.0:40006 - 1 hash - ok 5 later\n' >>"$A"
	EOF
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ] &&
	printf '%s\n' "$out" | jq -e -s 'map(.comm) == ["a\"b\\c", "later"]' >/dev/null
}
check_json "log -f prints new entries as they come, across a wrap; -j: one per line" t_log_follow
fixture

# ---- watch ----

t_watch_pipe() {
	run watch -i 0.05 -n 3 && ok &&
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 4 ] &&
	has "^time *allocations/s *failures/s *probes/allocation *tcp4-connect/s *tcp6-connect/s *tcp-bind/s *udp4/s *udp6/s *tcp used% *udp used%$" &&
	[ "$(printf '%s\n' "$out" | grep -c '^[0-2][0-9]:[0-5][0-9]:[0-6][0-9]  *0\.0  *0\.0  *-  *0\.0  *0\.0  *0\.0  *0\.0  *0\.0  *85\.0!  *0\.0$')" -eq 3 ] &&
	! printf '%s' "$out" | grep -q "$(printf '\r')" &&
	run watch -i 0.05 -c 2 && ok && [ "$(printf '%s\n' "$out" | wc -l)" -eq 3 ]
}
check "watch -n 3: a header, then one line per interval with its time" t_watch_pipe

# proc_stats PATH ALLOCATIONS FAILURES PROBES - set a path's counters in
# this namespace's statistics
proc_stats() {
	awk -v p="$1" -v a="$2" -v f="$3" -v q="$4" \
		'$1 == p { $2 = a; $3 = f; $4 = q } { print }' "$PROC/stats" >"$tmp/stats" &&
	mv "$tmp/stats" "$PROC/stats"
}

# watch_change ARGS -- PATH ALLOC FAIL PROBES - change a path's counters once
# during a one-second interval of watch ARGS -i 1 -n 1
watch_change() {
	"$TOOL" watch -i 1 -n 1 "$@" >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	# The first sample is taken at once.
	sleep 0.3
	proc_stats "$WPATH" "$WALLOC" "$WFAIL" "$WPROBES"
	wait_bg && ok
}
# tcp-bind: 10 more allocations with 35 probes, 2 more failures
# shellcheck disable=SC2016
t_watch_rates() {
	WPATH=tcp-bind WALLOC=13 WFAIL=2 WPROBES=40
	watch_change && printf '%s\n' "$out" | tail -1 |
	awk '{ exit !($2 > 9 && $2 < 10.5 && $3 > 1.8 && $3 < 2.1 && $4 == "3.50" &&
		     $5 == "0.0" && $7 > 9 && $7 < 10.5) }'
}
check "watch: this namespace's allocations/s, failures/s, probes/allocation, per path" t_watch_rates
fixture

# After a reset, the counters' new values are the growth.
# shellcheck disable=SC2016
t_watch_reset() {
	WPATH=tcp4-connect WALLOC=5 WFAIL=0 WPROBES=10
	watch_change && printf '%s\n' "$out" | tail -1 |
	awk '{ exit !($2 > 4.5 && $2 < 5.3 && $3 == 0 && $4 == "2.00" && $5 > 4.5) }'
}
check "watch across a reset of the counters" t_watch_reset
fixture

t_watch_json() {
	WPATH=udp4 WALLOC=11 WFAIL=0 WPROBES=21
	watch_change --json && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && jqe '
		(keys_unsorted == ["time", "interval", "allocations_per_s", "failures_per_s",
				   "probes_per_allocation", "paths", "occupancy"]) and
		.occupancy.tcp == {"used": 8500, "free": 1500, "used_pct": 85,
				   "above_warn_pct": true} and
		.occupancy.udp.above_warn_pct == false and
		(.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")) and
		.interval > 0.9 and .allocations_per_s > 9 and .probes_per_allocation == 2 and
		(.paths | keys_unsorted == ["tcp4-connect", "tcp6-connect", "tcp-bind", "udp4",
					    "udp6"]) and
		.paths.udp4.allocations_per_s > 9 and .paths.udp4.failures_per_s == 0 and
		.paths["tcp-bind"].allocations_per_s == 0' &&
	run -j watch -i 0.05 -n 3 && ok && [ "$(printf '%s\n' "$out" | wc -l)" -eq 3 ] &&
	printf '%s\n' "$out" | jq -e -s 'length == 3 and
		all(.[]; .probes_per_allocation == null)' >/dev/null
}
check_json "watch --json: one object per line" t_watch_json
fixture

t_watch_signal() {
	"$TOOL" watch -i 0.05 >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	sleep 0.3
	stop_bg && ok && [ "$(printf '%s\n' "$out" | wc -l)" -ge 2 ]
}
check "watch without -n runs until SIGTERM, then exits 0" t_watch_signal

t_watch_bad_i() {
	for i in 0 -1 abc "" 0.5x nan inf 1e400; do
		run watch -i "$i" -n 1 &&
		fails 2 "ephportctl: -i needs a positive number of seconds, not \"$i\"" || return 1
	done
	run watch -i && fails 2 'ephportctl: option "-i" needs a value'
}
check "watch -i rejects 0, -1, abc, empty, 0.5x, nan, inf, 1e400, nothing" t_watch_bad_i

t_watch_bad_c() {
	for c in 0 -2 x 1.5; do
		run watch -n "$c" && fails 2 "ephportctl: -n needs a positive integer, not \"$c\"" ||
			return 1
	done
	rm "$PROC/stats" && run watch -n 1 &&
	fails 1 "ephportctl: cannot read $PROC/stats: No such file or directory"
}
check "watch -n rejects 0, -2, x, 1.5; no statistics: an error" t_watch_bad_c
fixture

ktap_finished
