#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tap-summary.sh LOG... - count the results in test logs and print the
# closing line "N passed, N failed".  Exits non-zero on any failure.
#
# Counted: every test case ("# ok N ..." inside a program's output), a
# program that failed without reporting a failed case (it crashed or bailed
# out), and for each VM log two harness checks: the VM ran to its end, and
# the kernel log holds no splat (BUG, WARNING, Oops, lockdep, KASAN, ...).

[ $# -gt 0 ] || { echo "usage: tap-summary.sh LOG..." >&2; exit 2; }

awk '
function flush_program() { prog_fail = 0 }
FNR == 1 {
	if (NR > 1) finish_file()
	vm = 0; vm_end = 0; splats = 0; in_dmesg = 0; flush_program()
}
{ sub(/\r$/, "") }
/ephport-vm: begin / { vm = 1; sub(/.*ephport-vm: begin /, ""); vm_name = $1 " " $2 }
/^ephport-vm: end$/ { vm_end = 1 }
/^ephport-vm: dmesg begin$/ { in_dmesg = 1 }
/^ephport-vm: dmesg end$/ { in_dmesg = 0 }
/BUG: |WARNING: |Oops|Call Trace|lockdep is turned off|locking correctness validator|KASAN: |UBSAN: |possible (circular|recursive) locking|inconsistent lock state|suspicious RCU usage|kmemleak: [0-9]+ new suspected|Kernel panic|general protection fault|refcount_t: / {
	if (vm && !/^# / && !/^(not )?ok /) {
		if (splats < 20) splat_lines = splat_lines "#   " $0 "\n"
		splats++
	}
}
/^# (not )?ok [0-9]+ / {
	if ($0 ~ /# (SKIP|skip)/) skip++
	else if ($2 == "not") { fail++; prog_fail++ }
	else pass++
	next
}
/^not ok [0-9]+ selftests: / {
	if (!prog_fail) { fail++; print "# failed: " $0 }
	flush_program(); next
}
/^ok [0-9]+ selftests: / { flush_program(); next }
function finish_file() {
	if (!vm) return
	if (vm_end) { pass++ } else { fail++; print "not ok - VM " vm_name ": did not run to its end (" FILENAME ")" }
	if (splats == 0) { pass++ } else {
		fail++
		printf "not ok - VM %s: kernel log has %d splat line(s):\n%s", vm_name, splats, splat_lines
	}
	splat_lines = ""
}
END {
	finish_file()
	if (skip) printf "%d skipped\n", skip
	printf "%d passed, %d failed\n", pass, fail
	exit (fail > 0 || pass == 0)
}' "$@"
