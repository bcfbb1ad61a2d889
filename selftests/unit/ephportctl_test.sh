#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ephportctl_test.sh - host tests of the control tool: general usage,
# status, the settings (enable, disable, reset, set ...) and permissions
# (helpers and fixtures: ephportctl_lib.sh).

# "run enable" runs the tool, not the shell builtin:
# shellcheck disable=SC3044
# shellcheck source=ephportctl_lib.sh
. "$(dirname "$0")/ephportctl_lib.sh"
ktap_set_plan 56
fixture

# ---- general ----

t_version() { run --version && ok && [ "$out" = "ephportctl $(cat "$VERSION_FILE")" ]; }
if [ -f "$VERSION_FILE" ]; then
	check "--version prints the version of the VERSION file" t_version
else
	ktap_test_skip "--version prints the version (no VERSION file beside the test)"
fi

t_help() {
	run help && ok || return 1
	for w in status "set range" "set strategy" enable disable stats log watch reset help \
		 "set random-inc N" "set warn-pct PCT" "rule add" "rule del" "rule list" "rule flush" save "-b FILE" --batch \
		 "--format prometheus" "--pid PID" "-T" --json --version; do
		has "$w" || return 1
	done
	help=$out
	run --help && ok && [ "$out" = "$help" ]
}
check "help and --help print the usage on stdout" t_help

t_unknown() {
	run frobnicate &&
	fails 2 'Command "frobnicate" is unknown, try "ephportctl help".' &&
	run -x status && fails 2 'Option "-x" is unknown, try "ephportctl help".' &&
	run log -q && fails 2 'Option "-q" is unknown, try "ephportctl help".'
}
check "unknown command or option is a one-line usage error" t_unknown

t_extra() {
	run enable now && fails 2 'ephportctl: unexpected argument "now"' &&
	run stats x && fails 2 'ephportctl: unexpected argument "x"'
}
check "extra arguments are refused" t_extra

t_usage() {
	for args in "set" "set foo" "set strategy"; do
		# shellcheck disable=SC2086
		run $args
		[ "$rc" -eq 2 ] && [ -z "$out" ] || return 1
		printf '%s\n' "$err" | grep -q "^Usage: ephportctl" || return 1
	done
}
check "incomplete set prints the usage on stderr" t_usage

t_nojson() {
	run -j enable && fails 2 'ephportctl: "enable" has no JSON output' &&
	run -j save && fails 2 'ephportctl: "save" has no JSON output' &&
	file_is "$SYS/enabled" 1
}
check "-j with a command without JSON output is refused" t_nojson

# usage_only ARGS... - status 2, the usage of that command alone on stderr
usage_only() {
	want=$1
	shift
	run "$@"
	[ "$rc" -eq 2 ] && [ -z "$out" ] &&
	printf '%s\n' "$err" | head -1 | grep -q "^Usage: ephportctl $want" &&
	! printf '%s\n' "$err" | grep -q "^  status\|watch\|^Options"
}
t_usage_only() {
	usage_only "set COMMAND" set && has_err "set range LOW HIGH" &&
	has_err "set strategy NAME" && ! has_err "rule add" &&
	usage_only "set COMMAND" set frob &&
	usage_only "set strategy NAME" set strategy && ! has_err "set range" &&
	usage_only "rule COMMAND" rule && has_err "rule del NAME" && ! has_err "set range" &&
	usage_only "rule add NAME" rule add && has_err "MATCH: cgroup PATH" &&
	! has_err "rule del" &&
	usage_only "rule del NAME" rule del && ! has_err "rule add"
}
check "an incomplete command prints the usage of that command only" t_usage_only

