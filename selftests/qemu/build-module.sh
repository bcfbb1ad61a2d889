#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# build-module.sh KDIR OUTDIR [NAME] - build ephport.ko for the kernel headers
# in KDIR from a copy of the sources in OUTDIR, so that several kernels can be
# built from one checkout without cleaning in between.  With NAME, the module
# is built under that name (a second copy, for the tests).  Prints the
# module's path.
#
# Headers made by a compiler the host does not have (sid's kernel needs
# gcc-16) are built inside the Debian root of build-root.sh (kmake.sh).

set -eu

kdir=${1:?usage: build-module.sh KDIR OUTDIR [NAME]}
out=${2:?usage: build-module.sh KDIR OUTDIR [NAME]}
name=${3:-ephport}
top=$(cd "$(dirname "$0")/../.." && pwd)

mkdir -p "$out/module"
cp -p "$top/Kbuild" "$top/VERSION" "$out/"
# Copy only sources: what an in-place build generated (objects, *.mod.c
# made by another kernel's modpost) must not leak in.
for f in "$top"/module/*.[ch] "$top"/module/Kbuild; do
	case $f in *.mod.c) continue ;; esac
	cmp -s "$f" "$out/module/${f##*/}" || cp -p "$f" "$out/module/"
done
rm -f "$out/module/ephport.mod.c"
if [ "$name" != ephport ]; then
	# The same code under another name, with its exports renamed: the
	# kernel refuses a second module exporting the same symbols.
	sed -i "s/^obj-m := ephport\.o/obj-m := $name.o/; s/^ephport-y :=/$name-y :=/" \
		"$out/module/Kbuild"
	for sym in ephport_register_strategy ephport_unregister_strategy; do
		echo "ccflags-y += -D$sym=${name}_${sym#ephport_}" >>"$out/module/Kbuild"
	done
fi
"$top/selftests/qemu/kmake.sh" "$kdir" "$out" -s modules >&2
echo "$out/module/$name.ko"
