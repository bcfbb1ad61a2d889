# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the shell selftests run in the VM; KTAP output comes from the
# kernel's own kselftest/ktap_helpers.sh.

. "$(dirname "$0")/lib/ktap_helpers.sh"

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

# check DESCRIPTION COMMAND... - one test case from a command's status
check() {
	desc=$1
	shift
	ktap_test_result "$desc" "$@"
}
