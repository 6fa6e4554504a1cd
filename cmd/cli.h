/*
 * cli.h — what every pd command's main shares: the conventions of DESIGN.md §5.
 *
 * This is the one place that prints and exits (lib/ never does).  It owns:
 * the program name and messages (`pd-x: FILE:LINE: message`), the options
 * every command takes (--rejects, --strict, --unbuffered, --progress, --quiet,
 * --max-line, --no-metric, --help, --version), the input loop with positions,
 * rejected records, buffered output with SIGPIPE/EPIPE and write-error
 * handling, progress on stderr, the closing `metric` record and exit status.
 *
 * Adding a command (after git's builtin.h):
 *   1. cmd/pd-NAME.c: a main that calls cli_init, parses its options with
 *      getopt_long over CLI_COMMON_LONGOPTS + its own, passes unknown ones to
 *      cli_common_option, and does its work through lib/ calls.
 *   2. man/pd-NAME.1 with NAME, SYNOPSIS, DESCRIPTION, OPTIONS, ENVIRONMENT,
 *      EXIT STATUS, EXAMPLES, SEE ALSO; the SYNOPSIS options must match --help
 *      (tests/t0100-common.sh checks), and the EXAMPLES run as tests.
 *   3. tests/tNNNN-NAME-*.sh: command tests; the cross-command checks pick the
 *      new binary up by themselves (the Makefile builds every cmd/pd-*.c).
 */
#ifndef PD_CLI_H
#define PD_CLI_H
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <cjson/cJSON.h>
#include "../lib/pd.h"

/* Option codes for the common long options (above any short option char). */
enum {
	CLI_OPT_REJECTS = 1000, CLI_OPT_STRICT, CLI_OPT_UNBUFFERED, CLI_OPT_PROGRESS,
	CLI_OPT_QUIET, CLI_OPT_MAX_LINE, CLI_OPT_NO_METRIC, CLI_OPT_HELP, CLI_OPT_VERSION,
	CLI_OPT_FIRST_OWN = 1100	/* commands number their own long-only options from here */
};

#define CLI_COMMON_LONGOPTS \
	{ "rejects", required_argument, NULL, CLI_OPT_REJECTS }, \
	{ "strict", no_argument, NULL, CLI_OPT_STRICT }, \
	{ "unbuffered", no_argument, NULL, CLI_OPT_UNBUFFERED }, \
	{ "progress", no_argument, NULL, CLI_OPT_PROGRESS }, \
	{ "quiet", no_argument, NULL, CLI_OPT_QUIET }, \
	{ "max-line", required_argument, NULL, CLI_OPT_MAX_LINE }, \
	{ "no-metric", no_argument, NULL, CLI_OPT_NO_METRIC }, \
	{ "help", no_argument, NULL, CLI_OPT_HELP }, \
	{ "version", no_argument, NULL, CLI_OPT_VERSION }

/* The help text lines for the common options, for each command's usage(). */
#define CLI_COMMON_HELP \
	"      --rejects FILE    write rejected records, whole, to FILE\n" \
	"      --strict          stop at the first rejected record\n" \
	"      --unbuffered      flush each output record at once (coprocess use)\n" \
	"      --progress        show progress on stderr even when it is not a terminal\n" \
	"      --quiet           no progress and no warnings\n" \
	"      --max-line BYTES  longest input line accepted (default 64M)\n" \
	"      --no-metric       do not append the closing metric record\n" \
	"      --help            show this help and exit\n" \
	"      --version         show version information and exit\n"

/* The end of --help for a command that reads records: the common options
 * and the exit statuses, failure3 saying what 3 is ("an I/O failure"). */
#define CLI_RECORDS_HELP_END(failure3) \
	"Common options:\n" CLI_COMMON_HELP "\n" \
	"Exit status: 0 all records read, 1 some rejected, 2 usage error,\n3 " failure3 ".\n"

typedef struct cli_state {
	const char *prog;		/* "pd-fetch" */
	const char *stage;		/* "fetch", for the metric record */
	const char *usage;		/* full --help text */
	FILE *rejects;
	const char *rejects_path;
	int strict, unbuffered, progress, quiet, no_metric;
	size_t max_line;
	unsigned long long records_in, records_out, rejected;
	int status;			/* worst exit status so far */
	int write_status;		/* exit status when stdout or --rejects cannot be
					   written: 3 unless the command sets another
					   (pd-store: 4 once its run is committed) */
	int dim;			/* the stream's embedding dimension, 0 until seen */
	/* called after each rejected record, wherever it was found (pd-match
	 * answers it in coprocess mode, so every line in gets a line out) */
	void (*on_reject)(const char *file, long line, const char *msg);
	double t0;
	cJSON *metric;			/* stage figures added by the command */
} cli_state;

