#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run-vm-tests.sh MODE - what the test VM runs, as a child of /init.
#   check   the kselftests listed in tests/vm-tests, or only those named
#           in $EPHPORT_TESTS (comma-separated; set it with
#           EPHPORT_VM_CMDLINE=EPHPORT_TESTS=a,b on the host)
#   demo    the end-to-end demonstration (tests/demo.sh)
#   *       tests/MODE.sh

mode=${1:-check}
cd /ephport/tests || exit 1
export EPHPORT_KO=/ephport/ephport.ko

case $mode in
check)
	# Each program starts without the module loaded.
	export EPHPORT_TEST_SETUP='rmmod ephport 2>/dev/null'
	tests=$(echo "${EPHPORT_TESTS:-}" | tr , ' ')
	[ -n "$tests" ] || tests=$(grep -v '^#' vm-tests)
	sh ./run-tests.sh -t "${EPHPORT_TEST_TIMEOUT:-3000}" . $tests
	;;
*)
	sh "./$mode.sh"
	;;
esac
