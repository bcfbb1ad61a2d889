// SPDX-License-Identifier: GPL-2.0
/*
 * ephportctl - a small JSON writer: objects and arrays nest, the writer
 * puts the commas, and with pretty printing the newlines and indentation
 * (two blanks a level, "key": value).  Without it, one value on one line.
 * Strings are escaped, invalid UTF-8 becomes U+FFFD.
 */
#include <string.h>

#include "ephportctl.h"
#include "json.h"

void jw_init(struct json_writer *w, FILE *out, bool pretty)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->pretty = pretty;
	w->first[0] = true;
}

static void jw_indent(struct json_writer *w)
{
	int i;

	if (!w->pretty)
		return;
	putc('\n', w->out);
	for (i = 0; i < w->depth; i++)
		fputs("  ", w->out);
}

/* What comes before a value or a name: a comma, a new line. */
static void jw_sep(struct json_writer *w)
{
	if (w->named) {
		w->named = false;
		return;
	}
	if (!w->first[w->depth])
		putc(',', w->out);
	w->first[w->depth] = false;
	if (w->depth)
		jw_indent(w);
}

/* Length of the valid UTF-8 sequence at p, 0 if invalid. */
static int utf8_len(const unsigned char *p)
{
	unsigned int c = p[0], min, n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

static void jw_quoted(struct json_writer *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n;

	putc('"', w->out);
	while (*p) {
		n = utf8_len(p);
		if (n == 0) {
			fputs("\\ufffd", w->out);
			n = 1;
		} else if (*p == '"' || *p == '\\') {
			fprintf(w->out, "\\%c", *p);
		} else if (*p < 0x20) {
			fprintf(w->out, "\\u%04x", *p);
		} else {
			fwrite(p, 1, n, w->out);
		}
		p += n;
	}
	putc('"', w->out);
}

void jw_name(struct json_writer *w, const char *name)
{
	jw_sep(w);
	jw_quoted(w, name);
	fputs(w->pretty ? ": " : ":", w->out);
	w->named = true;
}

static void jw_open(struct json_writer *w, char c)
{
	jw_sep(w);
	putc(c, w->out);
	if (w->depth + 1 >= JSON_DEPTH_MAX)
		die(1, "JSON nested too deep");
	w->first[++w->depth] = true;
}

static void jw_close(struct json_writer *w, char c)
{
	bool empty = w->first[w->depth];

	w->depth--;
	if (!empty)
		jw_indent(w);
	putc(c, w->out);
	if (!w->depth)
		putc('\n', w->out);
}

void jw_start_object(struct json_writer *w)
{
	jw_open(w, '{');
}

void jw_end_object(struct json_writer *w)
{
	jw_close(w, '}');
}

void jw_start_array(struct json_writer *w)
{
	jw_open(w, '[');
}

void jw_end_array(struct json_writer *w)
{
	jw_close(w, ']');
}

void jw_string(struct json_writer *w, const char *s)
{
	jw_sep(w);
	jw_quoted(w, s);
}

/* A number, true, false or null: written as it is. */
void jw_raw(struct json_writer *w, const char *s)
{
	jw_sep(w);
	fputs(s, w->out);
}

void jw_uint(struct json_writer *w, unsigned long long v)
{
	jw_sep(w);
	fprintf(w->out, "%llu", v);
}

void jw_float(struct json_writer *w, const char *fmt, double v)
{
	jw_sep(w);
	fprintf(w->out, fmt, v);
}
