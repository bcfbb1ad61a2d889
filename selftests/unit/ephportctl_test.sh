#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ephportctl_test.sh - host tests of the control tool against fixture trees
# ($EPHPORT_SYSFS, $EPHPORT_PROCFS and $EPHPORT_CONFIGFS pointing at plain
# files in a temporary directory, $EPHPORT_CGROUP2 at a directory tree).  No
# module and no root needed; as root, the permission tests run the tool as
# nobody.
#
# Plain files cannot refuse a write, so the kernel's EINVAL answers (e.g. a
# range below net.ipv4.ip_unprivileged_port_start) are covered by the VM
# tests, not here.  The tests of "rule add" and "rule del" preload a small
# library into the tool that makes the rules directory behave like configfs
# (configfs_shim.c, built by the Makefile here); without it, or with a
# static tool, they are skipped.
#
# Environment:
#   EPHPORTCTL    the tool (default: ./ephportctl)
#   CONFIGFS_SHIM the configfs emulation (default: configfs_shim.so next
#                 to this script, or in the working directory)
#   KSFT_HELPERS  the kernel's kselftest/ktap_helpers.sh (default: the one
#                 next to this script, or in the working directory)

# "run enable" runs the tool, not the shell builtin:
# shellcheck disable=SC3044

umask 022
here=$(dirname "$0")
helpers=${KSFT_HELPERS:-}
[ -n "$helpers" ] || for f in "$here/ktap_helpers.sh" ./ktap_helpers.sh; do
	[ -f "$f" ] && helpers=$f && break
done
if [ ! -f "$helpers" ]; then
	echo "TAP version 13"
	echo "Bail out! ktap_helpers.sh not found (set KSFT_HELPERS)"
	exit 1
fi
# shellcheck source=/dev/null
. "$helpers"

