/*
 * cli.c — the shared behaviour of pd's command-line mains; see cli.h.
 *
 * Output is collected in one buffer and written with fwrite to stdout in large
 * pieces (or per record with --unbuffered).  SIGPIPE is ignored at start so a
 * write to a closed pipe returns EPIPE; we then restore the default action and
 * raise SIGPIPE, so the command ends quietly the way standard filters do (git
 * run-command.c check_pipe).  Any other write error, or one found by fclose at
 * exit (>/dev/full), is reported and gives exit status 3 (or the command's
 * cli.write_status).
 */
#include "cli.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "../lib/blas.h"
#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <zlib.h>

cli_state cli;
pd_buf cli_out = PD_BUF_INIT;
static int out_waits;		/* stdout is a pipe, socket or terminal */
static double out_wait_s;	/* time blocked writing it (the consumer's time) */

double cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void cli_init(const char *prog, const char *stage, const char *usage)
{
	/* descriptors 0-2 open, so no file we open lands on them (curl tool_main.c) */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) < 0)
				abort();
	signal(SIGPIPE, SIG_IGN);
	memset(&cli, 0, sizeof cli);
	cli.prog = prog;
	cli.stage = stage;
	cli.usage = usage;
	cli.max_line = PD_DEFAULT_MAX_LINE;
	cli.progress = isatty(2);
	cli.t0 = cli_now();
	cli.metric = cJSON_CreateObject();
	struct stat st;
	out_waits = fstat(1, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode);
}

void cli_print_version(void)
{
	printf("%s (pd) %s\n", cli.prog, PD_VERSION);
	printf("cJSON %s, libpq %d.%d, hiredis %d.%d.%d, %s, zlib %s, %s\n", cJSON_Version(),
	       PQlibVersion() / 10000, PQlibVersion() % 100, HIREDIS_MAJOR, HIREDIS_MINOR,
	       HIREDIS_PATCH, curl_version(), zlibVersion(), pd_blas_config());
}

void cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", cli.prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", cli.prog);
	exit(2);
}

