#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fresh.sh - host test of the set-up path on a fresh machine: every fetch
# and set-up script runs with a HOME whose ~/.cache does not exist (no
# $EPHPORT_CACHE, no $XDG_CACHE_HOME), for each series of $SERIES, and must
# either produce what the next step needs or stop at its first error with
# one line of its own.  A missing mkdir or install step turns it red.
#
# The .deb files come from $EPHPORT_DEB_CACHE (default
# $EPHPORT_CACHE/debs, kept between runs): the first run downloads them,
# later ones only unpack.  sid's private package lists are fetched again
# (11 MB).  Making the sid build root (a minute or two, 365 MB) is left to
# EPHPORT_FRESH_ROOT=1.

top=$(cd "$(dirname "$0")/.." && pwd)
q=$top/selftests/qemu
src=$("$q/fetch-source.sh") || exit 1
. "$src/tools/testing/selftests/kselftest/ktap_helpers.sh"

series=${SERIES:-6.1 6.12}
cache=${EPHPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ephport}
debs=${EPHPORT_DEB_CACHE:-$cache/debs}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
home=$tmp/home
mkdir "$home"

# cold COMMAND... - run COMMAND as on a machine that has never run ephport.
cold() {
	env -u EPHPORT_CACHE -u XDG_CACHE_HOME -u EPHPORT_BUILD HOME="$home" \
		EPHPORT_DEB_CACHE="$debs" "$@"
}

# fails_in_one_line NAME COMMAND... - COMMAND fails, and its last line on
# stderr is its own "NAME: ..." (not a later tool's complaint).
fails_in_one_line() {
	name=$1
	shift
	if "$@" >"$tmp/out" 2>"$tmp/err"; then
		echo "# $* succeeded"
		return 1
	fi
	last=$(tail -n 1 "$tmp/err")
	echo "# $last"
	case $last in "$name: "*) return 0 ;; esac
	sed 's/^/# stderr: /' "$tmp/err"
	return 1
}

# kernel_ok DIR - a kernel directory as vm.sh and build-module.sh use it.
kernel_ok() {
	[ -f "$1/vmlinuz" ] && [ -f "$1/build/Makefile" ] && [ -f "$1/build/.config" ] &&
	inc=$(sed -n 's/^include //p' "$1/build/Makefile") && [ -f "$inc" ] &&
	rel=$(basename "$1") && [ -f "$1/root/lib/modules/$rel/modules.builtin" ]
}

ktap_print_header
ktap_set_plan $((9 + 2 * $(echo $series | wc -w)))

ktap_test_result "deps.sh finds everything installed" cold "$q/deps.sh"

stamp=$tmp/stamp
touch "$stamp"
out=$(cold "$q/fetch-source.sh" 2>"$tmp/err")
if [ -f "$out/tools/testing/selftests/kselftest_harness.h" ] &&
   [ -f "$out/scripts/checkpatch.pl" ] && [ "${out#"$home"/.cache/ephport/}" != "$out" ]; then
	ktap_test_pass "fetch-source.sh into a missing ~/.cache"
else
	sed 's/^/# /' "$tmp/err"
	ktap_test_fail "fetch-source.sh into a missing ~/.cache"
fi

for s in $series; do
	k=$(cold "$q/fetch-kernel.sh" "$s" 2>"$tmp/err")
	if [ -n "$k" ] && kernel_ok "$k"; then
		ktap_test_pass "$s: fetch-kernel.sh into an empty cache"
	else
		sed 's/^/# /' "$tmp/err"
		ktap_test_fail "$s: fetch-kernel.sh into an empty cache"
	fi
	case $s in
	[0-9]*)
		ktap_test_result "$s: a second fetch-kernel.sh finds it cached" \
			test "$(cold "$q/fetch-kernel.sh" "$s" 2>&1)" = "$k"
		;;
	*)
		# A suite's kernel comes through a private apt, in the cache.
		changed=$(find /etc/apt /var/lib/apt/lists /var/cache/apt \
			-newer "$stamp" ! -type d 2>/dev/null)
		echo "$changed" | sed '/^$/d; s/^/# changed: /'
		ktap_test_result "$s: the host's apt configuration, lists and cache are untouched" \
			test -z "$changed"
		;;
	esac
done

# The payload build stops at a failed fetch-source.sh, before any compiler.
cold env EPHPORT_SOURCE_PKG=linux-source-0.0 EPHPORT_BUILD="$tmp/build" \
	make -s -C "$top/selftests" payload >"$tmp/out" 2>"$tmp/err"
rc=$?
sed 's/^/# /' "$tmp/err"
ktap_test_result "make payload stops at fetch-source.sh's error, before compiling" \
	test "$rc" != 0 -a ! -e "$tmp/build" -a \
	"$(grep -c 'fetch-source: ' "$tmp/err")" = 1 -a \
	"$(grep -c 'error:\|kselftest_harness' "$tmp/err")" = 0

ktap_test_result "fetch-source.sh: an unknown package stops it in one line" \
	fails_in_one_line fetch-source cold env EPHPORT_SOURCE_PKG=linux-source-0.0 "$q/fetch-source.sh"
ktap_test_result "fetch-kernel.sh: an unknown series stops it in one line" \
	fails_in_one_line fetch-kernel cold "$q/fetch-kernel.sh" 0.0
ktap_test_result "fetch-kernel.sh: a cache it cannot create stops it in one line" \
	fails_in_one_line fetch-kernel env EPHPORT_CACHE=/dev/null/ephport \
	EPHPORT_DEB_CACHE="$debs" "$q/fetch-kernel.sh" "${series%% *}"

# perf and bpftrace for trace_tools.sh (about 80 MB of packages, kept in
# the .deb cache).
t=$(cold "$q/tracetools.sh" 2>"$tmp/err")
if [ -n "$t" ] && [ "${t#"$home"/.cache/ephport/}" != "$t" ] &&
   [ "$(zcat "$t" | cpio -it --quiet 2>/dev/null |
	grep -cx 'usr/bin/perf\|usr/bin/bpftrace')" = 2 ]; then
	ktap_test_pass "tracetools.sh packs perf and bpftrace into a missing ~/.cache"
else
	sed 's/^/# /' "$tmp/err"
	ktap_test_fail "tracetools.sh packs perf and bpftrace into a missing ~/.cache"
fi
ktap_test_result "tracetools.sh: an unknown package stops it in one line" \
	fails_in_one_line tracetools cold env EPHPORT_TRACE_PKGS=no-such-package-0 "$q/tracetools.sh"

if [ "${EPHPORT_FRESH_ROOT:-0}" = 1 ]; then
	ktap_test_result "build-root.sh makes a sid root with gcc-16 into an empty cache" \
		cold "$q/build-root.sh" x86_64-linux-gnu-gcc-16 "$tmp" -- \
		x86_64-linux-gnu-gcc-16 --version
else
	ktap_test_skip "build-root.sh into an empty cache (EPHPORT_FRESH_ROOT=1 makes a 365 MB root)"
fi
ktap_finished
