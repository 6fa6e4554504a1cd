/*
 * ahead.c — the input read a chunk ahead, on a second thread (see ahead.h).
 *
 * Two chunks: while the main thread uses one, the helper reads and prepares
 * the other.  The helper only runs between hand_over and wait_helper, and
 * only it touches the input meanwhile.  A chunk's lines are prepared a block
 * at a time, claimed under the lock by the helper and by the main thread
 * when it comes to wait for the chunk: the last block done ends the job.
 */
#include "ahead.h"
#include "cli.h"
#include "../lib/record.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct ahead {
	pd_input *in;
	int max_lines;
	size_t max_bytes;
	const cli_ahead_ops *ops;
	void *ud;
	FILE *spill;		/* over-long lines' bytes, until they are taken */
	int eof;		/* the input is read to its end */
	cli_chunk *job;		/* handed to the helper, NULL when done */
	int fresh;		/* job is still to be read */
	int preparing;		/* job's lines are being claimed */
	int next, done;		/* the next line to claim; lines prepared */
	int quit;
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
} ahead;

static FILE *spill_now;	/* cli_ahead_take's view of the running read's spill */

/* read_chunk: up to max_lines lines (and about max_bytes) copied into c */
static void read_chunk(ahead *A, cli_chunk *c)
{
	c->n = 0;
	pd_buf_reset(&c->text);
	while (!A->eof && c->n < A->max_lines && c->text.len < A->max_bytes) {
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 64;
			c->l = xreallocarray(c->l, (size_t)c->cap, sizeof *c->l);
		}
		cli_aline *a = &c->l[c->n];
		const char *line;
		size_t len;
		long from = A->spill ? ftell(A->spill) : 0;
		int r = pd_input_next(A->in, &line, &len, &a->err);
		if (r == PD_LINE_EOF) {
			A->eof = 1;
			break;
		}
		a->file = pd_input_name(A->in);
		a->lineno = pd_input_lineno(A->in);
		a->what = r;
		if (r == PD_LINE_OK) {
			a->off = c->text.len;
			a->len = len;
			pd_buf_add(&c->text, line, len);
			pd_buf_addc(&c->text, '\0');
		} else if (r == PD_LINE_TOOLONG) {
			a->spill_from = from;
			a->spill_to = A->spill ? ftell(A->spill) : 0;
		}
		c->n++;
	}
	if (A->spill)
		fflush(A->spill);
	if (A->ops->setup)
		A->ops->setup(c, A->ud);
}

enum { BLOCK = 32 };

/* share: with the lock held, prepare blocks of the job's lines while some
   are left to claim; returns with the lock held */
static void share(ahead *A, int who)
{
	cli_chunk *c = A->job;
	while (A->preparing && A->next < c->n) {
		int i0 = A->next, i1 = c->n - i0 < BLOCK ? c->n : i0 + BLOCK;
		A->next = i1;
		pthread_mutex_unlock(&A->mu);
		for (int i = i0; i < i1; i++)
			A->ops->prepare(c, i, who, A->ud);
		pthread_mutex_lock(&A->mu);
		A->done += i1 - i0;
		if (A->done == c->n) {
			A->preparing = 0;
			A->job = NULL;
			pthread_cond_broadcast(&A->cv);
		}
	}
}

static void *helper_main(void *arg)
{
	ahead *A = arg;
	pthread_mutex_lock(&A->mu);
	for (;;) {
		while (!A->fresh && !A->quit)
			pthread_cond_wait(&A->cv, &A->mu);
		if (A->quit)
			break;
		cli_chunk *c = A->job;
		A->fresh = 0;
		pthread_mutex_unlock(&A->mu);
		read_chunk(A, c);
		pthread_mutex_lock(&A->mu);
		A->next = A->done = 0;
		if (c->n && A->ops->prepare) {
			A->preparing = 1;
			pthread_cond_broadcast(&A->cv);	/* the main thread may help */
			share(A, 0);
		} else {
			A->job = NULL;
			pthread_cond_broadcast(&A->cv);
		}
	}
	pthread_mutex_unlock(&A->mu);
	pd_record_thread_release();
	return NULL;
}

