# SPDX-License-Identifier: GPL-2.0
#
# ephport: build the module and the tool, and run the tests in VMs booting
# Debian's cloud kernels.  See README.md.

KDIR ?= /lib/modules/$(shell uname -r)/build
# Kernel series: Debian 12's 6.1 and 6.12, and sid (Debian unstable's
# newest kernel, its module built in a gcc-16 root): make quick SERIES=sid.
SERIES ?= 6.1 6.12
# make check also runs everything on sid's kernel and on the debug kernel
# (KASAN, lockdep, ...), CHECK_JOBS series at a time (a VM is one emulated
# CPU thread), the longest first.
CHECK_SERIES ?= debug $(filter-out $(SERIES),sid) $(SERIES)
CHECK_JOBS ?= 2
EPHPORT_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/ephport
EPHPORT_BUILD ?= $(CURDIR)/.build
BENCH_OUT ?= bench-results
BENCH_ARGS ?= -r 3 -n 100
export EPHPORT_CACHE EPHPORT_BUILD BENCH_OUT

Q := selftests/qemu

all: module samples tool

module:
	@test -d "$(KDIR)" || { echo "ephport: no kernel headers at $(KDIR): install linux-headers-$$(uname -r) or pass KDIR=<headers dir>" >&2; exit 1; }
	$(MAKE) -C "$(KDIR)" M="$(CURDIR)" modules

# samples/ephport_sample.ko, a strategy module, built as one outside this
# tree would be: against ephport's Module.symvers.  Not installed.
samples: module
	$(MAKE) -C "$(KDIR)" M="$(CURDIR)/samples" \
		KBUILD_EXTRA_SYMBOLS="$(CURDIR)/Module.symvers" modules

tool:
	$(MAKE) -C tools

# Install into $(DESTDIR): the module under /lib/modules/<release>/updates
# (for the kernel of $(KDIR)), the tool, its man page and completion, a
# commented /etc/modprobe.d/ephport.conf, the systemd unit ephport.service
# (disabled: systemctl enable ephport.service) and a commented
# /etc/modules-load.d/ephport.conf.
PREFIX ?= /usr/local
KRELEASE = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
	     "$(KDIR)/include/generated/utsrelease.h" 2>/dev/null)
INSTALLED = $(DESTDIR)$(PREFIX)/sbin/ephportctl \
	    $(DESTDIR)$(PREFIX)/share/man/man8/ephportctl.8 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ephportctl \
	    $(DESTDIR)/etc/modprobe.d/ephport.conf \
	    $(DESTDIR)$(PREFIX)/lib/systemd/system/ephport.service \
	    $(DESTDIR)/etc/modules-load.d/ephport.conf

install: module tool
	$(MAKE) -C "$(KDIR)" M="$(CURDIR)" KERNELRELEASE="$(KRELEASE)" \
		INSTALL_MOD_PATH="$(DESTDIR)" INSTALL_MOD_DIR=updates modules_install
	depmod $(if $(DESTDIR),-b "$(DESTDIR)") "$(KRELEASE)"
	install -D -m 0755 tools/ephportctl $(DESTDIR)$(PREFIX)/sbin/ephportctl
	install -D -m 0644 tools/ephportctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/ephportctl.8
	install -D -m 0644 tools/ephportctl.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/ephportctl
	install -D -m 0644 etc/ephport.conf $(DESTDIR)/etc/modprobe.d/ephport.conf
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' etc/ephport.service.in \
		>$(DESTDIR)$(PREFIX)/lib/systemd/system/ephport.service
	install -D -m 0644 etc/modules-load.conf $(DESTDIR)/etc/modules-load.d/ephport.conf

uninstall:
	rm -f "$(DESTDIR)/lib/modules/$(KRELEASE)/updates/module/"ephport.ko* $(INSTALLED)
	-rmdir "$(DESTDIR)/lib/modules/$(KRELEASE)/updates/module" 2>/dev/null
	depmod $(if $(DESTDIR),-b "$(DESTDIR)") "$(KRELEASE)"

deps:
	@$(Q)/deps.sh

