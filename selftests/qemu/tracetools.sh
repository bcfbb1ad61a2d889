#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tracetools.sh - a second initramfs archive with perf and bpftrace, for
# the VM test of the documented recipes (trace_tools.sh).  vm.sh appends it
# to the test initramfs of one series only, when that test is to run: every
# other boot stays as small as before.
#
# The packages (Debian 12's linux-perf and bpftrace, or those of
# $EPHPORT_TRACE_PKGS, linux-perf first, and the packages that hold the
# shared libraries they load) are downloaded through fetch_debs
# (apt.sh: kept in $EPHPORT_DEB_CACHE when set) and unpacked, never
# installed, into $EPHPORT_CACHE/tracetools/<versions>/; the archive holds
# the programs (perf as /usr/bin/perf, whatever the kernel's version) and,
# found with the dynamic loader's --list, exactly the libraries they load.  Prints the archive's path.  Stops at its first error with one line.

set -eu

cache=${EPHPORT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ephport}
pkgs=${EPHPORT_TRACE_PKGS:-linux-perf bpftrace}

die() { echo "tracetools: $*" >&2; exit 1; }
. "$(dirname "$0")/apt.sh"
apt_opts=

# The versions name the directory: a new package version makes a new one.
# shellcheck disable=SC2086
key=$(apt-cache policy $pkgs 2>/dev/null | sed -n 's/^ *Candidate: //p' | tr '\n' '_')
[ -n "$key" ] || die "apt has no candidate for $pkgs"
dir=$cache/tracetools/${key%_}
out=$dir/tracetools.cpio.gz
if [ -s "$out" ]; then
	echo "$out"
	exit 0
fi

# What the programs depend on, less what brings no library they load
# (interpreters' modules, dpkg, data): perf loads libperl and libpython
# but runs neither interpreter unless asked to (perf script -s).
skip=' dpkg tar install-info perl perl-base perl-modules-5.36 python3 python3-minimal
python3.11 python3.11-minimal libpython3-stdlib libpython3.11-stdlib
libpython3.11-minimal mailcap media-types mime-support readline-common
libtirpc-common gcc-12-base debconf '
# shellcheck disable=SC2086
all=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
	--no-breaks --no-replaces --no-enhances $pkgs 2>/dev/null |
	sed -n 's/^\([a-z0-9][a-z0-9.+-]*\)$/\1/p' | sort -u)
for p in $pkgs; do
	echo "$all" | grep -qx "$p" || die "apt knows no package $p (apt-get update?)"
done
want=
for p in $all; do
	case $skip in *" $p "* | *"
$p "* | *" $p
"*) continue ;; esac
	want="$want $p"
done

echo "tracetools: $pkgs and their libraries ($(echo $want | wc -w) packages)" >&2
rm -rf "$dir"
mkdir -p "$dir/root" "$dir/debs" || die "cannot create $dir"
# shellcheck disable=SC2086
debs=$(fetch_debs "$dir/debs" $want)
for deb in $debs; do
	dpkg -x "$deb" "$dir/root" || die "cannot unpack $deb"
done
root=$dir/root

# /usr/bin/perf, or, in older packages, a script choosing perf_VERSION.
perf=$root/usr/bin/perf
[ "$(head -c 4 "$perf" 2>/dev/null)" = "$(printf '\177ELF')" ] ||
	perf=$(ls "$root"/usr/bin/perf_[0-9]* 2>/dev/null | head -n 1)
[ -n "$perf" ] || die "linux-perf has no perf program"
bins=$perf
case " $pkgs " in *" bpftrace "*)
	[ -x "$root/usr/bin/bpftrace" ] || die "bpftrace has no /usr/bin/bpftrace"
	bins="$bins $root/usr/bin/bpftrace"
esac
ldso=$root/lib64/ld-linux-x86-64.so.2
[ -x "$ldso" ] || die "no dynamic loader in $root (libc6)"
libpath=$root/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu

stage=$dir/stage
mkdir -p "$stage/usr/bin" "$stage/lib64" "$stage/usr/lib/x86_64-linux-gnu"
cp "$perf" "$stage/usr/bin/perf"
[ "$bins" = "$perf" ] || cp "$root/usr/bin/bpftrace" "$stage/usr/bin/bpftrace"
cp "$ldso" "$stage/lib64/"
for bin in $bins; do
	libs=$("$ldso" --library-path "$libpath" --list "$bin") ||
		die "cannot list the libraries of $(basename "$bin")"
	missing=$(echo "$libs" | sed -n 's/^[ \t]*\([^ ]*\) => not found$/\1/p' | tr '\n' ' ')
	[ -z "$missing" ] || die "$(basename "$bin") needs $missing, in no package fetched"
	for lib in $(echo "$libs" | sed -n 's/^.* => \([^ ]*\) (0x.*$/\1/p'); do
		case $lib in "$root"/*) ;; *) die "$lib is not from the packages" ;; esac
		cp -L "$lib" "$stage/usr/lib/x86_64-linux-gnu/"
	done
done
# The VM's / has no /lib: the loader looks in /usr/lib/x86_64-linux-gnu.
mkdir -p "$stage/etc"
echo /usr/lib/x86_64-linux-gnu >"$stage/etc/ld.so.conf"
/sbin/ldconfig -r "$stage" 2>/dev/null || die "ldconfig -r $stage failed"
find "$stage" -exec touch -h -d @0 {} +
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible) |
	gzip -n >"$out.tmp" || die "cannot write $out"
mv "$out.tmp" "$out"
rm -rf "$dir/debs" "$stage" "$root"
echo "$out"
