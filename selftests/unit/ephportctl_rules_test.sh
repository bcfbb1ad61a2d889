#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ephportctl_rules_test.sh - host tests of the control tool: rule add, del,
# list, show, enable and set on an emulated configfs (helpers and
# fixtures: ephportctl_lib.sh).

# "run enable" runs the tool, not the shell builtin:
# shellcheck disable=SC3044
# shellcheck source=ephportctl_lib.sh
. "$(dirname "$0")/ephportctl_lib.sh"
ktap_set_plan 26
fixture
rules_fixture

t_rule_add() {
	cfs rule add web cgroup "$CG/test/a" uid 1000-1999 netns 4026532000 proto tcp \
		path connect range 50000 50009 strategy sequential priority 10 &&
	ok && [ -z "$out" ] && r=$CFG/rules/web &&
	file_is "$r/cgroup" /test/a && file_is "$r/uid" 1000-1999 &&
	file_is "$r/netns" 4026532000 && file_is "$r/proto" tcp && file_is "$r/path" connect &&
	file_is "$r/range" "50000 50009" && file_is "$r/strategy" sequential &&
	file_is "$r/priority" 10 && file_is "$r/enabled" 1
}
check_cfs "rule add writes every attribute given, then enabled" t_rule_add

t_rule_add_bare() {
	cfs rule add any && ok && r=$CFG/rules/any &&
	file_is "$r/enabled" 1 && file_is "$r/range" auto && file_is "$r/priority" 100 &&
	file_is "$r/uid" "" && file_is "$r/strategy" ""
}
check_cfs "rule add without keywords only enables the rule" t_rule_add_bare

t_rule_add_forms() {
	cfs rule add forms range 50000-50009 uid 1000 priority 007 proto udp path bind \
		family ipv6 &&
	ok && r=$CFG/rules/forms &&
	file_is "$r/range" "50000 50009" && file_is "$r/uid" 1000 && file_is "$r/priority" 7 &&
	file_is "$r/proto" udp && file_is "$r/path" bind && file_is "$r/family" ipv6 &&
	file_is "$r/enabled" 1
}
check_cfs "rule add range LOW-HIGH, one uid, priority 007, udp, bind, ipv6" t_rule_add_forms
rules_fixture

# The mount point goes, a path as in /proc/PID/cgroup stays.
t_rule_cgroup() {
	ln -sfn "$CG/test/a" "$tmp/cglink"
	for c in "$CG=/" "$CG/=/" "$CG/test/a=/test/a" "$CG/test/a/=/test/a" \
		 "$CG/test/../test/b=/test/b" "$tmp/cglink=/test/a" "/test/a=/test/a" "/=/" \
		 "test/b=/test/b"; do
		cfs rule add cg cgroup "${c%=*}" && ok &&
		file_is "$CFG/rules/cg/cgroup" "${c##*=}" && cfs rule del cg && ok || return 1
	done
	(cd "$CG/test" && LD_PRELOAD=$SHIM "$TOOL" rule add rel cgroup a) &&
	file_is "$CFG/rules/rel/cgroup" /test/a
}
check_cfs "rule add cgroup PATH: the path below the cgroup2 mount" t_rule_cgroup
rules_fixture

t_rule_cgroup_bad() {
	: >"$CG/test/a/cgroup.procs"
	run rule add cg cgroup /etc &&
	fails 2 "ephportctl: cgroup \"/etc\" is not in the cgroup v2 hierarchy ($CG)" &&
	run rule add cg cgroup "$CG/.." &&
	fails 2 "ephportctl: cgroup \"$CG/..\" is not in the cgroup v2 hierarchy ($CG)" &&
	run rule add cg cgroup /test/../.. &&
	fails 2 "ephportctl: cgroup \"/test/../..\" is not in the cgroup v2 hierarchy ($CG)" &&
	run rule add cg cgroup "$CG/test/c" &&
	fails 2 "ephportctl: cgroup \"$CG/test/c\" does not exist" &&
	run rule add cg cgroup /test/c && fails 2 'ephportctl: cgroup "/test/c" does not exist' &&
	run rule add cg cgroup "$CG/test/a/cgroup.procs" &&
	fails 2 "ephportctl: cgroup \"$CG/test/a/cgroup.procs\" is not a directory" &&
	no_rules
}
check "rule add cgroup outside the hierarchy, missing or not a directory" t_rule_cgroup_bad
rules_fixture