payload: deps
	$(MAKE) -C selftests payload

# Host unit tests, the style gate, the install test and the fresh-machine
# set-up test, then the kselftests
# in a VM of each kernel series and of the debug kernel.
check: deps
	@rm -rf "$(EPHPORT_BUILD)/logs"; mkdir -p "$(EPHPORT_BUILD)/logs"
	@$(MAKE) -s -C selftests unit payload
	@$(MAKE) -s -C tools OUT="$(EPHPORT_BUILD)/unit"
	@cd "$(EPHPORT_BUILD)/unit" && $(CURDIR)/selftests/run-tests.sh . $$(ls | grep '_test\(\.sh\)\{0,1\}$$') \
		| tee "$(EPHPORT_BUILD)/logs/host-unit.log"; true
	@SERIES="$(SERIES)" selftests/run-tests.sh selftests lint.sh install.sh fresh.sh \
		| tee "$(EPHPORT_BUILD)/logs/host-lint.log"; true
	@printf '%s\n' $(CHECK_SERIES) | EPHPORT_VM_QUIET=1 \
		EPHPORT_VM_TIMEOUT=$${EPHPORT_VM_TIMEOUT:-3600} \
		xargs -P $(CHECK_JOBS) -n 1 selftests/vm.sh check
	@selftests/tap-summary.sh "$(EPHPORT_BUILD)"/logs/*.log

# One kernel, for iterating: make quick SERIES=6.12
quick: deps
	@rm -rf "$(EPHPORT_BUILD)/logs"; mkdir -p "$(EPHPORT_BUILD)/logs"
	@$(MAKE) -s -C selftests payload
	@EPHPORT_VM_TIMEOUT=$${EPHPORT_VM_TIMEOUT:-3600} selftests/vm.sh check $(lastword $(SERIES))
	@selftests/tap-summary.sh "$(EPHPORT_BUILD)"/logs/*.log

# The benchmark: one VM boot per series; CSV and PNG in $(BENCH_OUT).
# BENCH_CLOCK=icount counts instructions instead of time (deterministic);
# BENCH_BOOTS=2 boots each series twice and compares the two runs.
bench: deps
	@rm -f "$(EPHPORT_BUILD)"/logs/*-bench*.log; mkdir -p "$(EPHPORT_BUILD)/logs"
	@$(MAKE) -s -C selftests payload
	@boots=$(or $(BENCH_BOOTS),1); for boot in $$(seq $$boots); do \
		EPHPORT_VM_TIMEOUT=$${EPHPORT_VM_TIMEOUT:-7200} \
		EPHPORT_CLOCK=$(or $(BENCH_CLOCK),wall) \
		EPHPORT_VM_CMDLINE="EPHPORT_BENCH_CLOCK=$(or $(BENCH_CLOCK),wall) EPHPORT_BENCH_ARGS=\"$(BENCH_ARGS)\"" \
		selftests/vm.sh bench $(SERIES) || exit; \
		[ "$$boots" = 1 ] || for s in $(SERIES); do \
			mv "$(EPHPORT_BUILD)/logs/$$s-bench.log" "$(EPHPORT_BUILD)/logs/$$s-bench-$$boot.log"; \
		done; \
	done
	@selftests/bench-report.sh "$(BENCH_OUT)" "$(EPHPORT_BUILD)"/logs/*-bench*.log

# The style gate: checkpatch on every C file, sparse against both kernels.
lint: deps
	@SERIES="$(SERIES)" selftests/lint.sh

# On the last series of $(SERIES) (6.12): make demo SERIES=sid for another.
demo: deps
	@$(MAKE) -s -C selftests payload
	@selftests/vm.sh demo $(lastword $(SERIES))

clean:
	$(MAKE) -C "$(KDIR)" M="$(CURDIR)" clean 2>/dev/null || true
	$(MAKE) -C "$(KDIR)" M="$(CURDIR)/samples" clean 2>/dev/null || true
	$(MAKE) -C tools clean
	rm -rf "$(EPHPORT_BUILD)"

.PHONY: all module samples tool install uninstall deps payload check quick bench lint demo clean
