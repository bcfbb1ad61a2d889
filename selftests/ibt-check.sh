#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ibt-check.sh [KO [MODULE_SYMVERS [ALLOW]]] - the static check that the
# built module is safe on a kernel built with IBT (CONFIG_X86_KERNEL_IBT),
# run on the host by vm.sh for each kernel, right after the build.  On an
# IBT CPU the kernel seals every function whose address it never takes,
# and an indirect call to a sealed function faults; only exported
# functions and functions stored in ops tables are sure to keep their
# ENDBR.  So the module must call kernel functions directly (module/hook.c
# says how), and this checks the object code, not the source:
#
#  1. no function makes an indirect call or jump (a call through a
#     retpoline thunk, __x86_indirect_*thunk*, as Debian's kernels build,
#     or a plain "call *"/"jmp *"), except the functions in ALLOW
#     (default: ibt-check.allow beside this script), each at most as often
#     as its entry says, for the reason it gives;
#  2. the module neither references nor names kallsyms_lookup_name;
#  3. every symbol the module leaves undefined is exported (listed in
#     MODULE_SYMVERS, that of the kernel and its modules).
#
# The module and Module.symvers also come from $IBT_KO and $IBT_SYMVERS.
# Prints TAP; exits 1 when a check fails.

here=$(cd "$(dirname "$0")" && pwd)
ko=${1:-${IBT_KO:?usage: ibt-check.sh KO MODULE_SYMVERS [ALLOW]}}
symvers=${2:-${IBT_SYMVERS:?usage: ibt-check.sh KO MODULE_SYMVERS [ALLOW]}}
allow=${3:-$here/ibt-check.allow}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
n=0

result() { # result OK DESCRIPTION: one TAP line, diagnostics from $tmp/diag
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		sed 's/^/# /' "$tmp/diag"
		echo "not ok $n $2"
		failed=1
	fi
	: >"$tmp/diag"
}

echo "TAP version 13"
echo "1..3"
for f in "$ko" "$symvers" "$allow"; do
	[ -r "$f" ] || { echo "Bail out! cannot read $f"; exit 1; }
done
: >"$tmp/diag"

# 1. Indirect branches, per function (a compiler's local copy such as
# foo.constprop.0 counts as foo), against the allowlist.
objdump -dr "$ko" >"$tmp/dis" || { echo "Bail out! objdump failed on $ko"; exit 1; }
awk '
# A switch jump table (kernels built without IBT or retpolines allow them):
# "jmp *TABLE(,%reg,8)" with TABLE in .rodata, made by the compiler, holding
# addresses inside this function: no kernel function is reached.
jt != "" { if ($0 !~ /R_X86_64_32S?[ \t]+\.rodata/) print jt; jt = "" }
/\t(notrack )?jmpq?[ \t]+\*0x0\(,%[a-z0-9]+,8\)/ { jt = fn "\t" $0; next }
/^Disassembly of section / { fn = "<section " $4 ">"; next }
/^[0-9a-f]+ <[^>]*>:$/ { fn = substr($2, 2, length($2) - 3); sub(/\..*/, "", fn); next }
# A call or jump through a retpoline (or call depth, ITS, ...) thunk, on
# the relocation line after the instruction.
/R_X86_64_[A-Z0-9]+[ \t]+__x86_indirect_[a-z_]*thunk/ { print fn "\t" prev " -> " $3; next }
# A plain indirect call or jump (kernels built without retpolines).
/\t(notrack |cs |ds )?(call|jmp)q?[ \t]+\*/ { print fn "\t" $0 }
{ prev = $0 }
' "$tmp/dis" | sed 's/[ \t]\+/ /g; s/ /\t/' >"$tmp/hits"
cut -f1 "$tmp/hits" | sort | uniq -c | awk -v allowfile="$allow" '
BEGIN {
	while ((getline line < allowfile) > 0) {
		if (line ~ /^[ \t]*(#|$)/)
			continue
		split(line, w)
		max[w[1]] = w[2] + 0
	}
}
{
	if (!($2 in max))
		printf "%s: %d indirect call(s), not in the allowlist\n", $2, $1
	else if ($1 > max[$2])
		printf "%s: %d indirect call(s), the allowlist says at most %d\n", $2, $1, max[$2]
	else
		next
	bad[$2] = 1
}
END {
	while ((getline line < hitsfile) > 0) {
		split(line, w, "\t")
		if (w[1] in bad)
			print "  " line
	}
}' hitsfile="$tmp/hits" >"$tmp/diag"
[ -s "$tmp/diag" ]
result $((! $?)) "indirect calls only where the allowlist says why they are safe"

# 2. kallsyms_lookup_name: neither a symbol nor a string (kprobe target).
objcopy --strip-debug "$ko" "$tmp/stripped.ko"
if grep -aq kallsyms_lookup_name "$tmp/stripped.ko"; then
	echo "the module names kallsyms_lookup_name (sealed on IBT kernels):" >"$tmp/diag"
	nm "$ko" | grep kallsyms_lookup_name >>"$tmp/diag"
	strings -a "$tmp/stripped.ko" | grep kallsyms_lookup_name >>"$tmp/diag"
	result 1 "no kallsyms_lookup_name"
else
	result 0 "no kallsyms_lookup_name"
fi

# 3. Undefined symbols: each one exported by the kernel or a module.
awk '{ print $2 }' "$symvers" | sort -u >"$tmp/exported"
nm -u "$ko" | awk '{ print $2 }' | sort -u >"$tmp/undefined"
comm -23 "$tmp/undefined" "$tmp/exported" | sed 's/$/: not exported/' >"$tmp/diag"
[ -s "$tmp/diag" ]
result $((! $?)) "every undefined symbol is in Module.symvers ($(wc -l <"$tmp/undefined") symbols)"

exit $failed
