#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run-tests.sh [-t SECONDS] DIR TEST... - run test programs the way the
# kernel's run_kselftest.sh does: each program's own TAP output indented by
# "# ", then one "ok N selftests: ephport: NAME" line per program.  A program
# exiting with 4 (KSFT_SKIP) is reported as skipped.  Used on the host (unit
# tests) and inside the VM.

timeout=300
if [ "${1:-}" = -t ]; then
	timeout=$2
	shift 2
fi
dir=${1:?usage: run-tests.sh [-t SECONDS] DIR TEST...}
shift

rcfile=${TMPDIR:-/tmp}/ephport-rc.$$
echo "TAP version 13"
echo "1..$#"
n=0
failed=0
for t in "$@"; do
	n=$((n + 1))
	echo "# selftests: ephport: $t"
	[ -n "${EPHPORT_TEST_SETUP:-}" ] && eval "$EPHPORT_TEST_SETUP"
	{ (cd "$dir" && timeout "$timeout" "./$t" 2>&1); echo $? >"$rcfile"; } |
		while IFS= read -r line; do echo "# $line"; done
	rc=$(cat "$rcfile")
	case $rc in
	0) echo "ok $n selftests: ephport: $t" ;;
	4) echo "ok $n selftests: ephport: $t # SKIP" ;;
	124) echo "not ok $n selftests: ephport: $t # TIMEOUT ${timeout}s"; failed=1 ;;
	*) echo "not ok $n selftests: ephport: $t # exit=$rc"; failed=1 ;;
	esac
done
rm -f "$rcfile"
exit $failed
