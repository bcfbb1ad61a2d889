// SPDX-License-Identifier: GPL-2.0
/*
 * ephportctl - the output layer: one code path for text and JSON, as
 * iproute2's print_uint(PRINT_ANY, "key", "fmt", v) does it.
 *
 * A command describes its output once.  Every print_*() names its JSON key
 * and its text format; PRINT_TEXT or PRINT_JSON limits it to one of the
 * two.  In JSON, open_object()/open_array() nest (with a key inside an
 * object, without one inside an array or at the top); in text they do
 * nothing.  In text, between table_open() and table_close() every value is
 * a cell of the open table, printed with its columns aligned on close;
 * elsewhere it is printed with its format.
 */
#define _GNU_SOURCE
#include <string.h>

#include "ephportctl.h"
#include "json.h"

bool json_output, pretty_output;
static struct json_writer jw;
static struct table *text_table;

static bool json_wants(enum output_type t, const char *key)
{
	if (!json_output || !(t & PRINT_JSON))
		return false;
	if (!jw.out)
		jw_init(&jw, stdout, pretty_output);
	if (key)
		jw_name(&jw, key);
	return true;
}

static bool text_wants(enum output_type t)
{
	return !json_output && (t & PRINT_TEXT);
}

/* A text value: a cell of the open table, or printed. */
static void text_print(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (text_table)
		vcell(text_table, fmt, ap);
	else
		vprintf(fmt, ap);
	va_end(ap);
}

/* The next JSON value starts a new line of its own (JSON Lines). */
void json_reset(void)
{
	jw.out = NULL;
}

/* Call one of the writer's start or end functions in JSON output. */
static void json_nest(const char *key, void (*fn)(struct json_writer *w))
{
	if (json_wants(PRINT_JSON, key))
		fn(&jw);
}

void open_object(const char *key)
{
	json_nest(key, jw_start_object);
}

void close_object(void)
{
	json_nest(NULL, jw_end_object);
}

void open_array(const char *key)
{
	json_nest(key, jw_start_array);
}

void close_array(void)
{
	json_nest(NULL, jw_end_array);
}

/* Text: collect cells into t, starting with the n header cells. */
void table_open(struct table *t, const char * const *header, int n)
{
	int i;

	if (json_output)
		return;
	text_table = t;
	for (i = 0; i < n; i++)
		cell(t, "%s", header[i]);
}

void table_close(void)
{
	if (!text_table)
		return;
	table_print(text_table);
	text_table = NULL;
}

void print_string(enum output_type t, const char *key, const char *fmt, const char *s)
{
	if (json_wants(t, key))
		jw_string(&jw, s);
	else if (text_wants(t))
		text_print(fmt, s);
}

/* A value that may be absent: "" or the kernel's "-", null in JSON, "-" in text. */
void print_opt_string(enum output_type t, const char *key, const char *fmt, const char *s)
{
	if (*s && strcmp(s, "-"))
		print_string(t, key, fmt, s);
	else
		print_null(t, key, fmt, "-");
}

void print_uint(enum output_type t, const char *key, const char *fmt, unsigned long long v)
{
	if (json_wants(t, key))
		jw_uint(&jw, v);
	else if (text_wants(t))
		text_print(fmt, v);
}

/* JSON always has three decimals; the text has its format. */
void print_float(enum output_type t, const char *key, const char *fmt, double v)
{
	if (json_wants(t, key))
		jw_float(&jw, "%.3f", v);
	else if (text_wants(t))
		text_print(fmt, v);
}

/* A JSON literal (a number, true, false, null) and its text, a string. */
static void print_literal(enum output_type t, const char *key, const char *fmt,
			  const char *json, const char *text)
{
	if (json_wants(t, key))
		jw_raw(&jw, json);
	else if (text_wants(t))
		text_print(fmt, text);
}

/* Text: "yes" or "no" */
void print_bool(enum output_type t, const char *key, const char *fmt, bool v)
{
	print_literal(t, key, fmt, v ? "true" : "false", v ? "yes" : "no");
}

/* JSON null; the text shows what stands for nothing there. */
void print_null(enum output_type t, const char *key, const char *fmt, const char *text)
{
	print_literal(t, key, fmt, "null", text);
}

/* A number as the kernel wrote it ("123.456789"), checked by the caller. */
void print_number(enum output_type t, const char *key, const char *fmt, const char *num)
{
	print_literal(t, key, fmt, num, num);
}

/*
 * A range attribute, checked by the caller: "LOW HIGH" is
 * {"low": LOW, "high": HIGH} in JSON and LOW-HIGH in text; "auto" is
 * "auto"; "" (a rule without a range) is null.
 */
void print_range(enum output_type t, const char *key, const char *fmt, const char *value)
{
	unsigned long long low, high;
	char buf[64];

	if (!parse_range_attr(value, &low, &high)) {
		print_opt_string(t, key, fmt, value);
		return;
	}
	if (json_wants(t, key)) {
		jw_start_object(&jw);
		jw_name(&jw, "low");
		jw_uint(&jw, low);
		jw_name(&jw, "high");
		jw_uint(&jw, high);
		jw_end_object(&jw);
	} else if (text_wants(t)) {
		snprintf(buf, sizeof(buf), "%llu-%llu", low, high);
		text_print(fmt, buf);
	}
}
