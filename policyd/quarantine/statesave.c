/* statesave.c — one writer thread, one pending text (see statesave.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "file.h"
#include "quarantine/statesave.h"

struct statesave {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake, idle;
	char *path;
	char *text;                       /* pending, not yet started */
	size_t len;
	bool busy;                        /* a write is under way */
	bool stop;                        /* write what is pending, then end */
	bool orphan;                      /* statesave_free gave up: free yourself */
	int error;
	uint64_t done;
};

static void statesave_release(struct statesave *s)
{
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->idle);
	free(s->text);
	free(s->path);
	free(s);
}

/* The next text to write, or NULL once stopped with nothing pending. Lock held. */
static char *next_text(struct statesave *s, size_t *len)
{
	char *t;

	while (!s->text && !s->stop)
		pthread_cond_wait(&s->wake, &s->lock);
	t = s->text;
	*len = s->len;
	s->text = NULL;
	s->busy = t != NULL;
	return t;
}

static void *writer(void *arg)
{
	struct statesave *s = arg;
	bool orphan;
	size_t len;
	char *t;

	pthread_mutex_lock(&s->lock);
	while ((t = next_text(s, &len))) {
		int r;

		pthread_mutex_unlock(&s->lock);
		r = file_write_atomic(s->path, t, len);     /* the slow part, unlocked */
		free(t);
		pthread_mutex_lock(&s->lock);
		s->error = r;
		s->done++;
		s->busy = false;
		pthread_cond_broadcast(&s->idle);
	}
	orphan = s->orphan;
	pthread_mutex_unlock(&s->lock);
	if (orphan)
		statesave_release(s);
	return NULL;
}

int statesave_new(const char *path, struct statesave **out)
{
	struct statesave *s = calloc(1, sizeof(*s));
	int r;

	if (!s || !(s->path = strdup(path))) {
		free(s);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	pthread_cond_init(&s->idle, NULL);
	if ((r = pthread_create(&s->thread, NULL, writer, s)) != 0) {
		statesave_release(s);
		return -r;
	}
	*out = s;
	return 0;
}

void statesave_put(struct statesave *s, char *text, size_t len)
{
	pthread_mutex_lock(&s->lock);
	free(s->text);                               /* superseded before it started */
	s->text = text;
	s->len = len;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

int statesave_error(struct statesave *s, uint64_t *done)
{
	int r;

	pthread_mutex_lock(&s->lock);
	r = s->error;
	if (done)
		*done = s->done;
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* Until nothing is pending or under way, at most until the deadline. */
static int wait_idle(struct statesave *s, int wait_ms)
{
	struct timespec until;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	while ((s->text || s->busy) && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&s->idle, &s->lock, &until);
	return s->text || s->busy ? -ETIMEDOUT : 0;
}

int statesave_free(struct statesave *s, int wait_ms)
{
	pthread_t t;
	int r;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	t = s->thread;                               /* s may be gone once unlocked */
	s->stop = true;
	pthread_cond_signal(&s->wake);
	r = wait_idle(s, wait_ms);
	s->orphan = r < 0;
	pthread_mutex_unlock(&s->lock);
	if (r < 0) {
		pthread_detach(t);                   /* it frees s when the disk lets it */
		return r;
	}
	pthread_join(t, NULL);
	statesave_release(s);
	return 0;
}
