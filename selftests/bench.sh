#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# VM side of "make bench": run the benchmark once; the host extracts the
# "bench-csv:" lines from the console log.  Arguments for ephport_bench
# come from $EPHPORT_BENCH_ARGS (set through the kernel command line).

echo "# bench: $(uname -r), $(nproc) CPUs"
ephport_bench $EPHPORT_BENCH_ARGS
