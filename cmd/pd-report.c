/*
 * pd-report — one self-contained HTML page of what pd found: patterns by
 * status and kind, every niche with its patterns, processing times, runs,
 * cache hit rates, predicted vs actual.  The page is built by lib/report.c;
 * this main reads the source (a stream of records, or the database with
 * --db), asks Redis for its hit counters when REDIS_URL is set, and writes
 * the page: to standard output, or to -o FILE atomically (a temporary file
 * in FILE's directory, fsynced, then renamed over FILE), so a web server
 * serving FILE never sends half a page.
 */
#include "cli.h"
#include "../lib/db.h"
#include "../lib/report.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
	"Usage: pd-report [OPTION]... [FILE]...\n"
	"  or:  pd-report --db [OPTION]...\n"
	"Write one self-contained HTML page (inline SVG charts, no network at view time)\n"
	"of what pd found: patterns by status and kind, each niche with its patterns,\n"
	"processing time per stage, runs over time, cache hit rates, predicted vs actual.\n"
	"Reads pattern, cluster, metric (and effectiveness) records from the FILEs, or\n"
	"standard input when there are none or a FILE is -; with --db, the database.\n"
	"\n"
	"  -o, --output FILE     write the page to FILE atomically (default: stdout)\n"
	"      --db              read the active run and the run history from DATABASE_URL\n"
	"      --no-redis        do not ask Redis (REDIS_URL) for its hit rate\n"
	"      --title TEXT      the page title (default \"pd report\")\n"
	"      --max-niches N    niches shown with their patterns (default 1000)\n"
	"      --max-patterns N  pattern rows shown per niche (default 50)\n"
	"      --runs N          runs of history shown (default 30)\n"
	"      --rejects FILE    write rejected records, whole, to FILE\n"
	"      --strict          stop at the first rejected record\n"
	"      --quiet           no warnings\n"
	"      --max-line BYTES  longest input line accepted (default 64M)\n"
	"      --help            show this help and exit\n"
	"      --version         show version information and exit\n"
	"\n"
	"Exit status: 0 page written; 1 written, but some records were rejected;\n"
	"2 usage error; 3 database or write failure (no page written).\n";

enum { OPT_DB = CLI_OPT_FIRST_OWN, OPT_NO_REDIS, OPT_TITLE, OPT_MAX_NICHES, OPT_MAX_PATTERNS,
       OPT_RUNS };

static const struct option longopts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "db", no_argument, NULL, OPT_DB },
	{ "no-redis", no_argument, NULL, OPT_NO_REDIS },
	{ "title", required_argument, NULL, OPT_TITLE },
	{ "max-niches", required_argument, NULL, OPT_MAX_NICHES },
	{ "max-patterns", required_argument, NULL, OPT_MAX_PATTERNS },
	{ "runs", required_argument, NULL, OPT_RUNS },
	{ "rejects", required_argument, NULL, CLI_OPT_REJECTS },
	{ "strict", no_argument, NULL, CLI_OPT_STRICT },
	{ "quiet", no_argument, NULL, CLI_OPT_QUIET },
	{ "max-line", required_argument, NULL, CLI_OPT_MAX_LINE },
	{ "help", no_argument, NULL, CLI_OPT_HELP },
	{ "version", no_argument, NULL, CLI_OPT_VERSION },
	{ NULL, 0, NULL, 0 }
};

/* The generation time: SOURCE_DATE_EPOCH when set (reproducible pages), else now. */
static void generated_at(char *out, size_t cap)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	time_t t = sde && *sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%d %H:%M UTC", &tm);
}

/*
 * write_atomic: n bytes of p to path through a temporary file in the same
 * directory, fsynced and renamed over path.  Returns 0, or -1 with errno and
 * the failing step in *what (the temporary file is removed).
 */
static int write_atomic(const char *path, const char *p, size_t n, const char **what)
{
	size_t plen = strlen(path);
	char *tmp = xmalloc(plen + 16);
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp.XXXXXX", 12);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		*what = "cannot create a temporary file for";
		free(tmp);
		return -1;
	}
	/* the page is for reading by others (a web server): 0644 less the umask */
	mode_t um = umask(0);
	umask(um);
	int e = 0;
	size_t off = 0;
	if (fchmod(fd, 0644 & ~um) != 0) {
		e = errno;
		*what = "cannot set the mode of";
	}
	while (!e && off < n) {
		ssize_t w = write(fd, p + off, n - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			*what = "write error on";
		} else {
			off += (size_t)w;
		}
	}
	if (!e && fsync(fd) != 0) {
		e = errno;
		*what = "write error on";
	}
	if (close(fd) != 0 && !e) {
		e = errno;
		*what = "write error on";
	}
	if (!e && rename(tmp, path) != 0) {
		e = errno;
		*what = "cannot rename the temporary file to";
	}
	if (e)
		unlink(tmp);
	free(tmp);
	errno = e;
	return e ? -1 : 0;
}

int main(int argc, char **argv)
{
	cli_init("pd-report", "report", usage_text);
	const char *output = NULL;
	int use_db = 0, redis = 1;
	pd_report_opts o = PD_REPORT_OPTS_INIT;
	int c;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case OPT_DB: use_db = 1; break;
		case OPT_NO_REDIS: redis = 0; break;
		case OPT_TITLE: o.title = optarg; break;
		case OPT_MAX_NICHES:
			o.max_niches = (int)cli_parse_long("--max-niches", optarg, 1, 1000000);
			break;
		case OPT_MAX_PATTERNS:
			o.max_patterns = (int)cli_parse_long("--max-patterns", optarg, 1, 1000000);
			break;
		case OPT_RUNS: o.max_runs = (int)cli_parse_long("--runs", optarg, 1, 100000); break;
		default:
			if (!cli_common_option(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	if (use_db && optind < argc)
		cli_usage_error("--db reads the database; FILE operands are for a stream of records");
	if (output && !*output)
		cli_usage_error("-o takes a file name");
	cli.no_metric = 1;	/* the output is a page, not a stream */
	cli_after_options();

	pd_report *rep = pd_report_new();
	pd_err err;
	if (use_db) {
		pd_db_set_program("pd-report");
		PGconn *db = pd_db_connect(NULL, &err);
		if (!db)
			cli_fatal_err(&err);
		int rc = pd_report_load_db(rep, db, o.max_runs, &err);
		PQfinish(db);
		if (rc < 0)
			cli_fatal_err(&err);
	} else {
		pd_input *in = cli_open_input(argc - optind, argv + optind);
		const char *line;
		size_t len;
		while (cli_next_line(in, &line, &len))
			if (pd_report_add_line(rep, line, len, &err) < 0)
				cli_reject(CLI_POS(in), line, len, "%s", err.msg);
		pd_input_free(in);
	}
	if (redis) {
		long long hits = 0, misses = 0;
		int rc = pd_report_redis_info(NULL, &hits, &misses, &err);
		if (rc > 0) {
			pd_report_set_redis(rep, hits, misses, NULL);
		} else if (rc < 0) {
			cli_warn("%s (the page says so)", err.msg);
			pd_report_set_redis(rep, 0, 0, err.msg);
		}
	}
	char when[64];
	generated_at(when, sizeof when);
	o.generated_at = when;
	pd_report_html(rep, &o, &cli_out);
	pd_report_free(rep);

	if (output) {
		const char *what = "";
		if (write_atomic(output, cli_out.p, cli_out.len, &what) < 0)
			cli_fatal(3, "%s '%s': %s", what, output, strerror(errno));
		pd_buf_reset(&cli_out);
	}
	return cli_finish();
}
