/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephportctl - what the files of the tool share.  Each section names the
 * file that defines it.
 */
#ifndef EPHPORTCTL_H
#define EPHPORTCTL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdnoreturn.h>
#include <signal.h>
#include <time.h>

#ifndef EPHPORT_VERSION
#error "EPHPORT_VERSION is not defined: build with tools/Makefile (it reads ../VERSION)"
#endif

#define PROG "ephportctl"
#define EXIT_USAGE 2
#define RANGE_MIN 1024
#define RANGE_MAX 65535
#define VALUE_MAX 4096

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Format-checked like printf(), the way the kernel's no_printk() does it. */
#define die(status, ...) do {				\
	if (0)						\
		printf(__VA_ARGS__);			\
	die_(status, __VA_ARGS__);			\
} while (0)

/* util.c: errors, memory, strict number parsing */
extern const char *err_prefix;
noreturn void die_(int status, const char *fmt, ...);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
bool parse_ull(const char *s, unsigned long long *v);
bool parse_count(const char *s, unsigned long long *v);
double ratio(unsigned long long a, unsigned long long b);
int split(char *s, char **f, int max, bool rest);
bool parse_range_attr(const char *s, unsigned long long *low, unsigned long long *high);

/* io.c: sysfs, configfs and procfs files */
extern const char *sysfs_root, *procfs_root, *configfs_root, *params_root;

struct ptable {
	const char *path;
	char **col;
	int ncols;
	char ***row;
	int nrows;
	char **line;	/* what col and row point into */
	int nlines;
};

void io_init(void);
void check_module(void);
void check_configfs(void);
char *attr_path(const char *name);
void read_file(const char *path, char *buf, size_t size);
void read_attr(const char *name, char *buf, size_t size);
unsigned long long read_num(const char *name);
noreturn void bad_value(const char *value, const char *path);
int write_file(const char *path, const char *value);
#define DENIED "permission denied: run as root"
void die_if_denied(int err);
void write_failed(const char *name, int err);
void write_or_die(const char *name, const char *value);
int read_ptable(const char *name, int skip, bool rest, struct ptable *t);
void read_ptable_or_die(const char *name, bool rest, struct ptable *t);
int read_section(const char *name, const char *first_col, struct ptable *t);

/* status.c: occupancy of this namespace, from the stats file */
#define OCC_PROTOS	2
struct occupancy {
	char proto[OCC_PROTOS][8];
	unsigned long long low[OCC_PROTOS], high[OCC_PROTOS];
	unsigned long long used[OCC_PROTOS], free[OCC_PROTOS];
	int n;				/* 0: the module shows none */
	long long warn_pct;		/* -1: the module has none */
};

void read_occupancy(struct occupancy *o);
double occupancy_pct(const struct occupancy *o, int i);
bool occupancy_above(const struct occupancy *o, int i);
void free_ptable(struct ptable *t);
int ptable_find(const struct ptable *t, const char *name);
int ptable_col(const struct ptable *t, const char *name);
unsigned long long ptable_num(const struct ptable *t, int row, int col);

/* table.c: aligned text tables */
struct table {
	const char *align;	/* 'l' or 'r' per column, 'r' beyond its end */
	int ncols;
	int ncells;
	char **cell;
};

#define cell(t, ...) do {				\
	if (0)						\
		printf(__VA_ARGS__);			\
	cell_(t, __VA_ARGS__);				\
} while (0)
void cell_(struct table *t, const char *fmt, ...);
void vcell(struct table *t, const char *fmt, va_list ap);
void table_print(struct table *t);

/* output.c: one code path for text and JSON (see there) */
enum output_type {
	PRINT_TEXT = 1,		/* only in text output */
	PRINT_JSON = 2,		/* only in JSON output */
	PRINT_ANY = 3,		/* in both */
};

extern bool json_output, pretty_output;

static inline bool is_json(void)
{
	return json_output;
}

void json_reset(void);
void open_object(const char *key);
void close_object(void);
void open_array(const char *key);
void close_array(void);
void table_open(struct table *t, const char * const *header, int n);
void table_close(void);
void print_string(enum output_type t, const char *key, const char *fmt, const char *s);
void print_opt_string(enum output_type t, const char *key, const char *fmt, const char *s);
void print_uint(enum output_type t, const char *key, const char *fmt,
		unsigned long long v);
void print_float(enum output_type t, const char *key, const char *fmt, double v);
void print_bool(enum output_type t, const char *key, const char *fmt, bool v);
void print_null(enum output_type t, const char *key, const char *fmt, const char *text);
void print_number(enum output_type t, const char *key, const char *fmt, const char *num);
void print_range(enum output_type t, const char *key, const char *fmt, const char *value);

/* ephportctl.c: the command line */
struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;		/* the synopsis after the name */
	const char *description;	/* '\n' starts a further line */
	const struct cmd *sub;		/* subcommands, ended by { NULL } */
	bool json;			/* has JSON output */
};

noreturn void usage_error(void);
noreturn void unknown_arg(const char *what, const char *arg);
const char *next_opt(int *i, int argc, char **argv, const char *opts, const char **val);
void json_opts(int argc, char **argv);
void no_args(int argc, char **argv);
const char *one_arg(int argc, char **argv);
int find_word(const char *word, const char * const *names, int n);
int run_words(int argc, char **argv);

/* set.c: set, enable, disable, reset */
extern const struct cmd set_cmds[];
int do_enable(int argc, char **argv);
int do_disable(int argc, char **argv);
int do_reset(int argc, char **argv);
int range_words(int argc, char **argv);
void range_value(int argc, char **argv, char *value, size_t size);
void check_strategy(const char *name);
char *random_inc_path(void);

/* status.c */
int do_status(int argc, char **argv);

/* stats.c */
int do_stats(int argc, char **argv);

/* log.c */
int do_log(int argc, char **argv);

/* watch.c: watch, and the timing of it and of log -f */
struct ticker {
	struct timespec next;
	double interval;
	sigset_t sigs;
};

double parse_interval(const char *val);
void ticker_start(struct ticker *t, double interval);
bool ticker_wait(struct ticker *t);
int do_watch(int argc, char **argv);

/* match.c: the values of a rule's matches */
const char *cgroup_arg(const char *arg);
void netns_arg(const char *arg, char *value, size_t size);
bool parse_uid(const char *s, char *value, size_t size);

/* rules.c: rule add, del, list, show, set, enable, disable, flush */
extern const struct cmd rule_cmds[];
void save_rules(FILE *f);

/* save.c: save, -b FILE */
const char *quote_word(const char *s);
int do_save(int argc, char **argv);
int do_batch(const char *file);

#endif /* EPHPORTCTL_H */
