/* Inside daemon/judge0/: the module's state and what its files share. */
#ifndef SBX_DAEMON_JUDGE0_INT_H
#define SBX_DAEMON_JUDGE0_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "judge0.pb-c.h"

struct sbx_config;
struct sbx_executor;
struct sbx_store;

/* The state store's kind of a submission's row. */
#define SBX_J0_KIND "judge0"

enum j0_state { J0_QUEUED, J0_RUNNING, J0_DONE };

/* Callbacks waiting at most; more are dropped with a warning. */
#define J0_MAX_CALLBACKS 1024

struct j0_callback {
	struct j0_callback *next;
	char *url, *body;
};

struct sbx_judge0 {
	const struct sbx_config *cfg;
	struct sbx_executor *exec;
	struct sbx_store *store;
	pthread_t *workers;
	unsigned n_workers, requeued;
	pthread_mutex_t retain_lock; /* one trim at a time; guards the next */
	int64_t last_age_trim_ms;

	/* Callbacks waiting to be sent, by one thread of their own so a slow
	 * receiver holds no worker; guarded by lock, signalled by cb_cond. */
	pthread_t cb_thread;
	bool cb_started;
	pthread_cond_t cb_cond;
	struct j0_callback *cb_head, **cb_tail;
	unsigned cb_n;

	pthread_mutex_t lock; /* guards what follows */
	pthread_cond_t cond;  /* work queued, or stopping */
	char **ring;	      /* tokens waiting, a ring of cap */
	size_t cap, head, n;
	unsigned running;
	bool stopping;
};

/* Write s's row (status word of st); read one by token (-ENOENT). */
int sbx_j0_save(struct sbx_judge0 *j, const Sbx__Judge0Submission *s, enum j0_state st);
int sbx_j0_load(struct sbx_judge0 *j, const char *token, Sbx__Judge0Submission **ret);
/* Queue a token (j->lock held): false when full (the configured bound,
 * unless over_bound, or the ring itself). */
bool sbx_j0_push(struct sbx_judge0 *j, const char *token, bool over_bound);
/* Drop finished rows past JUDGE0_KEEP_MAX and JUDGE0_KEEP_SECONDS. */
void sbx_j0_retain(struct sbx_judge0 *j);
/* Drop finished rows beyond `keep` and those finished before oldest_ms. */
void sbx_j0_trim(struct sbx_judge0 *j, uint32_t keep, int64_t oldest_ms);
/* s is done and saved: queue its callback, if it has one. */
void sbx_j0_finished(struct sbx_judge0 *j, const Sbx__Judge0Submission *s);
/* The callback thread: start it; stop it, sending what is queued first
 * (j->stopping set). */
int sbx_j0_callbacks_start(struct sbx_judge0 *j);
void sbx_j0_callbacks_stop(struct sbx_judge0 *j);

#endif