TOOL=${EPHPORTCTL:-./ephportctl}
case $TOOL in /*) ;; *) TOOL=$(pwd)/$TOOL ;; esac

ktap_print_header
if [ ! -x "$TOOL" ]; then
	echo "Bail out! $TOOL not found (set EPHPORTCTL)"
	exit 1
fi
ktap_set_plan 118

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
SYS=$tmp/sys
PROC=$tmp/proc
CFG=$tmp/config
CG=$tmp/cgroup
PARAMS=$tmp/params
export EPHPORT_SYSFS="$SYS" EPHPORT_PROCFS="$PROC" EPHPORT_CONFIGFS="$CFG" EPHPORT_CGROUP2="$CG"
export EPHPORT_PARAMS="$PARAMS"
STRATEGIES="kernel sequential random-start random-pick hash double-hash random-inc"
HAVE_JQ=$(command -v jq)

# A module's view: 40000-49999, sequential, some statistics and a log.
fixture() {
	rm -rf "$SYS" "$PROC" "$PARAMS"
	mkdir -p "$SYS/stats" "$PROC" "$PARAMS"
	echo 500 >"$PARAMS/random_inc_n"
	echo 1 >"$SYS/enabled"
	echo "40000 49999" >"$SYS/range"
	echo sequential >"$SYS/strategy"
	echo 80 >"$SYS/warn_pct"
	echo "$STRATEGIES" >"$SYS/available_strategies"
	for kv in allocations=1023 failures=1 probes=2046 tcp4_connect=20 \
		  tcp6_connect=0 tcp_bind=1000 udp4=3 udp6=0; do
		echo "${kv#*=}" >"$SYS/stats/${kv%=*}"
	done
	: >"$SYS/stats/reset"
	# An unknown column and a second table after a blank line: both ignored.
	cat >"$PROC/stats" <<-'EOF'
	path         allocations   failures     probes max_probes        1      2-3      4-7     8-15    16-31    32-63   64-127  128-255  256-511 512-1023   >=1024 future
	tcp4-connect          20          1       1020       1000       20        0        0        0        0        0        0        0        0        1        0     77
	tcp6-connect           0          0          0          0        0        0        0        0        0        0        0        0        0        0        0     77
	tcp-bind               3          0          5          2        1        2        0        0        0        0        0        0        0        0        0     77
	udp4                   1          0          1          1        1        0        0        0        0        0        0        0        0        0        0     77
	udp6                   0          0          0          0        0        0        0        0        0        0        0        0        0        0        0     77

	protocol   low  high   used   free
	tcp      40000 49999   8500   1500
	udp      40000 49999      3   9997

	rule         hits
	web          zzz
	EOF
	cat >"$PROC/allocations" <<-'EOF'
	time         path         local                         remote                        probes strategy      rule   result   pid comm
	5.000001     tcp-bind     [::1]:40001                   -                                  3 random-pick   -      ok       124 my prog
	123.456789   tcp4-connect 127.0.0.1:40000               127.0.0.1:8080                     1 sequential    web    ok       123 curl
	130.5        udp4         0.0.0.0:40002                 -                                  1 hash          -      ok         1 a"b\c
	EOF
}

# run ARGS... - run the tool; $rc, $out and $err hold what it did
run() {
	"$TOOL" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

# check DESCRIPTION COMMAND... - one test case; on failure show the last run
check() {
	desc=$1
	shift
	if "$@"; then
		ktap_test_pass "$desc"
	else
		ktap_test_fail "$desc"
		printf '%s\n' "rc=$rc" "stdout:" "$out" "stderr:" "$err" | sed 's/^/#   /'
	fi
}

# A JSON test case: skipped without jq.
check_json() {
	if [ -z "$HAVE_JQ" ]; then
		ktap_test_skip "$1 (no jq)"
		return
	fi
	check "$@"
}

# Exit status 0 and nothing on stderr.
ok() { [ "$rc" -eq 0 ] && [ -z "$err" ]; }

# fails STATUS MESSAGE - that exit status and exactly that one-line error
fails() { [ "$rc" -eq "$1" ] && [ "$err" = "$2" ] && [ -z "$out" ]; }

has() { printf '%s\n' "$out" | grep -q -- "$1"; }
has_err() { printf '%s\n' "$err" | grep -q -- "$1"; }
file_is() { [ "$(cat "$1")" = "$2" ]; }
jqe() { printf '%s\n' "$out" | jq -e "$1" >/dev/null; }

# wait_bg - wait for the tool started in the background as $pid; $rc,
# $out and $err as with run.  stop_bg - the same after a SIGTERM.
wait_bg() {
	wait "$pid"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}
stop_bg() {
	kill -TERM "$pid"
	wait_bg
}

RANGE_ERR="ephportctl: range must be LOW HIGH with 1024 <= LOW <= HIGH <= 65535"
NOT_LOADED="ephportctl: module not loaded ($tmp/none missing)"
NO_ROOT="ephportctl: permission denied: run as root"
fixture

# ---- general ----

# The version the tool was built with: the project's VERSION file.
VERSION_FILE=$here/VERSION
[ -f "$VERSION_FILE" ] || VERSION_FILE=./VERSION
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

if [ "$(id -u)" -eq 0 ] && as_nobody true 2>/dev/null; then
	cp "$TOOL" "$tmp/ephportctl"
	chmod 755 "$tmp/ephportctl"
	NOBODY="as_nobody $tmp/ephportctl"
elif [ "$(id -u)" -ne 0 ]; then
	chmod 0444 "$SYS/enabled" "$SYS/range" "$SYS/strategy" "$SYS/stats/reset"
	NOBODY=$TOOL
else
	NOBODY=
fi

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

# ---- rules ----

# The configfs emulation (see configfs_shim.c): a directory made in
# $CFG/rules gets the attributes of a new rule (copies of what is in
# $FAKE_RULE).  It must load into the tool (not a static one).
SHIM=${CONFIGFS_SHIM:-}
[ -n "$SHIM" ] || for f in "$here/configfs_shim.so" ./configfs_shim.so; do
	[ -f "$f" ] && SHIM=$(cd "$(dirname "$f")" && pwd)/configfs_shim.so && break
done
FAKE_RULE=$tmp/newrule
export FAKE_RULE
SHIM_MISSING="no configfs emulation: configfs_shim.so not found"
[ -n "$SHIM" ] && SHIM_MISSING="no configfs emulation: $SHIM not preloaded (a static tool?)"
[ -n "$SHIM" ] && FAKE_LOADED=$tmp/loaded LD_PRELOAD=$SHIM "$TOOL" --version >/dev/null 2>&1 &&
	[ -f "$tmp/loaded" ] || SHIM=

# cfs ARGS... - run the tool on the emulated configfs
cfs() { LD_PRELOAD=$SHIM run "$@"; }

# A test case that needs the emulation.
check_cfs() {
	if [ -z "$SHIM" ]; then
		ktap_test_skip "$1 ($SHIM_MISSING)"
		return
	fi
	check "$@"
}

# No rules, the cgroups /test/a and /test/b, and what configfs puts into the
# directory of a new rule.
rules_fixture() {
	rm -rf "$CFG" "$CG" "$FAKE_RULE"
	mkdir -p "$CFG/rules" "$CG/test/a" "$CG/test/b" "$FAKE_RULE"
	for a in cgroup uid netns proto path family strategy; do
		: >"$FAKE_RULE/$a"
	done
	echo auto >"$FAKE_RULE/range"
	echo 100 >"$FAKE_RULE/priority"
	echo 0 >"$FAKE_RULE/enabled"
	printf '%s %s\n' allocations 0 failures 0 probes 0 max_probes 0 >"$FAKE_RULE/stats"
}

# make_rule NAME [ATTR=VALUE...] - a rule as configfs shows it
make_rule() {
	d=$CFG/rules/$1
	cp -r "$FAKE_RULE" "$d"
	shift
	for kv; do
		printf '%s\n' "${kv#*=}" >"$d/${kv%%=*}"
	done
}

no_rules() { [ -z "$(ls -A "$CFG/rules")" ]; }

fixture
rules_fixture

t_rule_add() {
	cfs rule add web cgroup "$CG/test/a" uid 1000-1999 netns 4026532000 proto tcp \
		path connect range 50000 50009 strategy sequential priority 10 &&
	ok && [ -z "$out" ] && r=$CFG/rules/web &&
	file_is "$r/cgroup" /test/a && file_is "$r/uid" 1000-1999 &&
	file_is "$r/netns" 4026532000 && file_is "$r/proto" tcp && file_is "$r/path" connect &&
	file_is "$r/range" "50000 50009" && file_is "$r/strategy" sequential &&
	file_is "$r/priority" 10 && file_is "$r/enabled" 1
}
check_cfs "rule add writes every attribute given, then enabled" t_rule_add

t_rule_add_bare() {
	cfs rule add any && ok && r=$CFG/rules/any &&
	file_is "$r/enabled" 1 && file_is "$r/range" auto && file_is "$r/priority" 100 &&
	file_is "$r/uid" "" && file_is "$r/strategy" ""
}
check_cfs "rule add without keywords only enables the rule" t_rule_add_bare

t_rule_add_forms() {
	cfs rule add forms range 50000-50009 uid 1000 priority 007 proto udp path bind \
		family ipv6 &&
	ok && r=$CFG/rules/forms &&
	file_is "$r/range" "50000 50009" && file_is "$r/uid" 1000 && file_is "$r/priority" 7 &&
	file_is "$r/proto" udp && file_is "$r/path" bind && file_is "$r/family" ipv6 &&
	file_is "$r/enabled" 1
}
check_cfs "rule add range LOW-HIGH, one uid, priority 007, udp, bind, ipv6" t_rule_add_forms
rules_fixture

# The mount point goes, a path as in /proc/PID/cgroup stays.
t_rule_cgroup() {
	ln -sfn "$CG/test/a" "$tmp/cglink"
	for c in "$CG=/" "$CG/=/" "$CG/test/a=/test/a" "$CG/test/a/=/test/a" \
		 "$CG/test/../test/b=/test/b" "$tmp/cglink=/test/a" "/test/a=/test/a" "/=/" \
		 "test/b=/test/b"; do
		cfs rule add cg cgroup "${c%=*}" && ok &&
		file_is "$CFG/rules/cg/cgroup" "${c##*=}" && cfs rule del cg && ok || return 1
	done
	(cd "$CG/test" && LD_PRELOAD=$SHIM "$TOOL" rule add rel cgroup a) &&
	file_is "$CFG/rules/rel/cgroup" /test/a
}
check_cfs "rule add cgroup PATH: the path below the cgroup2 mount" t_rule_cgroup
rules_fixture

t_rule_cgroup_bad() {
	: >"$CG/test/a/cgroup.procs"
	run rule add cg cgroup /etc &&
	fails 2 "ephportctl: cgroup \"/etc\" is not in the cgroup v2 hierarchy ($CG)" &&
	run rule add cg cgroup "$CG/.." &&
	fails 2 "ephportctl: cgroup \"$CG/..\" is not in the cgroup v2 hierarchy ($CG)" &&
	run rule add cg cgroup /test/../.. &&
	fails 2 "ephportctl: cgroup \"/test/../..\" is not in the cgroup v2 hierarchy ($CG)" &&
	run rule add cg cgroup "$CG/test/c" &&
	fails 2 "ephportctl: cgroup \"$CG/test/c\" does not exist" &&
	run rule add cg cgroup /test/c && fails 2 'ephportctl: cgroup "/test/c" does not exist' &&
	run rule add cg cgroup "$CG/test/a/cgroup.procs" &&
	fails 2 "ephportctl: cgroup \"$CG/test/a/cgroup.procs\" is not a directory" &&
	no_rules
}
check "rule add cgroup outside the hierarchy, missing or not a directory" t_rule_cgroup_bad
rules_fixture

# Without $EPHPORT_CGROUP2: the first cgroup2 mount of the hierarchy's root.
t_rule_cgroup_mountinfo() {
	mnt=$(sed -n 's/^[^ ]* [^ ]* [^ ]* \/ \([^ ]*\) .* - cgroup2 .*/\1/p' /proc/self/mountinfo |
	      head -1)
	EPHPORT_CGROUP2=
	if [ -n "$mnt" ]; then
		cfs rule add cg cgroup "$mnt" && ok && file_is "$CFG/rules/cg/cgroup" /
	else
		run rule add cg cgroup / && fails 1 "ephportctl: no cgroup v2 hierarchy is mounted"
	fi
	r=$?
	EPHPORT_CGROUP2=$CG
	return $r
}
check_cfs "rule add cgroup finds the cgroup2 mount in mountinfo" t_rule_cgroup_mountinfo
rules_fixture

