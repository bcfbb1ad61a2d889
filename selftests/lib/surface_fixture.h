/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture of the surface_*_test programs, included after
 * kselftest_harness.h: each test starts from fresh_module() (the module is
 * loaded once a program, with its default parameters) and may make its
 * own network namespace; the program unloads the module before and after.
 */
#ifndef _EPHPORT_SURFACE_FIXTURE_H
#define _EPHPORT_SURFACE_FIXTURE_H

#include "surface.h"

#define TRACING		"/sys/kernel/tracing"
#define TP_DIR		TRACING "/events/ephport/ephport_alloc"

FIXTURE(surface) {
	int listener[2];
};

FIXTURE_SETUP(surface)
{
	self->listener[0] = -1;
	self->listener[1] = -1;
	ASSERT_EQ(0, fresh_module());
}

FIXTURE_TEARDOWN(surface)
{
	if (self->listener[0] >= 0)
		close(self->listener[0]);
	if (self->listener[1] >= 0)
		close(self->listener[1]);
	if (!access(TP_DIR "/enable", W_OK))
		ep_write(TP_DIR "/enable", "0");
}

int main(int argc, char **argv)
{
	int ret;

	ep_unload();
	ret = test_harness_run(argc, argv);
	ep_unload();
	return ret;
}

#endif /* _EPHPORT_SURFACE_FIXTURE_H */