# Without $EPHPORT_CGROUP2: the first cgroup2 mount of the hierarchy's root.
t_rule_cgroup_mountinfo() {
	mnt=$(sed -n 's/^[^ ]* [^ ]* [^ ]* \/ \([^ ]*\) .* - cgroup2 .*/\1/p' /proc/self/mountinfo |
	      head -1)
	EPHPORT_CGROUP2=
	if [ -n "$mnt" ]; then
		cfs rule add cg cgroup "$mnt" && ok && file_is "$CFG/rules/cg/cgroup" /
	else
		run rule add cg cgroup / && fails 1 "ephportctl: no cgroup v2 hierarchy is mounted"
	fi
	r=$?
	EPHPORT_CGROUP2=$CG
	return $r
}
check_cfs "rule add cgroup finds the cgroup2 mount in mountinfo" t_rule_cgroup_mountinfo
rules_fixture

t_rule_netns() {
	ino=$(stat -L -c %i /proc/self/ns/net) &&
	cfs rule add ns netns /proc/self/ns/net && ok && file_is "$CFG/rules/ns/netns" "$ino" &&
	: >"$tmp/plain" && run rule add ns2 netns "$tmp/plain" &&
	fails 2 "ephportctl: netns $tmp/plain: not a network namespace" &&
	run rule add ns2 netns "$tmp/none" &&
	fails 2 "ephportctl: netns $tmp/none: No such file or directory" &&
	[ ! -e "$CFG/rules/ns2" ]
}
check_cfs "rule add netns FILE takes the namespace's inode number" t_rule_netns
rules_fixture

t_rule_exists() {
	make_rule web uid=5 &&
	run rule add web uid 6 && fails 1 'ephportctl: rule "web" exists' &&
	file_is "$CFG/rules/web/uid" 5
}
check "rule add of an existing rule is refused, the rule unchanged" t_rule_exists
rules_fixture

t_rule_write_fails() {
	rm "$FAKE_RULE/uid" && mkdir "$FAKE_RULE/uid" &&
	cfs rule add bad proto tcp uid 5 &&
	fails 1 "ephportctl: cannot write $CFG/rules/bad/uid: Is a directory" &&
	[ ! -e "$CFG/rules/bad" ]
}
check_cfs "a failed write removes the new rule again" t_rule_write_fails
rules_fixture

t_rule_attr_missing() {
	rm "$FAKE_RULE/path" &&
	cfs rule add old uid 5 path bind &&
	fails 1 "ephportctl: cannot write $CFG/rules/old/path: No such file or directory" &&
	[ ! -e "$CFG/rules/old" ]
}
check_cfs "a missing attribute (an older module) removes the new rule again" t_rule_attr_missing
rules_fixture

t_rule_usage() {
	for args in rule "rule foo" "rule add" "rule del"; do
		# shellcheck disable=SC2086
		run $args
		[ "$rc" -eq 2 ] && [ -z "$out" ] || return 1
		printf '%s\n' "$err" | grep -q "^Usage: ephportctl" || return 1
	done
	no_rules
}
check "incomplete rule commands print the usage on stderr" t_rule_usage

# bad_rule MESSAGE ARGS... - "rule add ARGS" is refused with MESSAGE, nothing made
bad_rule() {
	msg=$1
	shift
	run rule add "$@" && fails 2 "$msg" && no_rules
}

t_rule_keywords() {
	bad_rule 'Argument "colour" is unknown, try "ephportctl help".' web colour red &&
	bad_rule 'Argument "--json" is unknown, try "ephportctl help".' web --json &&
	bad_rule 'Argument "enabled" is unknown, try "ephportctl help".' web enabled 1 &&
	bad_rule 'ephportctl: "uid" needs a value' web uid &&
	bad_rule 'ephportctl: "proto" needs a value' web uid 5 proto &&
	bad_rule 'ephportctl: "cgroup" needs a value' web cgroup "" &&
	bad_rule 'ephportctl: "uid" is given twice' web uid 1 uid 2 &&
	bad_rule 'ephportctl: "range" is given twice' web range 50000 50009 range 50000-50009
}
check "rule add refuses unknown, valueless and repeated keywords" t_rule_keywords