static void vmsg(const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "%s: ", cli.prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_fatal(int code, const char *fmt, ...)
{
	va_list ap;
	cli_flush();
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(code);
}

void cli_fatal_err(const pd_err *err)
{
	cli_fatal(err->code ? err->code : PD_ESERVICE, "%s", err->msg);
}

void cli_warn(const char *fmt, ...)
{
	if (cli.quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

int cli_common_option(int c, const char *arg)
{
	switch (c) {
	case CLI_OPT_REJECTS: cli.rejects_path = arg; return 1;
	case CLI_OPT_STRICT: cli.strict = 1; return 1;
	case CLI_OPT_UNBUFFERED: cli.unbuffered = 1; return 1;
	case CLI_OPT_PROGRESS: cli.progress = 2; return 1;
	case CLI_OPT_QUIET: cli.quiet = 1; return 1;
	case CLI_OPT_MAX_LINE: cli.max_line = cli_parse_size("--max-line", arg); return 1;
	case CLI_OPT_NO_METRIC: cli.no_metric = 1; return 1;
	case CLI_OPT_HELP:
		fputs(cli.usage, stdout);
		if (fflush(stdout) || ferror(stdout))
			exit(3);
		exit(0);
	case CLI_OPT_VERSION:
		cli_print_version();
		if (fflush(stdout) || ferror(stdout))
			exit(3);
		exit(0);
	case '?':
		fprintf(stderr, "Try '%s --help' for more information.\n", cli.prog);
		exit(2);
	}
	return 0;
}

void cli_after_options(void)
{
	if (cli.quiet && cli.progress != 2)
		cli.progress = 0;
	if (cli.rejects_path) {
		cli.rejects = fopen(cli.rejects_path, "w");
		if (!cli.rejects)
			cli_fatal(2, "cannot open '%s': %s", cli.rejects_path, strerror(errno));
	}
}

void cli_reject(const char *file, long line, const char *raw, size_t len, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fflush(stdout);
	if (!cli.quiet || cli.strict) {
		if (line > 0)
			fprintf(stderr, "%s: %s:%ld: %s\n", cli.prog, file, line, msg);
		else
			fprintf(stderr, "%s: %s: %s\n", cli.prog, file, msg);
	}
	cli.rejected++;
	if (cli.status < 1)
		cli.status = 1;
	if (cli.rejects && raw) {
		fwrite(raw, 1, len, cli.rejects);
		fputc('\n', cli.rejects);
	}
	if (cli.on_reject)
		cli.on_reject(file, line, msg);
	if (cli.strict) {
		cli_flush();
		if (cli.rejects)
			fclose(cli.rejects);
		exit(1);
	}
}

pd_input *cli_open_input(int argc, char **argv)
{
	pd_input *in = pd_input_open(argv, argc, cli.max_line);
	if (cli.rejects)
		pd_input_set_spill(in, cli.rejects);
	return in;
}

int cli_account_line(int r, const char *file, long lineno, const pd_err *err)
{
	if (r == PD_LINE_OK) {
		cli.records_in++;
		if (cli.progress && (cli.records_in & 4095) == 0)
			cli_progress("records", cli.records_in, 0);
		return 1;
	}
	if (r == PD_LINE_EOF)
		return 0;
	if (r == PD_LINE_TOOLONG) {
		cli.records_in++;
		/* the line went whole to --rejects through the spill stream */
		cli_reject(file, lineno, NULL, 0, "line longer than %zu bytes", cli.max_line);
		return -1;
	}
	cli_error("%s", err->msg);
	if (cli.status < err->code)
		cli.status = err->code;
	return -1;
}

int cli_next_line(pd_input *in, const char **line, size_t *len)
{
	for (;;) {
		pd_err err;
		int r = pd_input_next(in, line, len, &err);
		int k = cli_account_line(r, CLI_POS(in), &err);
		if (k >= 0)
			return k;
	}
}

int cli_next_record(pd_input *in, const char **line, size_t *len, char type[32])
{
	while (cli_next_line(in, line, len)) {
		pd_err err;
		if (pd_json_type(*line, *len, type, 32, &err) == 1)
			return 1;
		cli_reject(CLI_POS(in), *line, *len, "%s", err.msg);
	}
	return 0;
}

/* the exit status of a failed write (cli.write_status, 3 when unset) */
static int write_fail_status(void)
{
	return cli.write_status ? cli.write_status : 3;
}

static void write_all(const char *p, size_t n)
{
	if (n == 0)
		return;
	double t0 = out_waits ? cli_now() : 0;
	size_t w = fwrite(p, 1, n, stdout);
	int flushed = !cli.unbuffered || fflush(stdout) == 0;
	if (out_waits)
		out_wait_s += cli_now() - t0;
	if (w != n || !flushed) {
		if (errno == EPIPE) {
			signal(SIGPIPE, SIG_DFL);
			raise(SIGPIPE);
		}
		int e = errno;
		fprintf(stderr, "%s: write error: %s\n", cli.prog, strerror(e));
		exit(write_fail_status());
	}
}

void cli_flush(void)
{
	write_all(cli_out.p, cli_out.len);
	pd_buf_reset(&cli_out);
	if (fflush(stdout) != 0) {
		if (errno == EPIPE) {
			signal(SIGPIPE, SIG_DFL);
			raise(SIGPIPE);
		}
		fprintf(stderr, "%s: write error: %s\n", cli.prog, strerror(errno));
		exit(write_fail_status());
	}
}

void cli_record_done(void)
{
	if (cli.unbuffered || cli_out.len >= (1u << 18)) {
		write_all(cli_out.p, cli_out.len);
		pd_buf_reset(&cli_out);
	}
}

void cli_write_record(const pd_record *r, int emb_form)
{
	pd_record_write(r, &cli_out, emb_form);
	cli.records_out++;
	cli_record_done();
}

void cli_write_lines(const char *p, size_t n, unsigned long long nrec)
{
	if (n >= (1u << 16) && !cli.unbuffered) {
		write_all(cli_out.p, cli_out.len);
		pd_buf_reset(&cli_out);
		write_all(p, n);
	} else {
		pd_buf_add(&cli_out, p, n);
	}
	cli.records_out += nrec;
	cli_record_done();
}

void cli_passthrough(const char *line, size_t len)
{
	if (len >= (1u << 16) && !cli.unbuffered) {
		/* big record: skip the copy into the buffer */
		write_all(cli_out.p, cli_out.len);
		pd_buf_reset(&cli_out);
		write_all(line, len);
		write_all("\n", 1);
	} else {
		pd_buf_add(&cli_out, line, len);
		pd_buf_addc(&cli_out, '\n');
	}
	cli.records_out++;
	cli_record_done();
}

int cli_stream_dim(int dim)
{
	if (dim <= 0)
		return 1;
	if (cli.dim == 0)
		cli.dim = dim;
	return dim == cli.dim;
}

void cli_progress(const char *what, unsigned long long done, unsigned long long total)
{
	static double last;
	if (!cli.progress || (cli.quiet && cli.progress != 2))
		return;
	double t = cli_now();
	if (t - last < 0.25 && !(total && done == total))
		return;
	last = t;
	if (total)
		fprintf(stderr, "\r%s: %s %llu/%llu (%.0f%%)\033[K", cli.prog, what, done, total,
			100.0 * (double)done / (double)total);
	else
		fprintf(stderr, "\r%s: %s %llu\033[K", cli.prog, what, done);
	if (total && done == total)
		fputc('\n', stderr);
}

double cli_seconds(void)
{
	double s = cli_now() - cli.t0 - pd_input_wait_seconds() - out_wait_s;
	return s > 0 ? s : 0;
}

void cli_metric_num(const char *key, double v)
{
	pd_json_set(cli.metric, key, cJSON_CreateNumber(v));
}

void cli_metric_str(const char *key, const char *v)
{
	pd_json_set(cli.metric, key, cJSON_CreateString(v));
}

int cli_finish(void)
{
	if (cli.progress && cli.records_in >= 4096 && isatty(2))
		fprintf(stderr, "\r\033[K");
	if (!cli.no_metric) {
		cJSON *m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "type", "metric");
		cJSON_AddStringToObject(m, "stage", cli.stage);
		cJSON_AddNumberToObject(m, "seconds", (double)(long)(cli_seconds() * 1000) / 1000.0);
		cJSON_AddNumberToObject(m, "records_in", (double)cli.records_in);
		cJSON_AddNumberToObject(m, "records_out", (double)cli.records_out);
		cJSON_AddNumberToObject(m, "rejected", (double)cli.rejected);
		cJSON *it = cli.metric->child;
		while (it) {
			cJSON *next = it->next;
			cJSON_AddItemToObject(m, it->string, cJSON_Duplicate(it, 1));
			it = next;
		}
		char *s = cJSON_PrintUnformatted(m);
		pd_buf_adds(&cli_out, s);
		pd_buf_addc(&cli_out, '\n');
		cJSON_free(s);
		cJSON_Delete(m);
	}
	cli_flush();
	if (cli.rejects && fclose(cli.rejects) != 0) {
		cli_error("cannot write '%s': %s", cli.rejects_path, strerror(errno));
		cli.status = write_fail_status();
	}
	if (fclose(stdout) != 0) {
		if (errno == EPIPE)
			return cli.status;
		cli_error("write error: %s", strerror(errno));
		return write_fail_status();
	}
	if (cli.rejected && !cli.quiet)
		cli_error("%llu record%s rejected", cli.rejected, cli.rejected == 1 ? "" : "s");
	return cli.status;
}

long cli_parse_long(const char *opt, const char *arg, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		cli_usage_error("%s takes a whole number from %ld to %ld, not '%s'", opt, min, max, arg);
	return v;
}

double cli_parse_double(const char *opt, const char *arg, double min, double max)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= min && v <= max))
		cli_usage_error("%s takes a number from %g to %g, not '%s'", opt, min, max, arg);
	return v;
}

size_t cli_parse_size(const char *opt, const char *arg)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (errno || end == arg || arg[0] == '-')
		cli_usage_error("%s takes a size such as 4096, 64K or 16M, not '%s'", opt, arg);
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	else if (*end == 'G' || *end == 'g')
		v <<= 30, end++;
	if (*end || v == 0)
		cli_usage_error("%s takes a size such as 4096, 64K or 16M, not '%s'", opt, arg);
	return (size_t)v;
}