t_rule_netns() {
	ino=$(stat -L -c %i /proc/self/ns/net) &&
	cfs rule add ns netns /proc/self/ns/net && ok && file_is "$CFG/rules/ns/netns" "$ino" &&
	: >"$tmp/plain" && run rule add ns2 netns "$tmp/plain" &&
	fails 2 "ephportctl: netns $tmp/plain: not a network namespace" &&
	run rule add ns2 netns "$tmp/none" &&
	fails 2 "ephportctl: netns $tmp/none: No such file or directory" &&
	[ ! -e "$CFG/rules/ns2" ]
}
check_cfs "rule add netns FILE takes the namespace's inode number" t_rule_netns
rules_fixture

t_rule_exists() {
	make_rule web uid=5 &&
	run rule add web uid 6 && fails 1 'ephportctl: rule "web" exists' &&
	file_is "$CFG/rules/web/uid" 5
}
check "rule add of an existing rule is refused, the rule unchanged" t_rule_exists
rules_fixture

t_rule_write_fails() {
	rm "$FAKE_RULE/uid" && mkdir "$FAKE_RULE/uid" &&
	cfs rule add bad proto tcp uid 5 &&
	fails 1 "ephportctl: cannot write $CFG/rules/bad/uid: Is a directory" &&
	[ ! -e "$CFG/rules/bad" ]
}
check_cfs "a failed write removes the new rule again" t_rule_write_fails
rules_fixture

t_rule_attr_missing() {
	rm "$FAKE_RULE/path" &&
	cfs rule add old uid 5 path bind &&
	fails 1 "ephportctl: cannot write $CFG/rules/old/path: No such file or directory" &&
	[ ! -e "$CFG/rules/old" ]
}
check_cfs "a missing attribute (an older module) removes the new rule again" t_rule_attr_missing
rules_fixture

t_rule_usage() {
	for args in rule "rule foo" "rule add" "rule del"; do
		# shellcheck disable=SC2086
		run $args
		[ "$rc" -eq 2 ] && [ -z "$out" ] || return 1
		printf '%s\n' "$err" | grep -q "^Usage: ephportctl" || return 1
	done
	no_rules
}
check "incomplete rule commands print the usage on stderr" t_rule_usage

# bad_rule MESSAGE ARGS... - "rule add ARGS" is refused with MESSAGE, nothing made
bad_rule() {
	msg=$1
	shift
	run rule add "$@" && fails 2 "$msg" && no_rules
}

t_rule_keywords() {
	bad_rule 'Argument "colour" is unknown, try "ephportctl help".' web colour red &&
	bad_rule 'Argument "--json" is unknown, try "ephportctl help".' web --json &&
	bad_rule 'Argument "enabled" is unknown, try "ephportctl help".' web enabled 1 &&
	bad_rule 'ephportctl: "uid" needs a value' web uid &&
	bad_rule 'ephportctl: "proto" needs a value' web uid 5 proto &&
	bad_rule 'ephportctl: "cgroup" needs a value' web cgroup "" &&
	bad_rule 'ephportctl: "uid" is given twice' web uid 1 uid 2 &&
	bad_rule 'ephportctl: "range" is given twice' web range 50000 50009 range 50000-50009
}
check "rule add refuses unknown, valueless and repeated keywords" t_rule_keywords

