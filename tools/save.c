// SPDX-License-Identifier: GPL-2.0
/*
 * ephportctl - persistence: save prints the configuration as ephportctl
 * commands, one a line; -b FILE (batch, as ip -batch) runs such a file.
 *
 * A batch line is a command line without "ephportctl" (a leading
 * "ephportctl" is allowed): words separated by blanks, "..." and '...'
 * quote, \ escapes outside single quotes, # starts a comment.  Each line
 * runs in a child process as if given on the command line; the first line
 * that fails stops the batch, its error prefixed with FILE:LINE, and
 * nothing after it runs (the lines before it stay applied).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ephportctl.h"

#define WORDS_MAX 64

/* A word as a batch line reads it back: quoted when it needs to be. */
const char *quote_word(const char *s)
{
	static char buf[VALUE_MAX * 2 + 3];
	size_t len = 0;

	if (*s && !s[strcspn(s, " \t\"'\\#")])
		return s;
	buf[len++] = '"';
	for (; *s && len < sizeof(buf) - 3; s++) {
		if (*s == '"' || *s == '\\')
			buf[len++] = '\\';
		buf[len++] = *s;
	}
	buf[len++] = '"';
	buf[len] = '\0';
	return buf;
}

int do_save(int argc, char **argv)
{
	char range[64], strategy[64], inc[32];
	unsigned long long low, high, n;
	const char *file = NULL;
	struct stat st;
	FILE *f = stdout;

	if (argc > 1)
		file = one_arg(argc, argv);
	check_module();
	read_attr("range", range, sizeof(range));
	if (strcmp(range, "auto") && !parse_range_attr(range, &low, &high))
		bad_value(range, attr_path("range"));
	read_attr("strategy", strategy, sizeof(strategy));
	if (file && strcmp(file, "-")) {
		f = fopen(file, "we");
		if (!f)
			die(1, "cannot write %s: %s", file, strerror(errno));
	}
	fprintf(f, "# ephportctl -b FILE applies this (ephportctl save, " EPHPORT_VERSION ")\n");
	if (!strcmp(range, "auto"))
		fprintf(f, "set range auto\n");
	else
		fprintf(f, "set range %llu %llu\n", low, high);
	fprintf(f, "set strategy %s\n", quote_word(strategy));
	/* A module parameter, saved if it can be set at run time (mode 0644). */
	if (!stat(random_inc_path(), &st) && (st.st_mode & 0200)) {
		read_file(random_inc_path(), inc, sizeof(inc));
		if (!parse_count(inc, &n))
			bad_value(inc, random_inc_path());
		fprintf(f, "set random-inc %llu\n", n);
	}
	if (!access(attr_path("warn_pct"), F_OK))
		fprintf(f, "set warn-pct %llu\n", read_num("warn_pct"));
	if (access(configfs_root, F_OK) == 0) {
		fprintf(f, "rule flush\n");
		save_rules(f);
	}
	/* Last: take over port selection once everything is in place. */
	fprintf(f, "%s\n", read_num("enabled") ? "enable" : "disable");
	if (fflush(f) || ferror(f) || (f != stdout && fclose(f)))
		die(1, "cannot write %s: %s", file ? file : "stdout", strerror(errno));
	return 0;
}

/*
 * Split a batch line in place into words; the count, or -1 (with *why)
 * when it is malformed.
 */
static int batch_words(char *s, char **w, const char **why)
{
	char *out = s, quote;
	int n = 0;

	for (;;) {
		s += strspn(s, " \t\r\n");
		if (!*s || *s == '#')
			return n;
		if (n == WORDS_MAX) {
			*why = "too many words";
			return -1;
		}
		w[n++] = out;
		for (quote = 0; *s && (quote || !strchr(" \t\r\n", *s)); s++) {
			if (quote && *s == quote)
				quote = 0;
			else if (!quote && (*s == '"' || *s == '\''))
				quote = *s;
			else if (*s == '\\' && quote != '\'' && s[1])
				*out++ = *++s;
			else
				*out++ = *s;
		}
		if (quote) {
			*why = "unterminated quote";
			return -1;
		}
		if (*s)
			s++;
		*out++ = '\0';
	}
}

/* Run one line in a child; its exit status. */
static int batch_line(int argc, char **argv)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		die(1, "fork: %s", strerror(errno));
	if (!pid)
		exit(run_words(argc, argv));
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			die(1, "waitpid: %s", strerror(errno));
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 1;
}

/*
 * The lines of a batch file, all read before the first runs: a child's
 * exit() would otherwise move the offset of the file the parent reads on.
 */
static char **read_lines(const char *file, int *n)
{
	char *line = NULL, **lines = NULL;
	FILE *f = stdin;
	size_t cap = 0;

	if (strcmp(file, "-")) {
		f = fopen(file, "re");
		if (!f)
			die(1, "cannot read %s: %s", file, strerror(errno));
	}
	for (*n = 0; getline(&line, &cap, f) >= 0; (*n)++) {
		lines = xrealloc(lines, (*n + 1) * sizeof(*lines));
		lines[*n] = xstrdup(line);
	}
	if (ferror(f))
		die(1, "cannot read %s: %s", file, strerror(errno));
	if (f != stdin)
		fclose(f);
	free(line);
	return lines;
}

int do_batch(const char *file)
{
	static char prefix[4096];
	char **lines, *w[WORDS_MAX + 1];
	const char *why = NULL;
	int i, n, nlines, rc;

	lines = read_lines(file, &nlines);
	for (i = 0; i < nlines; i++) {
		snprintf(prefix, sizeof(prefix), "%s:%d: ", strcmp(file, "-") ? file : "stdin",
			 i + 1);
		err_prefix = prefix;
		n = batch_words(lines[i], w, &why);
		if (n < 0)
			die(EXIT_USAGE, "%s", why);
		if (n && !strcmp(w[0], PROG)) {
			memmove(w, w + 1, --n * sizeof(*w));
			if (!n)
				die(EXIT_USAGE, "no command");
		}
		if (!n)
			continue;
		w[n] = NULL;
		rc = batch_line(n, w);
		if (rc)
			exit(rc);
		free(lines[i]);
	}
	err_prefix = "";
	free(lines);
	return 0;
}
