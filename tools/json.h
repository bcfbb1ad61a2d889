/* SPDX-License-Identifier: GPL-2.0 */
/* ephportctl - the JSON writer of json.c, used by output.c */
#ifndef EPHPORTCTL_JSON_H
#define EPHPORTCTL_JSON_H

#include <stdbool.h>
#include <stdio.h>

#define JSON_DEPTH_MAX 8

struct json_writer {
	FILE *out;
	bool pretty;
	bool named;			/* a name was written, its value follows */
	int depth;
	bool first[JSON_DEPTH_MAX];	/* nothing written yet at this depth */
};

void jw_init(struct json_writer *w, FILE *out, bool pretty);
void jw_name(struct json_writer *w, const char *name);
void jw_start_object(struct json_writer *w);
void jw_end_object(struct json_writer *w);
void jw_start_array(struct json_writer *w);
void jw_end_array(struct json_writer *w);
void jw_string(struct json_writer *w, const char *s);
void jw_raw(struct json_writer *w, const char *s);
void jw_uint(struct json_writer *w, unsigned long long v);
void jw_float(struct json_writer *w, const char *fmt, double v);

#endif /* EPHPORTCTL_JSON_H */