NAME_ERR='ephportctl: a rule name is 1-15 characters of A-Z a-z 0-9 _ . -, not'
t_rule_names() {
	for n in "" 0123456789abcdef a/b "a b" . .. "web*" "wéb"; do
		bad_rule "$NAME_ERR \"$n\"" "$n" || return 1
	done
	run rule del ../rules && fails 2 "$NAME_ERR \"../rules\"" &&
	run rule del A-z_0.9-abcdefg && fails 1 'ephportctl: rule "A-z_0.9-abcdefg" does not exist'
}
check "rule names are 1-15 characters of A-Z a-z 0-9 _ . -" t_rule_names

t_rule_uid() {
	for u in x -1 5-3 1- -5 1-2-3 4294967295 0-4294967295 +5 0x10 " 5"; do
		bad_rule "ephportctl: uid must be UID or FIRST-LAST, not \"$u\"" web uid "$u" ||
			return 1
	done
}
check "rule add refuses bad uids" t_rule_uid

t_rule_range() {
	for r in "1000 2000" 50000 2000-1000 "50000 70000" "x y" 50000-; do
		# shellcheck disable=SC2086
		bad_rule "$RANGE_ERR" web range $r || return 1
	done
}
check "rule add refuses bad ranges" t_rule_range

t_rule_values() {
	bad_rule 'ephportctl: proto must be tcp or udp, not "sctp"' web proto sctp &&
	bad_rule 'ephportctl: proto must be tcp or udp, not "TCP"' web proto TCP &&
	bad_rule 'ephportctl: family must be ipv4 or ipv6, not "inet6"' web family inet6 &&
	bad_rule 'ephportctl: family must be ipv4 or ipv6, not "IPv4"' web family IPv4 &&
	bad_rule 'ephportctl: path must be connect or bind, not "listen"' web path listen &&
	bad_rule 'ephportctl: priority must be 0..65535, not "65536"' web priority 65536 &&
	bad_rule 'ephportctl: priority must be 0..65535, not "-1"' web priority -1 &&
	bad_rule 'ephportctl: netns must be an inode number or a file, not "0"' web netns 0 &&
	bad_rule 'ephportctl: netns must be an inode number or a file, not "4294967296"' \
		web netns 4294967296 &&
	bad_rule 'ephportctl: netns must be an inode number or a file, not "12x"' web netns 12x &&
	bad_rule "ephportctl: unknown strategy \"bogus\" (available: $STRATEGIES)" \
		web strategy bogus
}
check "rule add refuses bad proto, path, priority, netns and strategy" t_rule_values

t_rule_del() {
	make_rule web && make_rule other &&
	cfs rule del web && ok && [ -z "$out" ] && [ ! -e "$CFG/rules/web" ] &&
	[ -d "$CFG/rules/other" ] &&
	cfs rule del web && fails 1 'ephportctl: rule "web" does not exist' &&
	run rule del other extra && fails 2 'ephportctl: unexpected argument "extra"' &&
	[ -d "$CFG/rules/other" ]
}
check_cfs "rule del removes the rule; a missing one is an error" t_rule_del
rules_fixture

list_fixture() {
	rules_fixture
	make_rule web enabled=1 cgroup=/test/a uid=1000-1999 netns=4026532000 proto=tcp \
		path=connect family=ipv4 "range=50000 50009" strategy=sequential \
		"stats=$(printf 'allocations 20\nfailures 1\nprobes 1020\nmax_probes 1000')"
	make_rule alpha
	make_rule first priority=5 enabled=1 uid=0 "range=40000 40099"
}

t_rule_list() {
	list_fixture
	run rule list && ok &&
	[ "$(printf '%s\n' "$out" | awk '{ print $1 }' | tr '\n' ' ')" = "name first alpha web " ] &&
	has "^name *priority *enabled *match *action *allocations *failures *probes$" &&
	has "^first  *5  *yes  *uid=0  *range=40000-40099  *0  *0  *0$" &&
	has "^alpha  *100  *no  *-  *-  *0  *0  *0$" &&
	has "^web  *100  *yes  *cgroup=/test/a uid=1000-1999 netns=4026532000 proto=tcp path=connect family=ipv4  *range=50000-50009 strategy=sequential  *20  *1  *1020$" &&
	[ "$(printf '%s\n' "$out" | awk '{ print length($0) }' | sort -u | wc -l)" -eq 1 ]
}
check "rule list: one aligned row per rule, by priority, then name" t_rule_list

t_rule_list_json() {
	run rule list --json && ok && jqe '
		map(.name) == ["first", "alpha", "web"] and
		(.[0] | keys_unsorted == ["name", "priority", "enabled", "cgroup", "uid", "netns",
					  "proto", "path", "family", "range", "strategy",
					  "allocations",
					  "failures", "probes", "max_probes"]) and
		.[2] == {"name": "web", "priority": 100, "enabled": true, "cgroup": "/test/a",
			 "uid": "1000-1999", "netns": "4026532000", "proto": "tcp",
			 "path": "connect", "family": "ipv4",
			 "range": {"low": 50000, "high": 50009},
			 "strategy": "sequential",
			 "allocations": 20, "failures": 1, "probes": 1020, "max_probes": 1000} and
		.[1] == {"name": "alpha", "priority": 100, "enabled": false, "cgroup": null,
			 "uid": null, "netns": null, "proto": null, "path": null,
			 "family": null, "range": null,
			 "strategy": null, "allocations": 0, "failures": 0, "probes": 0,
			 "max_probes": 0} and
		.[0].priority == 5 and .[0].enabled and
		.[0].range == {"low": 40000, "high": 40099}' &&
	json=$out && run -j rule list && [ "$out" = "$json" ]
}
check_json "rule list --json and -j rule list" t_rule_list_json

t_rule_list_empty() {
	rules_fixture
	run rule list && ok && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && has "^name *priority" &&
	run rule list --json && ok && [ "$out" = "[]" ]
}
check "rule list without rules: the header, or []" t_rule_list_empty

