#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# install.sh - host test of "make install", "make uninstall" and dkms,
# against the cached headers of each series in $SERIES (default 6.1 6.12).
# Everything happens in a copy of the sources and a temporary DESTDIR or
# dkms tree: the host is not touched.

top=$(cd "$(dirname "$0")/.." && pwd)
src=$("$top/selftests/qemu/fetch-source.sh") || exit 1
. "$src/tools/testing/selftests/kselftest/ktap_helpers.sh"

series=${SERIES:-6.1 6.12}
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

copy_sources() { # copy_sources DIR
	mkdir -p "$1"
	(cd "$top" && cp -a Kbuild Makefile VERSION dkms.conf include module samples tools etc "$1/")
	rm -f "$1"/module/*.o "$1"/module/*.ko "$1"/module/.*.cmd
}

modinfo_ok() { # modinfo_ok KO RELEASE
	[ -n "$1" ] &&
	/sbin/modinfo -F name "$1" | grep -qx ephport &&
	/sbin/modinfo -F version "$1" | grep -qx "$(cat "$top/VERSION")" &&
	/sbin/modinfo -F vermagic "$1" | grep -q "^$2 " &&
	/sbin/modinfo -F parm "$1" | grep -q '^range:' &&
	/sbin/modinfo -F parm "$1" | grep -q '^strategy:'
}

ktap_print_header
# The unit: a oneshot that loads the module, then applies the batch file
# with the installed tool; the modules-load.d entry: commented out.
unit_ok() { # unit_ok DESTDIR
	u=$1/usr/local/lib/systemd/system/ephport.service
	m=$1/etc/modules-load.d/ephport.conf
	[ -f "$u" ] && [ -f "$m" ] && ! grep -v '^#' "$m" | grep -q . &&
	grep -qx 'Type=oneshot' "$u" && grep -qx 'ExecStart=/sbin/modprobe ephport' "$u" &&
	grep -q '^ExecStart=.* /usr/local/sbin/ephportctl -b /etc/ephport/ephport.conf' "$u" &&
	grep -qx 'WantedBy=multi-user.target' "$u" && ! grep -q @ "$u" &&
	{ ! command -v systemd-analyze >/dev/null ||
	  SYSTEMD_LOG_LEVEL=err systemd-analyze verify --man=no "$u" 2>&1 |
	  { ! grep -v 'modprobe\|ephportctl\|Failed to prepare' ; }; }
}

ktap_set_plan $(($(echo $series | wc -w) * 7 + 1))
# dkms.conf is read by dkms as it is: its version is checked against VERSION.
ktap_test_result "dkms.conf's PACKAGE_VERSION is VERSION's" \
	test "$version" = "$(cat "$top/VERSION")"
for s in $series; do
	kdir=$("$top/selftests/qemu/fetch-kernel.sh" "$s")/build
	rel=$(basename "$(readlink -f "$kdir")" | sed 's/^linux-headers-//')
	if ! cc=$("$top/selftests/qemu/kmake.sh" --host-cc "$kdir"); then
		# make install builds with the host's compiler, as on a machine
		# running that kernel (vm.sh builds sid's in a root).
		for t in "make install" "depmod" "modinfo" "make uninstall" \
			"dkms build" "dkms modinfo"; do
			ktap_test_skip "$s: $t (the headers need $cc, not on this host)"
		done
		continue
	fi
	dest=$tmp/dest-$s
	copy_sources "$tmp/src-$s"

	make -s -C "$tmp/src-$s" install DESTDIR="$dest" KDIR="$kdir" >"$tmp/log" 2>&1
	ko=$(ls "$dest/lib/modules/$rel"/updates/module/ephport.ko* 2>/dev/null)
	if [ -n "$ko" ] && [ -x "$dest/usr/local/sbin/ephportctl" ] &&
	   [ -f "$dest/usr/local/share/man/man8/ephportctl.8" ] &&
	   [ -f "$dest/usr/local/share/bash-completion/completions/ephportctl" ] &&
	   [ -f "$dest/etc/modprobe.d/ephport.conf" ]; then
		ktap_test_pass "$s: make install puts module, tool, man page, completion, modprobe.d"
	else
		sed 's/^/# /' "$tmp/log"
		ktap_test_fail "$s: make install puts module, tool, man page, completion, modprobe.d"
	fi
	ktap_test_result "$s: make install puts a disabled ephport.service and modules-load.d entry" \
		unit_ok "$dest"
	ktap_test_result "$s: depmod knows the installed module" \
		grep -q 'updates/module/ephport.ko' "$dest/lib/modules/$rel/modules.dep"
	ktap_test_result "$s: modinfo shows vermagic $rel, the VERSION and the parameters" \
		modinfo_ok "$ko" "$rel"

	make -s -C "$tmp/src-$s" uninstall DESTDIR="$dest" KDIR="$kdir" >"$tmp/log" 2>&1
	left=$(cd "$dest" && find . -type f ! -name 'modules.*')
	if [ -z "$left" ]; then
		ktap_test_pass "$s: make uninstall removes what make install put"
	else
		echo "$left" | sed 's/^/# left: /'
		ktap_test_fail "$s: make uninstall removes what make install put"
	fi

	if ! command -v dkms >/dev/null; then
		ktap_test_skip "$s: dkms build (dkms is not installed)"
		ktap_test_skip "$s: dkms module loads as ephport"
		continue
	fi
	mkdir -p "$tmp/dkms-src-$s" "$tmp/dkms-tree-$s"
	copy_sources "$tmp/dkms-src-$s/ephport-$version"
	dkms build "ephport/$version" --sourcetree "$tmp/dkms-src-$s" \
		--dkmstree "$tmp/dkms-tree-$s" -k "$rel" --kernelsourcedir "$kdir" \
		>"$tmp/log" 2>&1
	ko=$(find "$tmp/dkms-tree-$s" -name 'ephport.ko*' | head -n 1)
	if [ -n "$ko" ]; then
		ktap_test_pass "$s: dkms build"
	else
		sed 's/^/# /' "$tmp/log"
		ktap_test_fail "$s: dkms build"
	fi
	ktap_test_result "$s: the dkms module is ephport for $rel, with its parameters" \
		modinfo_ok "$ko" "$rel"
done
ktap_finished
