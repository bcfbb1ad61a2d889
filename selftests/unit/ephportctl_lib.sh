# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh disable=SC2034,SC2154 # variables for, and set by, the scripts sourcing this
#
# ephportctl_lib.sh - what the host tests of the control tool share
# (ephportctl_*test.sh, each sourcing this file, then setting its plan):
# fixture trees ($EPHPORT_SYSFS, $EPHPORT_PROCFS and $EPHPORT_CONFIGFS
# pointing at plain files in a temporary directory, $EPHPORT_CGROUP2 at a
# directory tree), running the tool, and lib/lib.sh's check.  No module
# and no root needed; as root, the permission tests run the tool as nobody.
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
#   KSFT_HELPERS  the kernel's kselftest/ktap_helpers.sh (default:
#                 lib/ktap_helpers.sh beside the test)

# "run enable" runs the tool, not the shell builtin:
# shellcheck disable=SC3044

umask 022
here=$(dirname "$0")
if [ ! -f "${KSFT_HELPERS:-$here/lib/ktap_helpers.sh}" ] || [ ! -f "$here/lib/lib.sh" ]; then
	echo "TAP version 13"
	echo "Bail out! lib/lib.sh or ktap_helpers.sh not found beside $0 (set KSFT_HELPERS)"
	exit 1
fi
# shellcheck source=../lib/lib.sh
. "$here/lib/lib.sh"

TOOL=${EPHPORTCTL:-./ephportctl}
case $TOOL in /*) ;; *) TOOL=$(pwd)/$TOOL ;; esac

ktap_print_header
if [ ! -x "$TOOL" ]; then
	echo "Bail out! $TOOL not found (set EPHPORTCTL)"
	exit 1
fi

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

# $NOBODY: the tool without privileges: as nobody (root dropping them) or
# as it is (not root); empty when root cannot drop them.
if [ "$(id -u)" -eq 0 ] && as_nobody true 2>/dev/null; then
	cp "$TOOL" "$tmp/ephportctl"
	chmod 755 "$tmp/ephportctl"
	NOBODY="as_nobody $tmp/ephportctl"
elif [ "$(id -u)" -ne 0 ]; then
	NOBODY=$TOOL
else
	NOBODY=
fi

# What check (lib.sh) shows when a test case fails: the last run.
show_failure() {
	printf '%s\n' "rc=$rc" "stdout:" "$out" "stderr:" "$err" | sed 's/^/#   /'
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

# The version the tool was built with: the project's VERSION file.
VERSION_FILE=$here/VERSION
[ -f "$VERSION_FILE" ] || VERSION_FILE=./VERSION

RANGE_ERR="ephportctl: range must be LOW HIGH with 1024 <= LOW <= HIGH <= 65535"
NOT_LOADED="ephportctl: module not loaded ($tmp/none missing)"
NO_ROOT="ephportctl: permission denied: run as root"

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

list_fixture() {
	rules_fixture
	make_rule web enabled=1 cgroup=/test/a uid=1000-1999 netns=4026532000 proto=tcp \
		path=connect family=ipv4 "range=50000 50009" strategy=sequential \
		"stats=$(printf 'allocations 20\nfailures 1\nprobes 1020\nmax_probes 1000')"
	make_rule alpha
	make_rule first priority=5 enabled=1 uid=0 "range=40000 40099"
}