NAME_ERR='ephportctl: a rule name is 1-15 characters of A-Z a-z 0-9 _ . -, not'
t_rule_names() {
	for n in "" 0123456789abcdef a/b "a b" . .. "web*" "wéb"; do
		bad_rule "$NAME_ERR \"$n\"" "$n" || return 1
	done
	run rule del ../rules && fails 2 "$NAME_ERR \"../rules\"" &&
	run rule del A-z_0.9-abcdefg && fails 1 'ephportctl: rule "A-z_0.9-abcdefg" does not exist'
}
check "rule names are 1-15 characters of A-Z a-z 0-9 _ . -" t_rule_names

t_rule_uid() {
	for u in x -1 5-3 1- -5 1-2-3 4294967295 0-4294967295 +5 0x10 " 5"; do
		bad_rule "ephportctl: uid must be UID or FIRST-LAST, not \"$u\"" web uid "$u" ||
			return 1
	done
}
check "rule add refuses bad uids" t_rule_uid

t_rule_range() {
	for r in "1000 2000" 50000 2000-1000 "50000 70000" "x y" 50000-; do
		# shellcheck disable=SC2086
		bad_rule "$RANGE_ERR" web range $r || return 1
	done
}
check "rule add refuses bad ranges" t_rule_range

t_rule_values() {
	bad_rule 'ephportctl: proto must be tcp or udp, not "sctp"' web proto sctp &&
	bad_rule 'ephportctl: proto must be tcp or udp, not "TCP"' web proto TCP &&
	bad_rule 'ephportctl: family must be ipv4 or ipv6, not "inet6"' web family inet6 &&
	bad_rule 'ephportctl: family must be ipv4 or ipv6, not "IPv4"' web family IPv4 &&
	bad_rule 'ephportctl: path must be connect or bind, not "listen"' web path listen &&
	bad_rule 'ephportctl: priority must be 0..65535, not "65536"' web priority 65536 &&
	bad_rule 'ephportctl: priority must be 0..65535, not "-1"' web priority -1 &&
	bad_rule 'ephportctl: netns must be an inode number or a file, not "0"' web netns 0 &&
	bad_rule 'ephportctl: netns must be an inode number or a file, not "4294967296"' \
		web netns 4294967296 &&
	bad_rule 'ephportctl: netns must be an inode number or a file, not "12x"' web netns 12x &&
	bad_rule "ephportctl: unknown strategy \"bogus\" (available: $STRATEGIES)" \
		web strategy bogus
}
check "rule add refuses bad proto, path, priority, netns and strategy" t_rule_values

t_rule_del() {
	make_rule web && make_rule other &&
	cfs rule del web && ok && [ -z "$out" ] && [ ! -e "$CFG/rules/web" ] &&
	[ -d "$CFG/rules/other" ] &&
	cfs rule del web && fails 1 'ephportctl: rule "web" does not exist' &&
	run rule del other extra && fails 2 'ephportctl: unexpected argument "extra"' &&
	[ -d "$CFG/rules/other" ]
}
check_cfs "rule del removes the rule; a missing one is an error" t_rule_del
rules_fixture

t_rule_list() {
	list_fixture
	run rule list && ok &&
	[ "$(printf '%s\n' "$out" | awk '{ print $1 }' | tr '\n' ' ')" = "name first alpha web " ] &&
	has "^name *priority *enabled *match *action *allocations *failures *probes$" &&
	has "^first  *5  *yes  *uid=0  *range=40000-40099  *0  *0  *0$" &&
	has "^alpha  *100  *no  *-  *-  *0  *0  *0$" &&
	has "^web  *100  *yes  *cgroup=/test/a uid=1000-1999 netns=4026532000 proto=tcp path=connect family=ipv4  *range=50000-50009 strategy=sequential  *20  *1  *1020$" &&
	[ "$(printf '%s\n' "$out" | awk '{ print length($0) }' | sort -u | wc -l)" -eq 1 ]
}
check "rule list: one aligned row per rule, by priority, then name" t_rule_list

