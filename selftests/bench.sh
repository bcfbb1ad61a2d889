#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# VM side of "make bench": run the benchmark once; the host extracts the
# "bench-csv:" lines from the console log.  Arguments for ephport_bench
# come from $EPHPORT_BENCH_ARGS, the clock the VM runs on (wall or icount)
# from $EPHPORT_BENCH_CLOCK (both set through the kernel command line).

echo "# bench: $(uname -r), $(nproc) CPUs, clock ${EPHPORT_BENCH_CLOCK:-wall}"
ephport_bench -c "${EPHPORT_BENCH_CLOCK:-wall}" $EPHPORT_BENCH_ARGS
