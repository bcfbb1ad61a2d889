#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ephportctl_save_test.sh - host tests of the control tool: save, -b (batch) and bash completion
# (helpers and fixtures: ephportctl_lib.sh).

# "run enable" runs the tool, not the shell builtin:
# shellcheck disable=SC3044
# shellcheck source=ephportctl_lib.sh
. "$(dirname "$0")/ephportctl_lib.sh"
ktap_set_plan 12
fixture

# ---- save and -b (batch) ----

t_save() {
	list_fixture
	echo "my cgroup" >"$CFG/rules/alpha/cgroup"
	run save && ok && printf '%s\n' "$out" >"$tmp/want" && cat >"$tmp/expect" <<-EOF &&
	# ephportctl -b FILE applies this (ephportctl save, $(cat "$VERSION_FILE"))
	set range 40000 49999
	set strategy sequential
	set random-inc 500
	set warn-pct 80
	rule flush
	rule add first uid 0 range 40000 40099 priority 5
	rule add alpha cgroup "my cgroup" priority 100
	rule disable alpha
	# netns 4026532000: an inode number, valid until the namespace goes
	rule add web cgroup /test/a uid 1000-1999 netns 4026532000 proto tcp path connect family ipv4 range 50000 50009 strategy sequential priority 100
	enable
	EOF
	diff -u "$tmp/expect" "$tmp/want" >&2 &&
	run save "$tmp/saved" && ok && [ -z "$out" ] && cmp -s "$tmp/saved" "$tmp/want" &&
	echo auto >"$SYS/range" && echo 0 >"$SYS/enabled" && rm -rf "$CFG/rules"/* &&
	run save && ok && has "^set range auto$" && has "^disable$" && ! has "^rule add" &&
	chmod 0444 "$PARAMS/random_inc_n" && run save && ok && ! has random-inc &&
	make_rule old "netns=4026532001 (gone)" && run save && ok &&
	has "^# netns 4026532001 (gone): the namespace is gone$" &&
	has '^# rule add old netns "4026532001 (gone)" priority 100$' &&
	has "^# rule disable old$" &&
	run save "$tmp/no/such" &&
	fails 1 "ephportctl: cannot write $tmp/no/such: No such file or directory" &&
	run save a b && fails 2 'ephportctl: unexpected argument "b"'
}
check "save prints the settings and the rules as commands" t_save

# Save, change everything, restore with -b, save again: the same file.
t_batch_roundtrip() {
	fixture
	list_fixture
	mkdir -p "$CG/my cgroup" && echo "/my cgroup" >"$CFG/rules/alpha/cgroup" &&
	cfs save "$tmp/saved" && ok &&
	echo "41000 41999" >"$SYS/range" && echo hash >"$SYS/strategy" &&
	echo 9 >"$PARAMS/random_inc_n" &&
	echo 0 >"$SYS/enabled" && make_rule extra && echo 7 >"$CFG/rules/web/priority" &&
	rm -r "$CFG/rules/first" &&
	cfs save "$tmp/changed" && ok && ! cmp -s "$tmp/saved" "$tmp/changed" &&
	cfs -b "$tmp/saved" && ok && [ -z "$out" ] &&
	cfs save "$tmp/again" && ok && cmp "$tmp/saved" "$tmp/again" >&2 &&
	file_is "$SYS/range" "40000 49999" && file_is "$SYS/enabled" 1 &&
	file_is "$PARAMS/random_inc_n" 500 && [ ! -e "$CFG/rules/extra" ] &&
	cfs --batch - <"$tmp/changed" && ok && cfs save && ok &&
	[ "$out" = "$(cat "$tmp/changed")" ]
}
check_cfs "save, change, -b restores, save again: the same file" t_batch_roundtrip

# batch_in TEXT - -b - with the lines of TEXT (printf's format) on stdin
batch_in() {
	# shellcheck disable=SC2059
	printf "$1" >"$tmp/in"
	cfs -b - <"$tmp/in"
}
t_batch_error() {
	fixture
	list_fixture
	cat >"$tmp/batch" <<-'EOF'
	# a comment, then a blank line

	ephportctl set range 41000-41999
	set strategy 'hash'   # a comment after the words
	set strategy bogus
	disable
	EOF
	cfs -b "$tmp/batch" &&
	fails 2 "ephportctl: $tmp/batch:5: unknown strategy \"bogus\" (available: $STRATEGIES)" &&
	file_is "$SYS/range" "41000 41999" && file_is "$SYS/strategy" hash &&
	file_is "$SYS/enabled" 1 &&
	batch_in 'enable\nrule frob x\ndisable\n' && [ "$rc" -eq 2 ] &&
	has_err "^stdin:2: incomplete command$" && has_err "^Usage: ephportctl rule COMMAND" &&
	file_is "$SYS/enabled" 1 &&
	batch_in 'frob\n' &&
	fails 2 'stdin:1: Command "frob" is unknown, try "ephportctl help".' &&
	batch_in 'rule add web\ndisable\n' &&
	fails 1 'ephportctl: stdin:1: rule "web" exists' && file_is "$SYS/enabled" 1 &&
	batch_in 'set range "1 2\n' &&
	fails 2 'ephportctl: stdin:1: unterminated quote' &&
	batch_in 'status\nstats\n' && ok && has "^strategy: *hash$" &&
	has "^path *allocations" &&
	run -b "$tmp/none" && fails 1 "ephportctl: cannot read $tmp/none: No such file or directory" &&
	run -b && fails 2 'ephportctl: -b needs one FILE (- for stdin)' &&
	run -b x y && fails 2 'ephportctl: -b needs one FILE (- for stdin)'
}
check_cfs "-b stops at the first bad line with FILE:LINE, the lines before applied" t_batch_error

t_rule_flush() {
	list_fixture
	cfs rule flush && ok && no_rules && cfs rule flush && ok &&
	run rule flush x && fails 2 'ephportctl: unexpected argument "x"'
}
check_cfs "rule flush deletes every rule" t_rule_flush
rules_fixture
rules_fixture

no_configfs() {
	for args in "rule list" "rule add web" "rule del web"; do
		# shellcheck disable=SC2086
		run $args
		fails 1 "ephportctl: $tmp/none: not found (is configfs mounted and the module loaded?)" ||
			return 1
	done
}
t_rule_no_configfs() {
	EPHPORT_CONFIGFS=$tmp/none
	no_configfs
	r=$?
	EPHPORT_CONFIGFS=$CFG
	return $r
}
check "rule commands report a missing configfs directory" t_rule_no_configfs

t_rule_nojson() {
	make_rule web &&
	run -j rule add x && fails 2 'ephportctl: "rule add" has no JSON output' &&
	run -j rule del web && fails 2 'ephportctl: "rule del" has no JSON output' &&
	[ -d "$CFG/rules/web" ] && [ ! -e "$CFG/rules/x" ]
}
check "-j with rule add or rule del is refused" t_rule_nojson
rules_fixture

# As nobody, or without write access to the rules directory.
t_rule_denied() {
	make_rule web
	[ "$(id -u)" -eq 0 ] || chmod 0555 "$CFG/rules"
	for args in "rule add x uid 5" "rule del web"; do
		# shellcheck disable=SC2086
		$NOBODY $args >"$tmp/out" 2>"$tmp/err"
		rc=$?
		out=$(cat "$tmp/out")
		err=$(cat "$tmp/err")
		fails 1 "$NO_ROOT" || break
	done
	r=$?
	chmod 0755 "$CFG/rules"
	[ $r -eq 0 ] && [ -d "$CFG/rules/web" ] && [ ! -e "$CFG/rules/x" ]
}
if [ -n "$NOBODY" ]; then
	check "permission denied: rule add, rule del" t_rule_denied
else
	ktap_test_skip "permission denied: rule add, rule del (cannot drop privileges)"
fi
rules_fixture

# The per-path table, then a per-rule one.
rule_stats() {
	fixture
	# the path and occupancy tables, then the rules, as the module has them
	awk '!NF && ++blank == 2 { exit } { print }' "$PROC/stats" >"$tmp/stats"
	cat >>"$tmp/stats" <<-'EOF'

	rule            priority enabled allocations   failures     probes max_probes
	web                  100       1          20          1       1020       1000
	batch                200       0           0          0          0          0
	EOF
	mv "$tmp/stats" "$PROC/stats"
}

t_stats_rules() {
	rule_stats
	run stats && ok && has "^tcp4-connect *20 *1 *1020 *1000 *51.00$" &&
	[ "$(printf '%s\n' "$out" | tail -4 | head -1)" = "" ] &&
	has "^rule *priority *enabled *allocations *failures *probes *max_probes *probes/alloc$" &&
	has "^web *100 *yes *20 *1 *1020 *1000 *51.00$" &&
	has "^batch *200 *no *0 *0 *0 *0 *0.00$" &&
	sed -i 's/^\(web *100 *\)1/\12/' "$PROC/stats" &&
	run stats && fails 1 "ephportctl: malformed enabled \"2\" in $PROC/stats"
}
check "stats shows the per-rule table after the per-path ones" t_stats_rules

t_stats_rules_json() {
	rule_stats
	run stats --json && ok && jqe '
		keys_unsorted == ["paths", "rules"] and
		(.paths | keys_unsorted ==
			["tcp4-connect", "tcp6-connect", "tcp-bind", "udp4", "udp6"]) and
		.paths["tcp4-connect"].allocations == 20 and
		.rules == [{"name": "web", "priority": 100, "enabled": true, "allocations": 20,
			    "failures": 1, "probes": 1020, "max_probes": 1000},
			   {"name": "batch", "priority": 200, "enabled": false, "allocations": 0,
			    "failures": 0, "probes": 0, "max_probes": 0}]' &&
	sed -i '/^web/d; /^batch/d' "$PROC/stats" &&
	run stats --json && ok && jqe '.rules == []' &&
	run stats && ok && ! has "^rule"
}
check_json "stats --json has the rules; none: [] and no text table" t_stats_rules_json
fixture

# The text format of node_exporter's textfile collector: every sample line
# is NAME{LABELS} VALUE of a metric announced by # HELP and # TYPE.
prom_valid() {
	printf '%s\n' "$out" | awk '
		/^# HELP ephport_[a-z_]+ ./ { help[$3] = 1; next }
		/^# TYPE ephport_[a-z_]+ (counter|gauge|histogram)$/ { type[$3] = $4; next }
		{
			if (!match($0, /^ephport_[a-z_]+(\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*\})? [0-9]+$/))
				exit 1
			m = $0; sub(/[{ ].*/, "", m); base = m
			sub(/_(bucket|sum|count)$/, "", base)
			if (!(m in type) && type[base] != "histogram") exit 1
			if (!(m in help) && !(base in help)) exit 1
		}'
}
t_stats_prometheus() {
	rule_stats
	run stats --format prometheus && ok && prom_valid &&
	has '^# TYPE ephport_allocations_total counter$' &&
	has '^ephport_allocations_total{path="tcp4-connect"} 20$' &&
	has '^ephport_failures_total{path="tcp4-connect"} 1$' &&
	has '^ephport_probes_total{path="tcp-bind"} 5$' &&
	has '^ephport_max_probes{path="tcp4-connect"} 1000$' &&
	has '^# TYPE ephport_probes_per_allocation histogram$' &&
	has '^ephport_probes_per_allocation_bucket{path="tcp-bind",le="1"} 1$' &&
	has '^ephport_probes_per_allocation_bucket{path="tcp-bind",le="3"} 3$' &&
	has '^ephport_probes_per_allocation_bucket{path="tcp-bind",le="1023"} 3$' &&
	has '^ephport_probes_per_allocation_bucket{path="tcp4-connect",le="+Inf"} 21$' &&
	has '^ephport_probes_per_allocation_sum{path="tcp4-connect"} 1020$' &&
	has '^ephport_probes_per_allocation_count{path="tcp4-connect"} 21$' &&
	[ "$(printf '%s\n' "$out" | grep -c 'le="+Inf"')" -eq 5 ] &&
	has '^ephport_enabled 1$' &&
	has '^ephport_rule_enabled{rule="batch"} 0$' &&
	has '^ephport_rule_allocations_total{rule="web"} 20$' &&
	has '^ephport_rule_max_probes{rule="web"} 1000$' &&
	has '^# TYPE ephport_ports_used gauge$' &&
	has '^ephport_ports_used{protocol="tcp"} 8500$' &&
	has '^ephport_ports_free{protocol="udp"} 9997$' && has '^ephport_warn_pct 80$' &&
	! has future && ! has 77 &&
	run stats --format p && ok && prom_valid &&
	run stats --format json && ok && jqe '.paths["tcp4-connect"].allocations == 20' &&
	run stats --format yaml &&
	fails 2 'ephportctl: --format must be text, json or prometheus, not "yaml"' &&
	run -j stats --format prometheus &&
	fails 2 'ephportctl: --format prometheus and --json exclude each other'
}
check_json "stats --format prometheus: counters, gauges, a histogram, per rule" t_stats_prometheus
fixture

