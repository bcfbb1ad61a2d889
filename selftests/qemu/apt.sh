# SPDX-License-Identifier: GPL-2.0
#
# apt.sh - sourced by the set-up scripts: downloads, and a private apt for
# another Debian suite (sid) that never touches the host's apt configuration
# or state.
#
#   fetch_debs DIR PKG...  download the packages into DIR, or, with
#                       $EPHPORT_DEB_CACHE set, into that directory unless
#                       they are there already; print the .deb paths
#   suite_apt SUITE     prepare $cache/apt-SUITE (sources list, package
#                       lists, refreshed when older than a day) and set
#                       $apt_opts, the options every apt-get/apt-cache call
#                       for that suite takes
#   suite_mirror        print the Debian mirror the host's apt uses for its
#                       own release ($EPHPORT_DEBIAN_MIRROR overrides it)
#
# The caller defines die() and $cache, and $apt_opts (empty: the host's
# apt) for fetch_debs.

fetch_debs() {
	dest=$1
	shift
	store=${EPHPORT_DEB_CACHE:-$dest}
	mkdir -p "$store" || die "cannot create $store"
	# shellcheck disable=SC2086
	uris=$(apt-get download --print-uris $apt_opts "$@" 2>/dev/null) &&
		[ -n "$uris" ] || die "apt knows no package $* (apt-get update?)"
	files=$(echo "$uris" | awk '{ print $2 }')
	want=
	for f in $files; do
		[ -s "$store/$f" ] ||
			want="$want ${f%%_*}=$(echo "$f" | cut -d_ -f2 | sed 's/%3a/:/g')"
	done
	if [ -n "$want" ]; then
		# shellcheck disable=SC2086
		(cd "$store" && apt-get download -q -o APT::Sandbox::User=root \
			$apt_opts $want >&2) || die "apt-get download$want failed"
	fi
	for f in $files; do
		[ -s "$store/$f" ] || die "apt-get download did not make $f"
		echo "$store/$f"
	done
}

suite_mirror() {
	if [ -n "${EPHPORT_DEBIAN_MIRROR:-}" ]; then
		echo "$EPHPORT_DEBIAN_MIRROR"
		return 0
	fi
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release: set EPHPORT_DEBIAN_MIRROR"
	# The first URI serving the host's release, in one-line (.list) or
	# deb822 (.sources) format.
	m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v c="$codename" '
		function flush() {
			if (!found && deb && uris != "" &&
			    (" " suites " ") ~ (" " c " ")) {
				split(uris, u, " "); print u[1]; found = 1; exit
			}
			deb = 0; uris = ""; suites = ""
		}
		/^[ \t]*#/ { next }
		/^[ \t]*$/ { flush(); next }
		/^deb[ \t]/ {
			sub(/\[[^]]*\][ \t]*/, "")
			if ($3 == c) { print $2; found = 1; exit }
			next
		}
		/^Types:/ { deb = ($0 ~ /[ \t]deb([ \t]|$)/) }
		/^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
		/^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
		END { flush() }')
	[ -n "$m" ] || die "no apt source for $codename in /etc/apt: set EPHPORT_DEBIAN_MIRROR"
	echo "${m%/}"
}

suite_apt() {
	suite=$1
	sdir=$cache/apt-$suite
	mkdir -p "$sdir/lists/partial" "$sdir/cache/archives/partial" ||
		die "cannot create $sdir"
	keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	[ -f "$keyring" ] || die "no $keyring (apt-get install debian-archive-keyring)"
	echo "deb [signed-by=$keyring] $(suite_mirror) $suite main" >"$sdir/sources.list.new"
	# The archive here may serve a snapshot whose Release is past its
	# Valid-Until date.
	apt_opts="-o Dir::Etc::SourceList=$sdir/sources.list
		-o Dir::Etc::SourceParts=/dev/null
		-o Dir::State::Lists=$sdir/lists
		-o Dir::State::Status=/dev/null
		-o Dir::Cache=$sdir/cache
		-o Acquire::Check-Valid-Until=false
		-o APT::Sandbox::User=root"
	if cmp -s "$sdir/sources.list.new" "$sdir/sources.list" &&
		[ -n "$(find "$sdir/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440)" ]; then
		rm -f "$sdir/sources.list.new"
		return 0
	fi
	mv "$sdir/sources.list.new" "$sdir/sources.list"
	echo "suite: apt-get update ($suite)" >&2
	# shellcheck disable=SC2086
	apt-get -q $apt_opts update >&2 || die "apt-get update of $suite failed"
}
