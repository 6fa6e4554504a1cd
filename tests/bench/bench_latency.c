/*
 * bench_latency — round-trip latency of a coprocess, one line at a time.
 *
 *   bench_latency LINES REPS [--expect TEXT] -- COMMAND [ARG]...
 *
 * Starts COMMAND with pipes on its standard input and output, writes one line
 * of the file LINES (cycling), reads its one-line answer, and so REPS times
 * after 200 unmeasured warm-up lines; prints "p50 N us   p99 N us   max N us".
 * With --expect, every answer must contain TEXT (else exit 1).  A C driver
 * (write(2), read(2), CLOCK_MONOTONIC) so that what is measured is the
 * coprocess and the pipe, not the driver: `-- cat` gives the floor.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int to_child, from_child;
static char rbuf[1 << 20];
static size_t rlen;

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(to_child, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			perror("bench_latency: write");
			exit(2);
		}
		p += k;
		n -= (size_t)k;
	}
}

/* one answer line into ans (NUL-terminated, without '\n') */
static void read_answer(char **ans, size_t *cap)
{
	for (;;) {
		char *nl = memchr(rbuf, '\n', rlen);
		if (nl) {
			size_t n = (size_t)(nl - rbuf);
			if (n + 1 > *cap) {
				*cap = n + 1;
				*ans = realloc(*ans, *cap);
			}
			memcpy(*ans, rbuf, n);
			(*ans)[n] = '\0';
			memmove(rbuf, nl + 1, rlen - n - 1);
			rlen -= n + 1;
			return;
		}
		if (rlen == sizeof rbuf) {
			fprintf(stderr, "bench_latency: answer longer than %zu bytes\n", sizeof rbuf);
			exit(2);
		}
		ssize_t k = read(from_child, rbuf + rlen, sizeof rbuf - rlen);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			fprintf(stderr, "bench_latency: the command ended early\n");
			exit(2);
		}
		rlen += (size_t)k;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: bench_latency LINES REPS [--expect TEXT] -- COMMAND [ARG]...\n");
		return 2;
	}
	const char *path = argv[1], *expect = NULL;
	long reps = atol(argv[2]);
	int a = 3;
	if (!strcmp(argv[a], "--expect") && a + 1 < argc) {
		expect = argv[a + 1];
		a += 2;
	}
	if (a >= argc || strcmp(argv[a], "--") || a + 1 >= argc || reps < 1) {
		fprintf(stderr, "bench_latency: bad arguments\n");
		return 2;
	}
	char **cmd = argv + a + 1;

	/* the lines, each with its '\n' */
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return 2;
	}
	char **lines = NULL;
	size_t *lens = NULL, nlines = 0, lcap = 0;
	char *l = NULL;
	size_t cap = 0;
	ssize_t got;
	while ((got = getline(&l, &cap, f)) > 0) {
		if (nlines == lcap) {
			lcap = lcap ? 2 * lcap : 1024;
			lines = realloc(lines, lcap * sizeof *lines);
			lens = realloc(lens, lcap * sizeof *lens);
		}
		lines[nlines] = malloc((size_t)got + 1);
		memcpy(lines[nlines], l, (size_t)got);
		if (lines[nlines][got - 1] != '\n')
			lines[nlines][got++] = '\n';
		lens[nlines++] = (size_t)got;
	}
	fclose(f);
	free(l);
	if (!nlines) {
		fprintf(stderr, "bench_latency: %s has no lines\n", path);
		return 2;
	}

	int in[2], out[2];
	if (pipe(in) || pipe(out)) {
		perror("pipe");
		return 2;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execvp(cmd[0], cmd);
		perror(cmd[0]);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	to_child = in[1];
	from_child = out[0];
	signal(SIGPIPE, SIG_IGN);

	char *ans = NULL;
	size_t acap = 0;
	for (size_t i = 0; i < 200; i++) {
		write_all(lines[i % nlines], lens[i % nlines]);
		read_answer(&ans, &acap);
	}
	double *lat = malloc((size_t)reps * sizeof *lat);
	for (long i = 0; i < reps; i++) {
		size_t k = (size_t)i % nlines;
		double t0 = now_us();
		write_all(lines[k], lens[k]);
		read_answer(&ans, &acap);
		lat[i] = now_us() - t0;
		if (expect && !strstr(ans, expect)) {
			fprintf(stderr, "bench_latency: unexpected answer: %.200s\n", ans);
			return 1;
		}
	}
	close(to_child);
	int st;
	waitpid(pid, &st, 0);
	qsort(lat, (size_t)reps, sizeof *lat, cmp_double);
	printf("p50 %6.0f us   p99 %6.0f us   max %6.0f us\n", lat[reps / 2], lat[reps * 99 / 100],
	       lat[reps - 1]);
	for (size_t i = 0; i < nlines; i++)
		free(lines[i]);
	free(lines);
	free(lens);
	free(lat);
	free(ans);
	return 0;
}
