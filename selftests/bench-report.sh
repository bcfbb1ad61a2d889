#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench-report.sh OUTDIR LOG... - turn the benchmark's console logs into
# OUTDIR/<series>.csv and OUTDIR/<series>.png (time, or instructions with
# BENCH_CLOCK=icount, per operation against occupancy, a panel per
# workload, a line per allocator), OUTDIR/<series>-rules.csv (the cost
# of walking past the rules) and OUTDIR/<series>-netns.csv (netns-churn).
# A log's series is its file name up to the first "-" (6.12-bench.log ->
# 6.12).  Further logs of a series (make bench
# BENCH_BOOTS=2: 6.12-bench-1.log, 6.12-bench-2.log) go to
# OUTDIR/<series>-boot<N>.csv, and each cell is compared with the first
# boot's: the difference in percent, and the largest.

set -eu

out=${1:?usage: bench-report.sh OUTDIR LOG...}
shift
mkdir -p "$out"
seen=" "

# OUTDIR/<series>-KIND.csv from the "bench-KIND-csv: " lines of $log, if any.
extra() {
	f=$out/$series-$1.csv
	tr -d '\r' <"$log" | sed -n "s/^bench-$1-csv: //p" >"$f"
	if [ -s "$f" ]; then
		echo "# $f"
		column -s, -t <"$f" 2>/dev/null || cat "$f"
	else
		rm -f "$f"
	fi
}

for log in "$@"; do
	series=$(basename "$log" | sed 's/-.*//')
	csv=$out/$series.csv
	case $seen in
	*" $series "*)
		# A further boot of this series: compare it with the first.
		boot=$(basename "$log" .log | sed -n 's/.*-\([0-9]*\)$/\1/p')
		again=$out/$series-boot${boot:-2}.csv
		tr -d '\r' <"$log" | sed -n 's/^bench-csv: //p' >"$again"
		echo "# $again against $csv: median per operation, boot 1, this boot, difference"
		awk -F, 'NR == FNR { if (FNR > 1) m[$1 "," $2 "," $3] = $4; next }
			 FNR > 1 && ($1 "," $2 "," $3) in m && m[$1 "," $2 "," $3] > 0 {
				a = m[$1 "," $2 "," $3]
				d = ($4 - a) / a * 100
				ad = d < 0 ? -d : d
				if (ad > max)
					max = ad
				printf "%-18s %3s %-14s %10s %10s %+8.2f %%\n", $1, $2, $3, a, $4, d
				n++
			 }
			 END { printf "# %d cells, largest difference %.2f %%\n", n, max }' \
			"$csv" "$again"
		continue
		;;
	esac
	seen="$seen$series "
	tr -d '\r' <"$log" | sed -n 's/^bench-csv: //p' >"$csv"
	if [ "$(wc -l <"$csv")" -le 1 ]; then
		echo "bench-report: no results in $log" >&2
		exit 1
	fi
	echo "# $csv"
	column -s, -t <"$csv" 2>/dev/null || cat "$csv"
	# The scoped-policy lookup cost and netns-churn, when measured.
	extra rules
	extra netns
	command -v gnuplot >/dev/null || continue
	if head -1 "$csv" | grep -q median_insns; then
		what="instructions per operation (QEMU icount)" unit=instructions
	else
		what="median time per operation" unit=ns
	fi
	# A single occupancy or workload gives panels gnuplot cannot draw.
	gnuplot <<GP || { echo "bench-report: no plot for $series" >&2; continue; }
set datafile separator ","
set terminal pngcairo size 1400,1000 noenhanced
set output "$out/$series.png"
set multiplot layout 2,2 title "ephport, Debian $series kernel (software emulation): $what"
set logscale y
set xlabel "occupancy (%)"
set ylabel "$unit per operation"
set key top left
allocs = system("awk -F, 'NR > 1 && !seen[\$3]++ { printf \"%s \", \$3 }' $csv")
do for [w in "connect-filled connect-scattered bind-scattered udp-scattered"] {
	set title w
	plot for [a in allocs] sprintf("< awk -F, '\$1 == \"%s\" && \$3 == \"%s\" && \$4 != \"\"' $csv", w, a) \\
		using 2:4 with linespoints title a
}
unset multiplot
GP
	echo "# $out/$series.png"
done
