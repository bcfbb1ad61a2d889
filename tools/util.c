// SPDX-License-Identifier: GPL-2.0
/*
 * ephportctl - errors, memory and the strict parsing of numbers and words.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ephportctl.h"

/* "FILE:LINE: " while a batch line runs */
const char *err_prefix = "";

noreturn void die_(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, PROG ": %s", err_prefix);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p)
		die(1, "out of memory");
	return p;
}

char *xstrdup(const char *s)
{
	size_t size = strlen(s) + 1;

	return memcpy(xrealloc(NULL, size), s, size);
}

/* Strict unsigned decimal: digits only, no sign, no blanks. */
bool parse_ull(const char *s, unsigned long long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !*end && !errno;
}

bool parse_count(const char *s, unsigned long long *v)
{
	return parse_ull(s, v) && *v > 0;
}

double ratio(unsigned long long a, unsigned long long b)
{
	return b ? (double)a / b : 0;
}

/*
 * Split s in place at blanks into at most max fields; with rest, the last
 * field is the remainder of the line (it may contain blanks).
 */
int split(char *s, char **f, int max, bool rest)
{
	int n = 0;

	while (n < max) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		f[n++] = s;
		if (rest && n == max)
			break;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (*s)
			*s++ = '\0';
	}
	return n;
}

/* "LOW HIGH" as the range attributes show it */
bool parse_range_attr(const char *s, unsigned long long *low, unsigned long long *high)
{
	char buf[64], *sp;

	snprintf(buf, sizeof(buf), "%s", s);
	sp = strchr(buf, ' ');
	if (!sp)
		return false;
	*sp++ = '\0';
	return parse_ull(buf, low) && parse_ull(sp, high);
}