# ---- bash completion ----

# complete WORDS... - COMPREPLY for completing the last word, one per line
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
		 COMP_LINE="$*"; _ephportctl; printf "%s\n" "${COMPREPLY[@]}"' \
		bash "$COMPLETION" "$@"
}
t_completion() {
	[ "$(complete_words ephportctl "" | sort | tr '\n' ' ')" = \
	  "disable enable help log reset rule save set stats status watch " ] &&
	[ "$(complete_words ephportctl s | sort | tr '\n' ' ')" = "save set stats status " ] &&
	[ "$(complete_words ephportctl set "" | tr '\n' ' ')" = "range strategy random-inc warn-pct " ] &&
	[ "$(complete_words ephportctl -j set strategy random- | tr '\n' ' ')" = \
	  "random-start random-pick random-inc " ] &&
	[ "$(complete_words ephportctl set range "" | tr '\n' ' ')" = "auto " ] &&
	[ "$(complete_words ephportctl log -- | sort | tr '\n' ' ')" = \
	  "--comm --failures --follow --json --path --pid --port --pretty --rule --wall " ] &&
	[ "$(complete_words ephportctl log --path c | tr '\n' ' ')" = "connect " ] &&
	[ "$(complete_words ephportctl stats --format p | tr '\n' ' ')" = "prometheus " ] &&
	[ "$(complete_words ephportctl watch - | tr '\n' ' ')" = "-i -n -j --json -p --pretty " ] &&
	[ "$(complete_words ephportctl -b "$here/ephportctl_test." | tr '\n' ' ')" = \
	  "$here/ephportctl_test.sh " ] &&
	[ "$(complete_words ephportctl watch -i "" | wc -w)" -eq 0 ] &&
	[ "$(complete_words ephportctl --j | tr '\n' ' ')" = "--json " ] &&
	[ "$(complete_words ephportctl --p | tr '\n' ' ')" = "--pretty " ] &&
	[ "$(complete_words ephportctl s "" | tr '\n' ' ')" = "range strategy random-inc warn-pct " ] &&
	[ "$(complete_words ephportctl se st random-s | tr '\n' ' ')" = "random-start " ] &&
	[ "$(complete_words ephportctl st "" | tr '\n' ' ')" = "-j --json -p --pretty " ]
}
t_completion_rules() {
	rules_fixture
	make_rule web && make_rule batch &&
	[ "$(complete_words ephportctl rule "" | tr '\n' ' ')" = \
	  "add del list show set enable disable flush " ] &&
	[ "$(complete_words ephportctl rule show "" | sort | tr '\n' ' ')" = "batch web " ] &&
	[ "$(complete_words ephportctl rule set web "" | tr '\n' ' ')" = \
	  "cgroup uid netns proto path family range strategy priority " ] &&
	[ "$(complete_words ephportctl rule set web pro "" | tr '\n' ' ')" = "tcp udp " ] &&
	[ "$(complete_words ephportctl rule del "" | sort | tr '\n' ' ')" = "batch web " ] &&
	[ "$(complete_words ephportctl rule list - | tr '\n' ' ')" = "-j --json -p --pretty " ] &&
	[ "$(complete_words ephportctl ru d "" | sort | tr '\n' ' ')" = "batch web " ] &&
	[ "$(complete_words ephportctl rule a web pro "" | tr '\n' ' ')" = "tcp udp " ] &&
	[ "$(complete_words ephportctl rule add web pri 5 p | tr '\n' ' ')" = "proto path " ] &&
	[ "$(complete_words ephportctl rule add "" | wc -w)" -eq 0 ] &&
	[ "$(complete_words ephportctl rule add uid "" | tr '\n' ' ')" = \
	  "cgroup uid netns proto path family range strategy priority " ] &&
	[ "$(complete_words ephportctl rule add web uid 5 p | tr '\n' ' ')" = \
	  "proto path priority " ] &&
	[ "$(complete_words ephportctl rule add web proto "" | tr '\n' ' ')" = "tcp udp " ] &&
	[ "$(complete_words ephportctl rule add web path "" | tr '\n' ' ')" = "connect bind " ] &&
	[ "$(complete_words ephportctl rule add web fam "" | tr '\n' ' ')" = "ipv4 ipv6 " ] &&
	[ "$(complete_words ephportctl -j rule add web strategy random- | tr '\n' ' ')" = \
	  "random-start random-pick random-inc " ] &&
	[ "$(complete_words ephportctl rule add web range 50000 "" | wc -w)" -eq 0 ] &&
	[ "$(complete_words ephportctl rule add web range 50000 50009 "" | tr '\n' ' ')" = \
	  "cgroup uid netns proto path family strategy priority " ] &&
	[ "$(complete_words ephportctl rule add web cgroup "$CG/te")" = "$CG/test" ]
}
COMPLETION=${EPHPORT_COMPLETION:-$here/ephportctl.bash-completion}
[ -f "$COMPLETION" ] || COMPLETION=./ephportctl.bash-completion
if command -v bash >/dev/null && [ -f "$COMPLETION" ]; then
	check "bash completion of commands, strategies and options" t_completion
	check "bash completion of rule commands, names, keywords and values" t_completion_rules
else
	ktap_test_skip "bash completion (no bash or no $COMPLETION)"
	ktap_test_skip "bash completion of rules (no bash or no $COMPLETION)"
fi

ktap_finished
