/*
 * batch.c — lines handed to a worker thread in batches (see batch.h).
 *
 * One worker thread, a ring of batches each EMPTY (being filled or free),
 * QUEUED (submitted, not worked yet) or DONE.  Submission order is kept by a
 * sequence number; the worker takes the oldest queued batch, the reader
 * waits for the oldest submitted one.
 */
#include "pd.h"
#include "batch.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { B_EMPTY, B_FILLING, B_QUEUED, B_WORKING, B_DONE };

struct pd_batcher {
	pd_batch *b;
	int nb;
	pd_batch_work work;
	void *ud;
	int next_seq;		/* given to the next submission */
	int out_seq;		/* the next to hand back */
	int stop;
	int threaded;
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t to_worker, to_reader;
};

static pd_batch *oldest(pd_batcher *bt, int state)
{
	pd_batch *best = NULL;
	for (int i = 0; i < bt->nb; i++)
		if (bt->b[i].state == state && (!best || bt->b[i].seq < best->seq))
			best = &bt->b[i];
	return best;
}

static void *worker(void *ud)
{
	pd_batcher *bt = ud;
	pthread_mutex_lock(&bt->mu);
	for (;;) {
		pd_batch *b = oldest(bt, B_QUEUED);
		if (!b) {
			if (bt->stop)
				break;
			pthread_cond_wait(&bt->to_worker, &bt->mu);
			continue;
		}
		b->state = B_WORKING;
		pthread_mutex_unlock(&bt->mu);
		bt->work(b, bt->ud);
		pthread_mutex_lock(&bt->mu);
		b->state = B_DONE;
		pthread_cond_signal(&bt->to_reader);
	}
	pthread_mutex_unlock(&bt->mu);
	return NULL;
}

pd_batcher *pd_batcher_new(int nbatch, int cap, pd_batch_work work, void *ud)
{
	pd_batcher *bt = xcalloc(1, sizeof *bt);
	bt->nb = nbatch < 2 ? 2 : nbatch;
	bt->b = xcalloc((size_t)bt->nb, sizeof *bt->b);
	if (cap < 1)
		cap = 1;
	for (int i = 0; i < bt->nb; i++) {
		pd_batch *b = &bt->b[i];
		b->cap = cap;
		b->off = xmalloc((size_t)cap * sizeof *b->off);
		b->len = xmalloc((size_t)cap * sizeof *b->len);
		b->lineno = xmalloc((size_t)cap * sizeof *b->lineno);
		b->file = xmalloc((size_t)cap * sizeof *b->file);
		b->state = B_EMPTY;
	}
	bt->work = work;
	bt->ud = ud;
	pthread_mutex_init(&bt->mu, NULL);
	pthread_cond_init(&bt->to_worker, NULL);
	pthread_cond_init(&bt->to_reader, NULL);
	bt->threaded = pthread_create(&bt->tid, NULL, worker, bt) == 0;
	return bt;
}

pd_batch *pd_batcher_batch(pd_batcher *bt, int i)
{
	return &bt->b[i];
}

pd_batch *pd_batcher_get(pd_batcher *bt)
{
	pthread_mutex_lock(&bt->mu);
	pd_batch *b = NULL;
	for (int i = 0; i < bt->nb && !b; i++)
		if (bt->b[i].state == B_EMPTY)
			b = &bt->b[i];
	if (b) {
		b->state = B_FILLING;
		b->n = 0;
		pd_buf_reset(&b->text);
	}
	pthread_mutex_unlock(&bt->mu);
	return b;
}

void pd_batch_add(pd_batch *b, const char *line, size_t len, const char *file, long lineno)
{
	b->off[b->n] = b->text.len;
	b->len[b->n] = len;
	b->lineno[b->n] = lineno;
	b->file[b->n] = file;
	pd_buf_add(&b->text, line, len);
	b->n++;
}

pd_batch *pd_batcher_submit(pd_batcher *bt, pd_batch *b)
{
	pthread_mutex_lock(&bt->mu);
	if (b->n == 0) {
		b->state = B_EMPTY;
		pthread_mutex_unlock(&bt->mu);
		return NULL;
	}
	b->seq = bt->next_seq++;
	int have_empty = 0;
	for (int i = 0; i < bt->nb; i++)
		have_empty |= bt->b[i].state == B_EMPTY;
	if (bt->threaded) {
		b->state = B_QUEUED;
		pthread_cond_signal(&bt->to_worker);
	} else {
		pthread_mutex_unlock(&bt->mu);
		bt->work(b, bt->ud);
		pthread_mutex_lock(&bt->mu);
		b->state = B_DONE;
	}
	pthread_mutex_unlock(&bt->mu);
	return have_empty ? NULL : pd_batcher_next(bt);
}

pd_batch *pd_batcher_next(pd_batcher *bt)
{
	pthread_mutex_lock(&bt->mu);
	pd_batch *b = NULL;
	if (bt->out_seq < bt->next_seq) {
		for (;;) {
			for (int i = 0; i < bt->nb && !b; i++)
				if (bt->b[i].seq == bt->out_seq &&
				    (bt->b[i].state == B_QUEUED || bt->b[i].state == B_WORKING ||
				     bt->b[i].state == B_DONE))
					b = &bt->b[i];
			if (!b || b->state == B_DONE)
				break;
			pthread_cond_wait(&bt->to_reader, &bt->mu);
			b = NULL;
		}
		if (b)
			bt->out_seq++;
	}
	pthread_mutex_unlock(&bt->mu);
	return b;
}

void pd_batcher_release(pd_batcher *bt, pd_batch *b)
{
	pthread_mutex_lock(&bt->mu);
	b->state = B_EMPTY;
	pthread_mutex_unlock(&bt->mu);
}

void pd_batcher_free(pd_batcher *bt)
{
	if (!bt)
		return;
	pthread_mutex_lock(&bt->mu);
	bt->stop = 1;
	pthread_cond_signal(&bt->to_worker);
	pthread_mutex_unlock(&bt->mu);
	if (bt->threaded)
		pthread_join(bt->tid, NULL);
	for (int i = 0; i < bt->nb; i++) {
		pd_batch *b = &bt->b[i];
		pd_buf_release(&b->text);
		free(b->off);
		free(b->len);
		free(b->lineno);
		free(b->file);
	}
	free(bt->b);
	pthread_mutex_destroy(&bt->mu);
	pthread_cond_destroy(&bt->to_worker);
	pthread_cond_destroy(&bt->to_reader);
	free(bt);
}
