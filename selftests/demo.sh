#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# VM side of "make demo": ephport's main job, end to end.

say() {
	printf '\n\033[1m==> %s\033[0m\n' "$*"
}

run() {
	printf '$ %s\n' "$*"
	"$@"
}

say "The stock kernel picks local ports from net.ipv4.ip_local_port_range:"
run cat /proc/sys/net/ipv4/ip_local_port_range
ephport_sock listen 8080 &
listener=$!
sleep 1
run ephport_sock connect 8080 3

say "Load ephport with a range of its own and the sequential strategy"
run insmod "$EPHPORT_KO" range=40000-40009 strategy=sequential
run ephportctl status

say "TCP connect(), IPv4 and IPv6, bind(0) and UDP now get ports from 40000-40009"
run ephport_sock connect 8080 3
ephport_sock -6 listen 8080 &
listener6=$!
sleep 1
run ephport_sock -6 connect 8080 2
run ephport_sock bind 2
run ephport_sock udp 9999 2

say "Be warned at 50 % of the range: one kernel message, one ephport_occupancy event"
run ephportctl set warn-pct 50
run sh -c 'echo 1 > /sys/kernel/tracing/events/ephport/ephport_occupancy/enable'

say "Ten ports, one destination: the 11th connection finds none (EADDRNOTAVAIL)"
printf '$ %s\n' "ephport_sock -w 6 connect 8080 11 &    # held for 6 s"
ephport_sock -w 6 connect 8080 11 &
holder=$!
sleep 2

say "The warning fired on the way: the kernel log and the tracepoint"
run sh -c 'dmesg | grep warn_pct'
run sh -c 'grep -o "ephport_occupancy: .*" /sys/kernel/tracing/trace'

say "Why did connect() fail? The log keeps failures: errno, destination, probes, who"
run ephportctl log --failures
run ephportctl status
wait $holder

say "Switch to RFC 6056 double-hash at run time, with a wider range"
run ephportctl set strategy double-hash
run ephportctl set range 50000 59999
run ephport_sock connect 8080 3

say "What the module saw, in this network namespace"
run ephportctl stats
run ephportctl log -n 8
run cat /proc/net/ephport/stats

say "Bad input is refused and changes nothing"
run ephportctl set range 80 90
run ephportctl set strategy nope
run cat /sys/kernel/ephport/range /sys/kernel/ephport/strategy

say "Unload: back to the stock allocator"
run rmmod ephport
run ephport_sock connect 8080 2
kill $listener $listener6 2>/dev/null
echo
echo "ephport demo: done"
