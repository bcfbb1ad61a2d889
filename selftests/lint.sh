#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh [KDIR...] - the style gate: checkpatch.pl --strict on every C
# file of the module, its public headers, the sample strategy module, the
# tool and the tests, then sparse on the module and the sample built against
# each KDIR (default: the Debian kernels of $SERIES).
# Findings listed in selftests/lint.ignore (with a reason each) are
# allowed; anything else fails.  Prints KTAP.

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
src=$(selftests/qemu/fetch-source.sh) || exit 1
ignore=selftests/lint.ignore
if [ $# = 0 ]; then
	for series in ${SERIES:-6.1 6.12}; do
		set -- "$@" "$(selftests/qemu/fetch-kernel.sh "$series")/build" || exit 1
	done
fi

. "$src/tools/testing/selftests/kselftest/ktap_helpers.sh"

files=$(git ls-files 'module/*.[ch]' 'include/*.h' 'samples/*.[ch]' 'tools/*.[ch]' \
	'selftests/*.[ch]' 'selftests/*/*.[ch]' 2>/dev/null)
[ -n "$files" ] || files=$(ls module/*.[ch] include/*/*.h samples/*.[ch] tools/*.[ch] \
	selftests/*.[ch] selftests/*/*.[ch])

ktap_print_header
ktap_set_plan $(($(echo "$files" | wc -w) + $#))
for f in $files; do
	out=$(perl "$src/scripts/checkpatch.pl" --strict --no-tree --terse \
		--show-types --no-summary -f "$f" 2>&1 |
		while IFS= read -r line; do
			type=$(echo "$line" | sed -n 's/^[^:]*:[0-9]*: [A-Z]*:\([A-Z_0-9]*\):.*/\1/p')
			grep -q "^$f:$type[[:space:]]" "$ignore" 2>/dev/null || echo "$line"
		done)
	if [ -z "$out" ]; then
		ktap_test_pass "checkpatch $f"
	else
		echo "$out" | sed 's/^/# /'
		ktap_test_fail "checkpatch $f"
	fi
done

for kdir in "$@"; do
	tmp=$(mktemp -d)
	out=$(EPHPORT_KMAKE_ARGS=C=2 selftests/qemu/build-module.sh "$kdir" "$tmp" 2>&1 >/dev/null |
		grep -E 'warning:|error:' | grep -v 'Skipping BTF')
	rm -rf "$tmp"
	if [ -z "$out" ]; then
		ktap_test_pass "sparse against $(basename "$(readlink -f "$kdir")")"
	else
		echo "$out" | sed 's/^/# /'
		ktap_test_fail "sparse against $(basename "$(readlink -f "$kdir")")"
	fi
done
ktap_finished