t_prefix() {
	run st && ok && has "^strategy: *sequential$" && status=$out &&
	run sta && ok && [ "$out" = "$status" ] &&
	run stats && ok && has "^path *allocations *failures" &&
	run s r 41000 41999 && ok && file_is "$SYS/range" "41000 41999" &&
	run se ra 40000-49999 && ok && file_is "$SYS/range" "40000 49999" &&
	run s s hash && ok && file_is "$SYS/strategy" hash &&
	run set strat sequential && ok && file_is "$SYS/strategy" sequential &&
	run d && ok && file_is "$SYS/enabled" 0 && run en && ok && file_is "$SYS/enabled" 1 &&
	run l -n 1 && ok && [ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ] &&
	run r && ok && file_is "$SYS/stats/reset" 1 &&
	run h && ok && has "^Usage: ephportctl" &&
	run -j e && fails 2 'ephportctl: "enable" has no JSON output' &&
	run "" && fails 2 'Command "" is unknown, try "ephportctl help".' &&
	run statusx && fails 2 'Command "statusx" is unknown, try "ephportctl help".' &&
	run set x 1 && [ "$rc" -eq 2 ] && has_err "^Usage: ephportctl set"
}
check "commands are found by a prefix, the first in the usage's order" t_prefix
fixture

t_pretty() {
	run status --json && ok && compact=$out &&
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
	run -p status && ok && [ "$(printf '%s\n' "$out" | wc -l)" -gt 10 ] &&
	[ "$(printf '%s\n' "$out" | jq -c .)" = "$(printf '%s\n' "$compact" | jq -c .)" ] &&
	printf '%s\n' "$out" | head -2 | tail -1 | grep -q '^  "enabled": true,$' &&
	has '^    "low": 40000,$' && has '^  "available_strategies": \[$' &&
	pretty=$out && run --pretty && ok && [ "$out" = "$pretty" ] &&
	run -j -p status && [ "$out" = "$pretty" ] && run status -p && [ "$out" = "$pretty" ] &&
	run -p stats && ok && has '^  "paths": {$' && has '^  "rules": \[\]$' &&
	run -p log -n 1 && ok && has '^\[$' && has '^  {$' && has '^    "pid": 1,$' &&
	run -p enable && fails 2 'ephportctl: "enable" has no JSON output'
}
check_json "-p/--pretty: JSON indented by two, the same value" t_pretty

not_loaded() {
	for args in "" status stats log "watch -c 1" enable disable reset "set range auto" \
		    "set strategy hash"; do
		# shellcheck disable=SC2086
		run $args
		fails 1 "$NOT_LOADED" || return 1
	done
}
t_not_loaded() {
	EPHPORT_SYSFS=$tmp/none
	not_loaded
	r=$?
	EPHPORT_SYSFS=$SYS
	return $r
}
check "module not loaded is reported by every command" t_not_loaded

# ---- status ----

t_status_text() {
	run status && ok &&
	has "^enabled: *yes$" && has "^range: *40000-49999 (10000 ports)$" &&
	has "^strategy: *sequential$" && has "^available: *$STRATEGIES$" &&
	has "^allocations: *1023$" && has "^failures: *1$" && has "^probes: *2046$" &&
	has "^probes/allocation: *2.00$" &&
	has "^path *allocations *this netns$" && has "^tcp4-connect *20 *20$" &&
	has "^tcp-bind *1000 *3$" && has "^udp4 *3 *1$" && has "^udp6 *0 *0$" &&
	has "^protocol *range *used *free *used%$" &&
	has "^tcp *40000-49999 *8500 *1500 *85.0% !$" &&
	has "^udp *40000-49999 *3 *9997 *0.0%$" && has "^warn_pct: *80% (! above)$"
}
check "status shows configuration, totals and per-path counts" t_status_text

t_status_default() { run && ok && has "^strategy: *sequential$"; }
check "no command means status" t_status_default

t_status_json() {
	run status --json && ok && jqe '
		(keys_unsorted == ["enabled", "range", "strategy", "available_strategies",
				   "totals", "paths", "occupancy", "warn_pct"]) and
		.occupancy.tcp == {"range": {"low": 40000, "high": 49999}, "used": 8500,
				   "free": 1500} and
		.occupancy.udp.used == 3 and .warn_pct == 80 and
		.enabled == true and .range == {"low": 40000, "high": 49999} and
		.strategy == "sequential" and
		(.available_strategies | join(" ")) == "'"$STRATEGIES"'" and
		.totals == {"allocations": 1023, "failures": 1, "probes": 2046,
			    "probes_per_allocation": 2} and
		(.paths | keys_unsorted) == ["tcp4-connect", "tcp6-connect", "tcp-bind",
					     "udp4", "udp6"] and
		.paths["tcp-bind"] == {"allocations": 1000, "netns_allocations": 3}' &&
	json=$out && run -j && [ "$out" = "$json" ] && run --json status && [ "$out" = "$json" ]
}
check_json "status --json, -j and --json status" t_status_json

