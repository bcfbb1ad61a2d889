#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench-report.sh OUTDIR LOG... - turn the benchmark's console logs into
# OUTDIR/<series>.csv and OUTDIR/<series>.png (time per operation against
# occupancy, a panel per workload, a line per allocator), and
# OUTDIR/<series>-rules.csv (the cost of walking past the rules).  A log's series
# is its file name up to the first "-" (6.12-bench.log -> 6.12).

set -eu

out=${1:?usage: bench-report.sh OUTDIR LOG...}
shift
mkdir -p "$out"
for log in "$@"; do
	series=$(basename "$log" | sed 's/-.*//')
	csv=$out/$series.csv
	tr -d '\r' <"$log" | sed -n 's/^bench-csv: //p' >"$csv"
	if [ "$(wc -l <"$csv")" -le 1 ]; then
		echo "bench-report: no results in $log" >&2
		exit 1
	fi
	echo "# $csv"
	column -s, -t <"$csv" 2>/dev/null || cat "$csv"
	# The scoped-policy lookup cost, when measured.
	rules=$out/$series-rules.csv
	tr -d '\r' <"$log" | sed -n 's/^bench-rules-csv: //p' >"$rules"
	if [ -s "$rules" ]; then
		echo "# $rules"
		column -s, -t <"$rules" 2>/dev/null || cat "$rules"
	else
		rm -f "$rules"
	fi
	command -v gnuplot >/dev/null || continue
	gnuplot <<GP
set datafile separator ","
set terminal pngcairo size 1400,1000 noenhanced
set output "$out/$series.png"
set multiplot layout 2,2 title "ephport, Debian $series kernel (software emulation): median time per operation"
set logscale y
set xlabel "occupancy (%)"
set ylabel "ns per operation"
set key top left
allocs = system("awk -F, 'NR > 1 && !seen[\$3]++ { printf \"%s \", \$3 }' $csv")
do for [w in "connect-filled connect-scattered bind-scattered udp-scattered"] {
	set title w
	plot for [a in allocs] sprintf("< awk -F, '\$1 == \"%s\" && \$3 == \"%s\" && \$4 != \"\"' $csv", w, a) \
		using 2:4 with linespoints title a
}
unset multiplot
GP
	echo "# $out/$series.png"
done