t_rule_list_bad() {
	list_fixture
	echo high >"$CFG/rules/web/priority" &&
	run rule list && fails 1 "ephportctl: unexpected value \"high\" in $CFG/rules/web/priority" &&
	list_fixture && echo 50000 >"$CFG/rules/web/range" &&
	run rule list && fails 1 "ephportctl: unexpected value \"50000\" in $CFG/rules/web/range" &&
	list_fixture && echo yes >"$CFG/rules/web/enabled" &&
	run rule list && fails 1 "ephportctl: unexpected value \"yes\" in $CFG/rules/web/enabled" &&
	list_fixture && echo "allocations 1" >"$CFG/rules/web/stats" &&
	run rule list && fails 1 "ephportctl: malformed $CFG/rules/web/stats"
}
check "rule list reports malformed attributes" t_rule_list_bad

# The kernel may add to a namespace it no longer finds: shown as it is.
t_rule_list_netns_gone() {
	list_fixture
	echo "4026532000 (gone)" >"$CFG/rules/web/netns" &&
	run rule list && ok && has "^web .* netns=4026532000 (gone) proto=tcp " &&
	run -j rule list && ok && jqe '.[2].netns == "4026532000 (gone)"'
}
check_json "rule list: a netns with a remark" t_rule_list_netns_gone

t_rule_prefix() {
	rules_fixture
	cfs rule a web pri 7 pro udp pa bind r 50000-50009 s sequential u 5 && ok &&
	r=$CFG/rules/web && file_is "$r/priority" 7 && file_is "$r/proto" udp &&
	file_is "$r/path" bind && file_is "$r/range" "50000 50009" &&
	file_is "$r/strategy" sequential && file_is "$r/uid" 5 &&
	cfs ru l && ok && has "^web  *7  *yes " &&
	cfs rule add x p tcp && ok && file_is "$CFG/rules/x/proto" tcp &&
	run rule add y u 1 uid 2 && fails 2 'ephportctl: "uid" is given twice' &&
	run rule add y pri && fails 2 'ephportctl: "priority" needs a value' &&
	run rule add y e 1 && fails 2 'Argument "e" is unknown, try "ephportctl help".' &&
	cfs ru d x && ok && [ ! -e "$CFG/rules/x" ]
}
check_cfs "rule commands and keywords are found by a prefix" t_rule_prefix
rules_fixture

t_rule_show() {
	list_fixture
	run rule show web && ok &&
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 15 ] &&
	has "^name: *web$" && has "^priority: *100$" && has "^enabled: *yes$" &&
	has "^family: *ipv4$" &&
	has "^cgroup: *\/test\/a$" && has "^uid: *1000-1999$" && has "^netns: *4026532000$" &&
	has "^range: *50000-50009$" && has "^strategy: *sequential$" &&
	has "^allocations: *20$" && has "^max_probes: *1000$" &&
	[ "$(printf '%s\n' "$out" | awk '{ print index($0, $2) }' | sort -u | wc -l)" -eq 1 ] &&
	run rule show alpha && ok && has "^enabled: *no$" && has "^uid: *-$" && has "^range: *-$" &&
	run rule list --json && list=$out &&
	run rule show web --json && ok &&
	[ "$(printf '%s\n' "$out" | jq -c .)" = "$(printf '%s\n' "$list" | jq -c '.[2]')" ] &&
	run -j rule s first && ok && jqe '.name == "first" and .range == {"low": 40000, "high": 40099}' &&
	run rule show nope && fails 1 'ephportctl: rule "nope" does not exist' &&
	run rule show a/b && fails 2 "$NAME_ERR \"a/b\"" &&
	run rule show web x && fails 2 'ephportctl: unexpected argument "x"'
}
check_json "rule show NAME: a setting a line; --json: the object of rule list" t_rule_show

t_rule_enable() {
	list_fixture
	run rule disable web && ok && [ -z "$out" ] && file_is "$CFG/rules/web/enabled" 0 &&
	run rule enable alpha && ok && file_is "$CFG/rules/alpha/enabled" 1 &&
	run rule en web && ok && file_is "$CFG/rules/web/enabled" 1 &&
	run rule di web && ok && file_is "$CFG/rules/web/enabled" 0 &&
	run rule enable nope && fails 1 'ephportctl: rule "nope" does not exist' &&
	run rule enable web now && fails 2 'ephportctl: unexpected argument "now"' &&
	run -j rule enable web && fails 2 'ephportctl: "rule enable" has no JSON output' &&
	file_is "$CFG/rules/web/enabled" 0
}
check "rule enable|disable NAME writes enabled" t_rule_enable

t_rule_set() {
	list_fixture
	r=$CFG/rules/web
	run rule set web uid 7 range 41000 41009 pri 3 && ok && [ -z "$out" ] &&
	file_is "$r/uid" 7 && file_is "$r/range" "41000 41009" && file_is "$r/priority" 3 &&
	file_is "$r/proto" tcp && file_is "$r/enabled" 1 &&
	run rule set web cgroup - strategy - range auto && ok &&
	file_is "$r/cgroup" "" && file_is "$r/strategy" "" && file_is "$r/range" auto &&
	run rule set web family ipv6 && ok && file_is "$r/family" ipv6 &&
	run rule set web family - && ok && file_is "$r/family" "" &&
	run rule set web family 6 && fails 2 'ephportctl: family must be ipv4 or ipv6, not "6"' &&
	run rule set web proto udp uid x && fails 2 'ephportctl: uid must be UID or FIRST-LAST, not "x"' &&
	file_is "$r/proto" tcp &&
	run rule set web priority - && fails 2 'ephportctl: priority must be 0..65535, not "-"' &&
	run rule set web enabled 0 && fails 2 'Argument "enabled" is unknown, try "ephportctl help".' &&
	run rule set web uid 5 proto && fails 2 'ephportctl: "proto" needs a value' &&
	run rule set nope uid 5 && fails 1 'ephportctl: rule "nope" does not exist' &&
	run -j rule set web uid 5 && fails 2 'ephportctl: "rule set" has no JSON output' &&
	file_is "$r/uid" 7 &&
	run rule set web && [ "$rc" -eq 2 ] && has_err "^Usage: ephportctl rule set NAME"
}
check "rule set NAME KEYWORD VALUE...: checked first, - unsets" t_rule_set

