# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the shell selftests, in the VM and on the host
# (unit/ephportctl_lib.sh); KTAP output comes from the kernel's own
# kselftest/ktap_helpers.sh: $KSFT_HELPERS, or lib/ beside the test.

# shellcheck source=/dev/null
. "${KSFT_HELPERS:-$(dirname "$0")/lib/ktap_helpers.sh}"

EPHPORT_KO=${EPHPORT_KO:-/ephport/ephport.ko}
SYSFS=/sys/kernel/ephport

# load [PARAM=VALUE...] - insmod the module (unloading it first)
load() {
	rmmod ephport 2>/dev/null
	insmod "$EPHPORT_KO" "$@"
}

unload() {
	rmmod ephport 2>/dev/null
}

# check DESCRIPTION COMMAND... - one test case from a command's status; on
# failure, the test's show_failure, if it has one, says what happened
check() {
	desc=$1
	shift
	if "$@"; then
		ktap_test_pass "$desc"
	else
		ktap_test_fail "$desc"
		! command -v show_failure >/dev/null || show_failure
	fi
}
