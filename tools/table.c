// SPDX-License-Identifier: GPL-2.0
/*
 * ephportctl - text tables: cells are added row by row, the columns are
 * aligned when the table is printed.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ephportctl.h"

/* A cell; control characters (from a comm, say) print as '?'. */
void vcell(struct table *t, const char *fmt, va_list ap)
{
	unsigned char *p;
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		die(1, "out of memory");
	for (p = (unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	t->cell = xrealloc(t->cell, (t->ncells + 1) * sizeof(char *));
	t->cell[t->ncells++] = s;
}

void cell_(struct table *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcell(t, fmt, ap);
	va_end(ap);
}

/* Print the table and empty it. */
void table_print(struct table *t)
{
	int *width = xrealloc(NULL, t->ncols * sizeof(int));
	int i, c, len;
	bool left;

	memset(width, 0, t->ncols * sizeof(int));
	for (i = 0; i < t->ncells; i++) {
		len = strlen(t->cell[i]);
		if (len > width[i % t->ncols])
			width[i % t->ncols] = len;
	}
	for (i = 0; i < t->ncells; i++) {
		c = i % t->ncols;
		left = c < (int)strlen(t->align) && t->align[c] == 'l';
		if (c == t->ncols - 1 && left)
			printf("%s\n", t->cell[i]);
		else
			printf(c == t->ncols - 1 ? "%*s\n" : "%*s  ", left ? -width[c] : width[c],
			       t->cell[i]);
		free(t->cell[i]);
	}
	free(t->cell);
	free(width);
	t->cell = NULL;
	t->ncells = 0;
}
