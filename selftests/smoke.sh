#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Load and unload the module; its sysfs directory comes and goes with it.

. "$(dirname "$0")/lib/lib.sh"

ktap_print_header
ktap_set_plan 3
check "insmod succeeds" load
check "sysfs directory exists" test -d "$SYSFS"
unload
check "rmmod removes the sysfs directory" test ! -e "$SYSFS"
ktap_finished