t_rule_list_json() {
	run rule list --json && ok && jqe '
		map(.name) == ["first", "alpha", "web"] and
		(.[0] | keys_unsorted == ["name", "priority", "enabled", "cgroup", "uid", "netns",
					  "proto", "path", "family", "range", "strategy",
					  "allocations",
					  "failures", "probes", "max_probes"]) and
		.[2] == {"name": "web", "priority": 100, "enabled": true, "cgroup": "/test/a",
			 "uid": "1000-1999", "netns": "4026532000", "proto": "tcp",
			 "path": "connect", "family": "ipv4",
			 "range": {"low": 50000, "high": 50009},
			 "strategy": "sequential",
			 "allocations": 20, "failures": 1, "probes": 1020, "max_probes": 1000} and
		.[1] == {"name": "alpha", "priority": 100, "enabled": false, "cgroup": null,
			 "uid": null, "netns": null, "proto": null, "path": null,
			 "family": null, "range": null,
			 "strategy": null, "allocations": 0, "failures": 0, "probes": 0,
			 "max_probes": 0} and
		.[0].priority == 5 and .[0].enabled and
		.[0].range == {"low": 40000, "high": 40099}' &&
	json=$out && run -j rule list && [ "$out" = "$json" ]
}
check_json "rule list --json and -j rule list" t_rule_list_json

t_rule_list_empty() {
	rules_fixture
	run rule list && ok && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && has "^name *priority" &&
	run rule list --json && ok && [ "$out" = "[]" ]
}
check "rule list without rules: the header, or []" t_rule_list_empty

t_rule_list_bad() {
	list_fixture
	echo high >"$CFG/rules/web/priority" &&
	run rule list && fails 1 "ephportctl: unexpected value \"high\" in $CFG/rules/web/priority" &&
	list_fixture && echo 50000 >"$CFG/rules/web/range" &&
	run rule list && fails 1 "ephportctl: unexpected value \"50000\" in $CFG/rules/web/range" &&
	list_fixture && echo yes >"$CFG/rules/web/enabled" &&
	run rule list && fails 1 "ephportctl: unexpected value \"yes\" in $CFG/rules/web/enabled" &&
	list_fixture && echo "allocations 1" >"$CFG/rules/web/stats" &&
	run rule list && fails 1 "ephportctl: malformed $CFG/rules/web/stats"
}
check "rule list reports malformed attributes" t_rule_list_bad

# The kernel may add to a namespace it no longer finds: shown as it is.
t_rule_list_netns_gone() {
	list_fixture
	echo "4026532000 (gone)" >"$CFG/rules/web/netns" &&
	run rule list && ok && has "^web .* netns=4026532000 (gone) proto=tcp " &&
	run -j rule list && ok && jqe '.[2].netns == "4026532000 (gone)"'
}
check_json "rule list: a netns with a remark" t_rule_list_netns_gone

t_rule_prefix() {
	rules_fixture
	cfs rule a web pri 7 pro udp pa bind r 50000-50009 s sequential u 5 && ok &&
	r=$CFG/rules/web && file_is "$r/priority" 7 && file_is "$r/proto" udp &&
	file_is "$r/path" bind && file_is "$r/range" "50000 50009" &&
	file_is "$r/strategy" sequential && file_is "$r/uid" 5 &&
	cfs ru l && ok && has "^web  *7  *yes " &&
	cfs rule add x p tcp && ok && file_is "$CFG/rules/x/proto" tcp &&
	run rule add y u 1 uid 2 && fails 2 'ephportctl: "uid" is given twice' &&
	run rule add y pri && fails 2 'ephportctl: "priority" needs a value' &&
	run rule add y e 1 && fails 2 'Argument "e" is unknown, try "ephportctl help".' &&
	cfs ru d x && ok && [ ! -e "$CFG/rules/x" ]
}
check_cfs "rule commands and keywords are found by a prefix" t_rule_prefix
rules_fixture