t_status_auto() {
	echo auto >"$SYS/range"
	echo 0 >"$SYS/enabled"
	run status && ok && has "^range: *auto (net.ipv4.ip_local_port_range" &&
	has "^enabled: *no" &&
	run -j && ok && jqe '.range == "auto" and .enabled == false'
}
check_json "status with range auto and disabled" t_status_auto
fixture

t_status_nonetns() {
	rm "$PROC/stats"
	run status && ok && ! has "this netns" && has "^tcp-bind *1000$" &&
	run -j && ok && jqe '[.paths[].netns_allocations] == [null, null, null, null, null]'
}
check_json "status without procfs statistics" t_status_nonetns
fixture

t_status_occupancy_old() {
	rm "$SYS/warn_pct" && sed -i '/^protocol/,/^udp /d' "$PROC/stats" &&
	run status && ok && ! has "^protocol" && ! has "^warn_pct" &&
	run -j && ok && jqe '.occupancy == null and .warn_pct == null' &&
	echo 0 >"$SYS/warn_pct" && run status && ok && has "^warn_pct: *off$"
}
check_json "status: a module without occupancy or warn_pct" t_status_occupancy_old
fixture

t_status_bad() {
	echo "40000" >"$SYS/range"
	run status && fails 1 "ephportctl: unexpected value \"40000\" in $SYS/range"
}
check "status reports a malformed attribute" t_status_bad
fixture

# ---- enable, disable, reset ----

t_disable() { run disable && ok && [ -z "$out" ] && file_is "$SYS/enabled" 0; }
check "disable writes 0" t_disable
t_enable() { run enable && ok && [ -z "$out" ] && file_is "$SYS/enabled" 1; }
check "enable writes 1" t_enable
t_reset() { run reset && ok && [ -z "$out" ] && file_is "$SYS/stats/reset" 1; }
check "reset writes 1 to stats/reset" t_reset

# ---- set range ----

# set_range EXPECTED ARGS... - set range ARGS writes "EXPECTED\n"
set_range() {
	printf '%s\n' "$1" >"$tmp/want"
	shift
	echo "40000 49999" >"$SYS/range"
	run set range "$@" && ok && [ -z "$out" ] && cmp -s "$SYS/range" "$tmp/want"
}
check "set range 40000 49999" set_range "40000 49999" 40000 49999
check "set range 1024-65535" set_range "1024 65535" 1024-65535
check "set range 65535 65535" set_range "65535 65535" 65535 65535
check "set range auto" set_range auto auto

# bad_range ARGS... - refused before anything is written
bad_range() {
	echo "40000 49999" >"$SYS/range"
	run set range "$@" && fails 2 "$RANGE_ERR" && file_is "$SYS/range" "40000 49999"
}
check "set range 1023 2000 is refused" bad_range 1023 2000
check "set range 2000 1000 is refused" bad_range 2000 1000
check "set range abc is refused" bad_range abc
check "set range 1024 is refused" bad_range 1024
check "set range 70000 70001 is refused" bad_range 70000 70001
check "set range 1024 65536 is refused" bad_range 1024 65536
check "set range -2000 3000 is refused" bad_range -2000 3000
check "set range -5 is refused" bad_range -5
check "set range 2000-1000 is refused" bad_range 2000-1000
check "set range 1024- is refused" bad_range 1024-
check "set range +1024 2000 is refused" bad_range +1024 2000
check "set range 0x400 2000 is refused" bad_range 0x400 2000
check "set range with an empty LOW is refused" bad_range "" 2000
check "set range with no value is refused" bad_range

# extra_range ARGS... - the range is complete, the word after it is refused
extra_range() {
	echo "40000 49999" >"$SYS/range"
	for last; do :; done
	run set range "$@" && fails 2 "ephportctl: unexpected argument \"$last\"" &&
	file_is "$SYS/range" "40000 49999"
}
check "set range 1024 2000 3000: unexpected argument" extra_range 1024 2000 3000
check "set range auto 1: unexpected argument" extra_range auto 1
check "set range 1024-2000 x: unexpected argument" extra_range 1024-2000 x