static void hand_over(ahead *A, cli_chunk *c)
{
	if (A->ops->hand)
		A->ops->hand(c, A->ud);
	pthread_mutex_lock(&A->mu);
	A->job = c;
	A->fresh = 1;
	pthread_cond_broadcast(&A->cv);
	pthread_mutex_unlock(&A->mu);
}

static void wait_helper(ahead *A)
{
	pthread_mutex_lock(&A->mu);
	while (A->job) {
		if (A->preparing && A->next < A->job->n)
			share(A, 1);
		else
			pthread_cond_wait(&A->cv, &A->mu);
	}
	pthread_mutex_unlock(&A->mu);
}

/* copy_spill: an over-long line's spilled bytes on to --rejects */
static void copy_spill(const cli_aline *a)
{
	char buf[1 << 16];
	if (!spill_now || !cli.rejects || a->spill_to <= a->spill_from)
		return;
	for (long at = a->spill_from; at < a->spill_to;) {
		long want = a->spill_to - at < (long)sizeof buf ? a->spill_to - at : (long)sizeof buf;
		ssize_t k = pread(fileno(spill_now), buf, (size_t)want, (off_t)at);
		if (k <= 0)
			cli_fatal(3, "spill file: %s", k < 0 ? strerror(errno) : "short read");
		fwrite(buf, 1, (size_t)k, cli.rejects);
		at += (long)k;
	}
}

int cli_ahead_take(const cli_chunk *c, int i)
{
	const cli_aline *a = &c->l[i];
	if (a->what == PD_LINE_TOOLONG)
		copy_spill(a);
	return cli_account_line(a->what, a->file, a->lineno, &a->err) > 0;
}

void cli_read_ahead(pd_input *in, int max_lines, size_t max_bytes, const cli_ahead_ops *ops,
		    void *ud)
{
	ahead A;
	memset(&A, 0, sizeof A);
	A.in = in;
	A.max_lines = max_lines > 0 ? max_lines : 1;
	A.max_bytes = max_bytes;
	A.ops = ops;
	A.ud = ud;
	if (cli.rejects && !ops->again) {
		pd_err err;
		A.spill = pd_tmpfile(&err);
		if (!A.spill)
			cli_fatal_err(&err);
		pd_input_set_spill(in, A.spill);
	}
	spill_now = A.spill;
	pthread_mutex_init(&A.mu, NULL);
	pthread_cond_init(&A.cv, NULL);
	int threaded = pthread_create(&A.tid, NULL, helper_main, &A) == 0;
	cli_chunk c[2];
	memset(c, 0, sizeof c);
	if (threaded) {
		int cur = 0;
		hand_over(&A, &c[0]);
		wait_helper(&A);
		for (;;) {
			cli_chunk *now = &c[cur], *next = &c[1 - cur];
			int more = !A.eof;	/* the helper is idle here */
			if (more)
				hand_over(&A, next);	/* read while this one is used */
			ops->use(now, ud);
			if (!more)
				break;
			wait_helper(&A);
			if (!next->n)
				break;
			cur = 1 - cur;
		}
		pthread_mutex_lock(&A.mu);
		A.quit = 1;
		pthread_cond_broadcast(&A.cv);
		pthread_mutex_unlock(&A.mu);
		pthread_join(A.tid, NULL);
	} else {
		while (!A.eof) {
			if (ops->hand)
				ops->hand(&c[0], ud);
			read_chunk(&A, &c[0]);
			if (ops->prepare)
				for (int i = 0; i < c[0].n; i++)
					ops->prepare(&c[0], i, 0, ud);
			ops->use(&c[0], ud);
		}
	}
	for (int k = 0; k < 2; k++) {
		if (ops->release)
			ops->release(&c[k], ud);
		free(c[k].l);
		pd_buf_release(&c[k].text);
	}
	pthread_mutex_destroy(&A.mu);
	pthread_cond_destroy(&A.cv);
	if (A.spill) {
		pd_input_set_spill(in, cli.rejects);
		fclose(A.spill);
	}
	spill_now = NULL;
}