extern cli_state cli;

/* cli_init: program name, stage name and help text; ignores SIGPIPE, opens fds 0-2. */
void cli_init(const char *prog, const char *stage, const char *usage);
/* cli_common_option: handle a common option code; returns 1 if it was one. */
int cli_common_option(int c, const char *arg);
/* cli_after_options: open --rejects etc.; call once options are parsed. */
void cli_after_options(void);

/* Messages. cli_usage_error exits 2, cli_fatal exits with code. */
void cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void cli_fatal(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* cli_now: a monotonic clock in seconds, for the timing figures of metrics */
double cli_now(void);
/*
 * cli_seconds: the stage's own seconds so far, the "seconds" of its metric
 * record: the time since start less the time it was kept waiting by its
 * input (pd_input_wait_seconds) and by its output's reader (blocked writes
 * to a pipe); in a pipeline each stage so reports its own work, not the
 * time since the pipeline started.
 */
double cli_seconds(void);
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* cli_fatal_err: message from a pd_err, exit with its code (3 when unset). */
void cli_fatal_err(const pd_err *err) __attribute__((noreturn));

/*
 * cli_reject: a bad record at file:line: message, the record's bytes to
 * --rejects, counted; under --strict the command ends here (exit 1).
 */
void cli_reject(const char *file, long line, const char *raw, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/*
 * The input loop.  cli_open_input opens the operands (argv[optind..argc));
 * cli_next_line gives each good line with its position, rejecting over-long
 * lines and reporting unreadable files by itself.  Returns 1 or 0 at end.
 */
pd_input *cli_open_input(int argc, char **argv);
int cli_next_line(pd_input *in, const char **line, size_t *len);
#define CLI_POS(in) pd_input_name(in), pd_input_lineno(in)
/*
 * cli_account_line: what cli_next_line does with one pd_input_next result r
 * of the line at file:lineno: count it (1 for a good line, 0 at the end), or
 * reject an over-long line / report a read error (-1).  For a command that
 * reads ahead and must account for each line later, in input order.
 */
int cli_account_line(int r, const char *file, long lineno, const pd_err *err);
/*
 * cli_next_record: cli_next_line, plus the record's type in type (32 bytes);
 * a line that is not a well-formed record with a string type is rejected
 * here (FILE:LINE, --rejects), so the caller sees only typed records.
 */
int cli_next_record(pd_input *in, const char **line, size_t *len, char type[32]);

/* Output.  cli_out is the buffer records are written to; cli_record_done
 * flushes when it is large, or after every record with --unbuffered. */
extern pd_buf cli_out;
void cli_record_done(void);
void cli_flush(void);
/* cli_write_record: pd_record_write into cli_out + cli_record_done + count. */
void cli_write_record(const pd_record *r, int emb_form);
/* cli_write_lines: n bytes of whole output lines, nrec records, written in order */
void cli_write_lines(const char *p, size_t n, unsigned long long nrec);
/* cli_passthrough: an untouched line (plus '\n') to the output, counted. */
void cli_passthrough(const char *line, size_t len);

/*
 * cli_stream_dim: one embedding dimension per stream (DESIGN.md §2): the first
 * record with an embedding sets it; returns 1 when dim agrees, 0 when not
 * (the caller rejects the record, naming cli.dim).
 */
int cli_stream_dim(int dim);

/* cli_progress: progress on stderr (at most a few times a second). */
void cli_progress(const char *what, unsigned long long done, unsigned long long total);

/* cli_metric_num / cli_metric_str: stage figures for the closing metric. */
void cli_metric_num(const char *key, double v);
void cli_metric_str(const char *key, const char *v);

/* cli_finish: metric record, flush, check stdout; returns the exit status. */
int cli_finish(void);

/* cli_print_version: "pd-x (pd) X.Y.Z" and the linked libraries' versions. */
void cli_print_version(void);

/* Parsing helpers for option values; they exit 2 with a message on error. */
long cli_parse_long(const char *opt, const char *arg, long min, long max);
double cli_parse_double(const char *opt, const char *arg, double min, double max);
size_t cli_parse_size(const char *opt, const char *arg);

#endif