# What cat /proc/sys/net/ipv4/ip_local_port_range prints, as one word.
TAB=$(printf '\t')
check "set range \"32768<tab>60999\" (the sysctl's format)" set_range "32768 60999" "32768${TAB}60999"
check "set range \" 40000 49999 \" in one word" set_range "40000 49999" " 40000 49999 "
check "set range \"1024 2000 3000\" in one word is refused" bad_range "1024 2000 3000"
check "set range \"1024${TAB}\" is refused" bad_range "1024${TAB}"
check "set range 99999999999999999999 65535 is refused" bad_range 99999999999999999999 65535

# ---- set random-inc ----

t_random_inc() {
	run set random-inc 7 && ok && [ -z "$out" ] && file_is "$PARAMS/random_inc_n" 7 &&
	for n in 0 65536 x -1 1.5 ""; do
		run set random-inc "$n" &&
		fails 2 "ephportctl: random-inc must be 1..65535, not \"$n\"" || return 1
	done &&
	run set random-inc 5 6 && fails 2 'ephportctl: unexpected argument "6"' &&
	file_is "$PARAMS/random_inc_n" 7 &&
	rm "$PARAMS/random_inc_n" && run set random-inc 5 &&
	fails 1 "ephportctl: cannot write $PARAMS/random_inc_n: No such file or directory"
}
check "set random-inc N writes the module parameter random_inc_n" t_random_inc

t_warn_pct() {
	run set warn-pct 0 && ok && [ -z "$out" ] && file_is "$SYS/warn_pct" 0 &&
	run set warn-pct 100 && ok && file_is "$SYS/warn_pct" 100 &&
	for n in 101 -1 x 1.5 ""; do
		run set warn-pct "$n" &&
		fails 2 "ephportctl: warn-pct must be 0..100, not \"$n\"" || return 1
	done &&
	file_is "$SYS/warn_pct" 100 &&
	run set warn-pct 5 6 && fails 2 'ephportctl: unexpected argument "6"'
}
check "set warn-pct PCT writes warn_pct, 0..100 only" t_warn_pct
fixture

# ---- set strategy ----

t_strategy() { run set strategy random-pick && ok && file_is "$SYS/strategy" random-pick; }
check "set strategy random-pick" t_strategy

t_strategy_bad() {
	echo sequential >"$SYS/strategy"
	run set strategy bogus &&
	fails 2 "ephportctl: unknown strategy \"bogus\" (available: $STRATEGIES)" &&
	file_is "$SYS/strategy" sequential &&
	run set strategy random && fails 2 "ephportctl: unknown strategy \"random\" (available: $STRATEGIES)"
}
check "unknown strategy lists the available ones, file unchanged" t_strategy_bad

t_strategy_extra() {
	run set strategy hash random && fails 2 'ephportctl: unexpected argument "random"' &&
	file_is "$SYS/strategy" sequential
}
check "set strategy with two names is refused" t_strategy_extra

# ---- permissions ----

# Not root: the files are not writable instead.
[ "$(id -u)" -eq 0 ] ||
	chmod 0444 "$SYS/enabled" "$SYS/range" "$SYS/strategy" "$SYS/stats/reset"

# denied ARGS... - a write that is refused for lack of privileges
denied() {
	rm -rf "$tmp/before"
	cp -r "$SYS" "$tmp/before"
	$NOBODY "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
	fails 1 "$NO_ROOT" || return 1
	diff -r "$SYS" "$tmp/before" >/dev/null
}
for args in disable "set range 30000 30999" "set strategy hash" reset; do
	if [ -n "$NOBODY" ]; then
		# shellcheck disable=SC2086
		check "permission denied: $args" denied $args
	else
		ktap_test_skip "permission denied: $args (cannot drop privileges)"
	fi
done
t_read_unprivileged() { $NOBODY status >/dev/null 2>&1; }
if [ -n "$NOBODY" ]; then
	check "status needs no privileges" t_read_unprivileged
else
	ktap_test_skip "status needs no privileges (cannot drop privileges)"
fi
fixture

ktap_finished