# ---- save and -b (batch) ----

t_save() {
	list_fixture
	echo "my cgroup" >"$CFG/rules/alpha/cgroup"
	run save && ok && printf '%s\n' "$out" >"$tmp/want" && cat >"$tmp/expect" <<-EOF &&
	# ephportctl -b FILE applies this (ephportctl save, $(cat "$VERSION_FILE"))
	set range 40000 49999
	set strategy sequential
	set random-inc 500
	set warn-pct 80
	rule flush
	rule add first uid 0 range 40000 40099 priority 5
	rule add alpha cgroup "my cgroup" priority 100
	rule disable alpha
	# netns 4026532000: an inode number, valid until the namespace goes
	rule add web cgroup /test/a uid 1000-1999 netns 4026532000 proto tcp path connect family ipv4 range 50000 50009 strategy sequential priority 100
	enable
	EOF
	diff -u "$tmp/expect" "$tmp/want" >&2 &&
	run save "$tmp/saved" && ok && [ -z "$out" ] && cmp -s "$tmp/saved" "$tmp/want" &&
	echo auto >"$SYS/range" && echo 0 >"$SYS/enabled" && rm -rf "$CFG/rules"/* &&
	run save && ok && has "^set range auto$" && has "^disable$" && ! has "^rule add" &&
	chmod 0444 "$PARAMS/random_inc_n" && run save && ok && ! has random-inc &&
	make_rule old "netns=4026532001 (gone)" && run save && ok &&
	has "^# netns 4026532001 (gone): the namespace is gone$" &&
	has '^# rule add old netns "4026532001 (gone)" priority 100$' &&
	has "^# rule disable old$" &&
	run save "$tmp/no/such" &&
	fails 1 "ephportctl: cannot write $tmp/no/such: No such file or directory" &&
	run save a b && fails 2 'ephportctl: unexpected argument "b"'
}
check "save prints the settings and the rules as commands" t_save

# Save, change everything, restore with -b, save again: the same file.
t_batch_roundtrip() {
	fixture
	list_fixture
	mkdir -p "$CG/my cgroup" && echo "/my cgroup" >"$CFG/rules/alpha/cgroup" &&
	cfs save "$tmp/saved" && ok &&
	echo "41000 41999" >"$SYS/range" && echo hash >"$SYS/strategy" &&
	echo 9 >"$PARAMS/random_inc_n" &&
	echo 0 >"$SYS/enabled" && make_rule extra && echo 7 >"$CFG/rules/web/priority" &&
	rm -r "$CFG/rules/first" &&
	cfs save "$tmp/changed" && ok && ! cmp -s "$tmp/saved" "$tmp/changed" &&
	cfs -b "$tmp/saved" && ok && [ -z "$out" ] &&
	cfs save "$tmp/again" && ok && cmp "$tmp/saved" "$tmp/again" >&2 &&
	file_is "$SYS/range" "40000 49999" && file_is "$SYS/enabled" 1 &&
	file_is "$PARAMS/random_inc_n" 500 && [ ! -e "$CFG/rules/extra" ] &&
	cfs --batch - <"$tmp/changed" && ok && cfs save && ok &&
	[ "$out" = "$(cat "$tmp/changed")" ]
}
check_cfs "save, change, -b restores, save again: the same file" t_batch_roundtrip

# batch_in TEXT - -b - with the lines of TEXT (printf's format) on stdin
batch_in() {
	# shellcheck disable=SC2059
	printf "$1" >"$tmp/in"
	cfs -b - <"$tmp/in"
}
t_batch_error() {
	fixture
	list_fixture
	cat >"$tmp/batch" <<-'EOF'
	# a comment, then a blank line

	ephportctl set range 41000-41999
	set strategy 'hash'   # a comment after the words
	set strategy bogus
	disable
	EOF
	cfs -b "$tmp/batch" &&
	fails 2 "ephportctl: $tmp/batch:5: unknown strategy \"bogus\" (available: $STRATEGIES)" &&
	file_is "$SYS/range" "41000 41999" && file_is "$SYS/strategy" hash &&
	file_is "$SYS/enabled" 1 &&
	batch_in 'enable\nrule frob x\ndisable\n' && [ "$rc" -eq 2 ] &&
	has_err "^stdin:2: incomplete command$" && has_err "^Usage: ephportctl rule COMMAND" &&
	file_is "$SYS/enabled" 1 &&
	batch_in 'frob\n' &&
	fails 2 'stdin:1: Command "frob" is unknown, try "ephportctl help".' &&
	batch_in 'rule add web\ndisable\n' &&
	fails 1 'ephportctl: stdin:1: rule "web" exists' && file_is "$SYS/enabled" 1 &&
	batch_in 'set range "1 2\n' &&
	fails 2 'ephportctl: stdin:1: unterminated quote' &&
	batch_in 'status\nstats\n' && ok && has "^strategy: *hash$" &&
	has "^path *allocations" &&
	run -b "$tmp/none" && fails 1 "ephportctl: cannot read $tmp/none: No such file or directory" &&
	run -b && fails 2 'ephportctl: -b needs one FILE (- for stdin)' &&
	run -b x y && fails 2 'ephportctl: -b needs one FILE (- for stdin)'
}
check_cfs "-b stops at the first bad line with FILE:LINE, the lines before applied" t_batch_error

t_rule_flush() {
	list_fixture
	cfs rule flush && ok && no_rules && cfs rule flush && ok &&
	run rule flush x && fails 2 'ephportctl: unexpected argument "x"'
}
check_cfs "rule flush deletes every rule" t_rule_flush
rules_fixture
rules_fixture

no_configfs() {
	for args in "rule list" "rule add web" "rule del web"; do
		# shellcheck disable=SC2086
		run $args
		fails 1 "ephportctl: $tmp/none: not found (is configfs mounted and the module loaded?)" ||
			return 1
	done
}
t_rule_no_configfs() {
	EPHPORT_CONFIGFS=$tmp/none
	no_configfs
	r=$?
	EPHPORT_CONFIGFS=$CFG
	return $r
}
check "rule commands report a missing configfs directory" t_rule_no_configfs

t_rule_nojson() {
	make_rule web &&
	run -j rule add x && fails 2 'ephportctl: "rule add" has no JSON output' &&
	run -j rule del web && fails 2 'ephportctl: "rule del" has no JSON output' &&
	[ -d "$CFG/rules/web" ] && [ ! -e "$CFG/rules/x" ]
}
check "-j with rule add or rule del is refused" t_rule_nojson
rules_fixture

# As nobody, or without write access to the rules directory.
t_rule_denied() {
	make_rule web
	[ "$(id -u)" -eq 0 ] || chmod 0555 "$CFG/rules"
	for args in "rule add x uid 5" "rule del web"; do
		# shellcheck disable=SC2086
		$NOBODY $args >"$tmp/out" 2>"$tmp/err"
		rc=$?
		out=$(cat "$tmp/out")
		err=$(cat "$tmp/err")
		fails 1 "$NO_ROOT" || break
	done
	r=$?
	chmod 0755 "$CFG/rules"
	[ $r -eq 0 ] && [ -d "$CFG/rules/web" ] && [ ! -e "$CFG/rules/x" ]
}
if [ -n "$NOBODY" ]; then
	check "permission denied: rule add, rule del" t_rule_denied
else
	ktap_test_skip "permission denied: rule add, rule del (cannot drop privileges)"
fi
rules_fixture

# The per-path table, then a per-rule one.
rule_stats() {
	fixture
	# the path and occupancy tables, then the rules, as the module has them
	awk '!NF && ++blank == 2 { exit } { print }' "$PROC/stats" >"$tmp/stats"
	cat >>"$tmp/stats" <<-'EOF'

	rule            priority enabled allocations   failures     probes max_probes
	web                  100       1          20          1       1020       1000
	batch                200       0           0          0          0          0
	EOF
	mv "$tmp/stats" "$PROC/stats"
}

t_stats_rules() {
	rule_stats
	run stats && ok && has "^tcp4-connect *20 *1 *1020 *1000 *51.00$" &&
	[ "$(printf '%s\n' "$out" | tail -4 | head -1)" = "" ] &&
	has "^rule *priority *enabled *allocations *failures *probes *max_probes *probes/alloc$" &&
	has "^web *100 *yes *20 *1 *1020 *1000 *51.00$" &&
	has "^batch *200 *no *0 *0 *0 *0 *0.00$" &&
	sed -i 's/^\(web *100 *\)1/\12/' "$PROC/stats" &&
	run stats && fails 1 "ephportctl: malformed enabled \"2\" in $PROC/stats"
}
check "stats shows the per-rule table after the per-path ones" t_stats_rules

t_stats_rules_json() {
	rule_stats
	run stats --json && ok && jqe '
		keys_unsorted == ["paths", "rules"] and
		(.paths | keys_unsorted ==
			["tcp4-connect", "tcp6-connect", "tcp-bind", "udp4", "udp6"]) and
		.paths["tcp4-connect"].allocations == 20 and
		.rules == [{"name": "web", "priority": 100, "enabled": true, "allocations": 20,
			    "failures": 1, "probes": 1020, "max_probes": 1000},
			   {"name": "batch", "priority": 200, "enabled": false, "allocations": 0,
			    "failures": 0, "probes": 0, "max_probes": 0}]' &&
	sed -i '/^web/d; /^batch/d' "$PROC/stats" &&
	run stats --json && ok && jqe '.rules == []' &&
	run stats && ok && ! has "^rule"
}
check_json "stats --json has the rules; none: [] and no text table" t_stats_rules_json
fixture

# The text format of node_exporter's textfile collector: every sample line
# is NAME{LABELS} VALUE of a metric announced by # HELP and # TYPE.
prom_valid() {
	printf '%s\n' "$out" | awk '
		/^# HELP ephport_[a-z_]+ ./ { help[$3] = 1; next }
		/^# TYPE ephport_[a-z_]+ (counter|gauge|histogram)$/ { type[$3] = $4; next }
		{
			if (!match($0, /^ephport_[a-z_]+(\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*\})? [0-9]+$/))
				exit 1
			m = $0; sub(/[{ ].*/, "", m); base = m
			sub(/_(bucket|sum|count)$/, "", base)
			if (!(m in type) && type[base] != "histogram") exit 1
			if (!(m in help) && !(base in help)) exit 1
		}'
}
t_stats_prometheus() {
	rule_stats
	run stats --format prometheus && ok && prom_valid &&
	has '^# TYPE ephport_allocations_total counter$' &&
	has '^ephport_allocations_total{path="tcp4-connect"} 20$' &&
	has '^ephport_failures_total{path="tcp4-connect"} 1$' &&
	has '^ephport_probes_total{path="tcp-bind"} 5$' &&
	has '^ephport_max_probes{path="tcp4-connect"} 1000$' &&
	has '^# TYPE ephport_probes_per_allocation histogram$' &&
	has '^ephport_probes_per_allocation_bucket{path="tcp-bind",le="1"} 1$' &&
	has '^ephport_probes_per_allocation_bucket{path="tcp-bind",le="3"} 3$' &&
	has '^ephport_probes_per_allocation_bucket{path="tcp-bind",le="1023"} 3$' &&
	has '^ephport_probes_per_allocation_bucket{path="tcp4-connect",le="+Inf"} 21$' &&
	has '^ephport_probes_per_allocation_sum{path="tcp4-connect"} 1020$' &&
	has '^ephport_probes_per_allocation_count{path="tcp4-connect"} 21$' &&
	[ "$(printf '%s\n' "$out" | grep -c 'le="+Inf"')" -eq 5 ] &&
	has '^ephport_enabled 1$' &&
	has '^ephport_rule_enabled{rule="batch"} 0$' &&
	has '^ephport_rule_allocations_total{rule="web"} 20$' &&
	has '^ephport_rule_max_probes{rule="web"} 1000$' &&
	has '^# TYPE ephport_ports_used gauge$' &&
	has '^ephport_ports_used{protocol="tcp"} 8500$' &&
	has '^ephport_ports_free{protocol="udp"} 9997$' && has '^ephport_warn_pct 80$' &&
	! has future && ! has 77 &&
	run stats --format p && ok && prom_valid &&
	run stats --format json && ok && jqe '.paths["tcp4-connect"].allocations == 20' &&
	run stats --format yaml &&
	fails 2 'ephportctl: --format must be text, json or prometheus, not "yaml"' &&
	run -j stats --format prometheus &&
	fails 2 'ephportctl: --format prometheus and --json exclude each other'
}
check_json "stats --format prometheus: counters, gauges, a histogram, per rule" t_stats_prometheus
fixture