t_rule_show() {
	list_fixture
	run rule show web && ok &&
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 15 ] &&
	has "^name: *web$" && has "^priority: *100$" && has "^enabled: *yes$" &&
	has "^family: *ipv4$" &&
	has "^cgroup: *\/test\/a$" && has "^uid: *1000-1999$" && has "^netns: *4026532000$" &&
	has "^range: *50000-50009$" && has "^strategy: *sequential$" &&
	has "^allocations: *20$" && has "^max_probes: *1000$" &&
	[ "$(printf '%s\n' "$out" | awk '{ print index($0, $2) }' | sort -u | wc -l)" -eq 1 ] &&
	run rule show alpha && ok && has "^enabled: *no$" && has "^uid: *-$" && has "^range: *-$" &&
	run rule list --json && list=$out &&
	run rule show web --json && ok &&
	[ "$(printf '%s\n' "$out" | jq -c .)" = "$(printf '%s\n' "$list" | jq -c '.[2]')" ] &&
	run -j rule s first && ok && jqe '.name == "first" and .range == {"low": 40000, "high": 40099}' &&
	run rule show nope && fails 1 'ephportctl: rule "nope" does not exist' &&
	run rule show a/b && fails 2 "$NAME_ERR \"a/b\"" &&
	run rule show web x && fails 2 'ephportctl: unexpected argument "x"'
}
check_json "rule show NAME: a setting a line; --json: the object of rule list" t_rule_show

t_rule_enable() {
	list_fixture
	run rule disable web && ok && [ -z "$out" ] && file_is "$CFG/rules/web/enabled" 0 &&
	run rule enable alpha && ok && file_is "$CFG/rules/alpha/enabled" 1 &&
	run rule en web && ok && file_is "$CFG/rules/web/enabled" 1 &&
	run rule di web && ok && file_is "$CFG/rules/web/enabled" 0 &&
	run rule enable nope && fails 1 'ephportctl: rule "nope" does not exist' &&
	run rule enable web now && fails 2 'ephportctl: unexpected argument "now"' &&
	run -j rule enable web && fails 2 'ephportctl: "rule enable" has no JSON output' &&
	file_is "$CFG/rules/web/enabled" 0
}
check "rule enable|disable NAME writes enabled" t_rule_enable

t_rule_set() {
	list_fixture
	r=$CFG/rules/web
	run rule set web uid 7 range 41000 41009 pri 3 && ok && [ -z "$out" ] &&
	file_is "$r/uid" 7 && file_is "$r/range" "41000 41009" && file_is "$r/priority" 3 &&
	file_is "$r/proto" tcp && file_is "$r/enabled" 1 &&
	run rule set web cgroup - strategy - range auto && ok &&
	file_is "$r/cgroup" "" && file_is "$r/strategy" "" && file_is "$r/range" auto &&
	run rule set web family ipv6 && ok && file_is "$r/family" ipv6 &&
	run rule set web family - && ok && file_is "$r/family" "" &&
	run rule set web family 6 && fails 2 'ephportctl: family must be ipv4 or ipv6, not "6"' &&
	run rule set web proto udp uid x && fails 2 'ephportctl: uid must be UID or FIRST-LAST, not "x"' &&
	file_is "$r/proto" tcp &&
	run rule set web priority - && fails 2 'ephportctl: priority must be 0..65535, not "-"' &&
	run rule set web enabled 0 && fails 2 'Argument "enabled" is unknown, try "ephportctl help".' &&
	run rule set web uid 5 proto && fails 2 'ephportctl: "proto" needs a value' &&
	run rule set nope uid 5 && fails 1 'ephportctl: rule "nope" does not exist' &&
	run -j rule set web uid 5 && fails 2 'ephportctl: "rule set" has no JSON output' &&
	file_is "$r/uid" 7 &&
	run rule set web && [ "$rc" -eq 2 ] && has_err "^Usage: ephportctl rule set NAME"
}
check "rule set NAME KEYWORD VALUE...: checked first, - unsets" t_rule_set

ktap_finished
