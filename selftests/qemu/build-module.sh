#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# build-module.sh KDIR OUTDIR [NAME] - build ephport.ko for the kernel headers
# in KDIR from a copy of the sources in OUTDIR, so that several kernels can be
# built from one checkout without cleaning in between, and then the sample
# strategy module, OUTDIR/samples/ephport_sample.ko, against it.  With NAME,
# the module is built under that name (a second copy, for the tests), without
# the sample.  Prints the module's path.  $EPHPORT_KMAKE_ARGS are added to
# both make command lines (lint.sh: C=2 for sparse).
#
# Headers made by a compiler the host does not have (sid's kernel needs
# gcc-16) are built inside the Debian root of build-root.sh (kmake.sh).

set -eu

kdir=${1:?usage: build-module.sh KDIR OUTDIR [NAME]}
out=${2:?usage: build-module.sh KDIR OUTDIR [NAME]}
name=${3:-ephport}
top=$(cd "$(dirname "$0")/../.." && pwd)

mkdir -p "$out/module" "$out/include/ephport" "$out/samples"
cp -p "$top/Kbuild" "$top/VERSION" "$out/"
# Copy only sources: what an in-place build generated (objects, *.mod.c
# made by another kernel's modpost) must not leak in.
for f in "$top"/module/*.[ch] "$top"/module/Kbuild "$top"/include/ephport/*.h \
	"$top"/samples/*.c "$top"/samples/Kbuild; do
	case $f in *.mod.c) continue ;; esac
	dst=$out/${f#"$top"/}
	cmp -s "$f" "$dst" || cp -p "$f" "$dst"
done
rm -f "$out/module/ephport.mod.c" "$out"/samples/*.mod.c
if [ "$name" != ephport ]; then
	# The same code under another name, with its exports renamed: the
	# kernel refuses a second module exporting the same symbols.
	sed -i "s/^obj-m := ephport\.o/obj-m := $name.o/; s/^ephport-y :=/$name-y :=/" \
		"$out/module/Kbuild"
	for sym in $(sed -n 's/^EXPORT_SYMBOL_GPL(\(.*\));$/\1/p' "$top"/module/*.c); do
		echo "ccflags-y += -D$sym=${name}_${sym#ephport_}" >>"$out/module/Kbuild"
	done
fi
# shellcheck disable=SC2086 # EPHPORT_KMAKE_ARGS: words
"$top/selftests/qemu/kmake.sh" "$kdir" "$out" -s ${EPHPORT_KMAKE_ARGS:-} modules >&2
if [ "$name" = ephport ]; then
	# As the top-level Makefile builds it; the sid root sees $out too.
	# shellcheck disable=SC2086
	EPHPORT_KMAKE_DIRS=$out "$top/selftests/qemu/kmake.sh" "$kdir" "$out/samples" \
		-s ${EPHPORT_KMAKE_ARGS:-} KBUILD_EXTRA_SYMBOLS="$out/Module.symvers" modules >&2
fi
echo "$out/module/$name.ko"