# ---- bash completion ----

# complete WORDS... - COMPREPLY for completing the last word, one per line
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
		 COMP_LINE="$*"; _ephportctl; printf "%s\n" "${COMPREPLY[@]}"' \
		bash "$COMPLETION" "$@"
}
t_completion() {
	[ "$(complete_words ephportctl "" | sort | tr '\n' ' ')" = \
	  "disable enable help log reset rule save set stats status watch " ] &&
	[ "$(complete_words ephportctl s | sort | tr '\n' ' ')" = "save set stats status " ] &&
	[ "$(complete_words ephportctl set "" | tr '\n' ' ')" = "range strategy random-inc warn-pct " ] &&
	[ "$(complete_words ephportctl -j set strategy random- | tr '\n' ' ')" = \
	  "random-start random-pick random-inc " ] &&
	[ "$(complete_words ephportctl set range "" | tr '\n' ' ')" = "auto " ] &&
	[ "$(complete_words ephportctl log -- | sort | tr '\n' ' ')" = \
	  "--comm --failures --follow --json --path --pid --port --pretty --rule --wall " ] &&
	[ "$(complete_words ephportctl log --path c | tr '\n' ' ')" = "connect " ] &&
	[ "$(complete_words ephportctl stats --format p | tr '\n' ' ')" = "prometheus " ] &&
	[ "$(complete_words ephportctl watch - | tr '\n' ' ')" = "-i -n -j --json -p --pretty " ] &&
	[ "$(complete_words ephportctl -b "$here/ephportctl_test." | tr '\n' ' ')" = \
	  "$here/ephportctl_test.sh " ] &&
	[ "$(complete_words ephportctl watch -i "" | wc -w)" -eq 0 ] &&
	[ "$(complete_words ephportctl --j | tr '\n' ' ')" = "--json " ] &&
	[ "$(complete_words ephportctl --p | tr '\n' ' ')" = "--pretty " ] &&
	[ "$(complete_words ephportctl s "" | tr '\n' ' ')" = "range strategy random-inc warn-pct " ] &&
	[ "$(complete_words ephportctl se st random-s | tr '\n' ' ')" = "random-start " ] &&
	[ "$(complete_words ephportctl st "" | tr '\n' ' ')" = "-j --json -p --pretty " ]
}
t_completion_rules() {
	rules_fixture
	make_rule web && make_rule batch &&
	[ "$(complete_words ephportctl rule "" | tr '\n' ' ')" = \
	  "add del list show set enable disable flush " ] &&
	[ "$(complete_words ephportctl rule show "" | sort | tr '\n' ' ')" = "batch web " ] &&
	[ "$(complete_words ephportctl rule set web "" | tr '\n' ' ')" = \
	  "cgroup uid netns proto path family range strategy priority " ] &&
	[ "$(complete_words ephportctl rule set web pro "" | tr '\n' ' ')" = "tcp udp " ] &&
	[ "$(complete_words ephportctl rule del "" | sort | tr '\n' ' ')" = "batch web " ] &&
	[ "$(complete_words ephportctl rule list - | tr '\n' ' ')" = "-j --json -p --pretty " ] &&
	[ "$(complete_words ephportctl ru d "" | sort | tr '\n' ' ')" = "batch web " ] &&
	[ "$(complete_words ephportctl rule a web pro "" | tr '\n' ' ')" = "tcp udp " ] &&
	[ "$(complete_words ephportctl rule add web pri 5 p | tr '\n' ' ')" = "proto path " ] &&
	[ "$(complete_words ephportctl rule add "" | wc -w)" -eq 0 ] &&
	[ "$(complete_words ephportctl rule add uid "" | tr '\n' ' ')" = \
	  "cgroup uid netns proto path family range strategy priority " ] &&
	[ "$(complete_words ephportctl rule add web uid 5 p | tr '\n' ' ')" = \
	  "proto path priority " ] &&
	[ "$(complete_words ephportctl rule add web proto "" | tr '\n' ' ')" = "tcp udp " ] &&
	[ "$(complete_words ephportctl rule add web path "" | tr '\n' ' ')" = "connect bind " ] &&
	[ "$(complete_words ephportctl rule add web fam "" | tr '\n' ' ')" = "ipv4 ipv6 " ] &&
	[ "$(complete_words ephportctl -j rule add web strategy random- | tr '\n' ' ')" = \
	  "random-start random-pick random-inc " ] &&
	[ "$(complete_words ephportctl rule add web range 50000 "" | wc -w)" -eq 0 ] &&
	[ "$(complete_words ephportctl rule add web range 50000 50009 "" | tr '\n' ' ')" = \
	  "cgroup uid netns proto path family strategy priority " ] &&
	[ "$(complete_words ephportctl rule add web cgroup "$CG/te")" = "$CG/test" ]
}
COMPLETION=${EPHPORT_COMPLETION:-$here/ephportctl.bash-completion}
[ -f "$COMPLETION" ] || COMPLETION=./ephportctl.bash-completion
if command -v bash >/dev/null && [ -f "$COMPLETION" ]; then
	check "bash completion of commands, strategies and options" t_completion
	check "bash completion of rule commands, names, keywords and values" t_completion_rules
else
	ktap_test_skip "bash completion (no bash or no $COMPLETION)"
	ktap_test_skip "bash completion of rules (no bash or no $COMPLETION)"
fi

ktap_finished
