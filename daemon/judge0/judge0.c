/* The queue and workers of Judge0 submissions (judge0.h). The store is
 * the truth: the queue holds tokens only, a worker reads the record,
 * marks it running, runs it, writes it done. */
#include "judge0_daemon.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "clock.h"
#include "executor.h"
#include "judge0.h"
#include "judge0_int.h"
#include "log.h"
#include "store/store.h"

/* An Execute refused for a full executor queue is retried after this. */
#define RETRY_MS 200

static const char *const state_words[] = {"queued", "running", "done"};

int sbx_j0_save(struct sbx_judge0 *j, const Sbx__Judge0Submission *s, enum j0_state st)
{
	size_t n = protobuf_c_message_get_packed_size(&s->base);
	_cleanup_free_ uint8_t *buf = malloc(n ? n : 1);
	struct sbx_store_object o = {
		.id = s->token,
		.kind = SBX_J0_KIND,
		.status = state_words[st],
		.owner = "",
		.created_ms = s->created_ms,
		.used_ms = s->finished_ms ? s->finished_ms : s->created_ms,
	};

	if (!buf)
		return -ENOMEM;
	protobuf_c_message_pack(&s->base, buf);
	o.record = buf;
	o.record_len = n;
	return sbx_store_put_object(j->store, &o);
}

static int unpack_cb(void *arg, const struct sbx_store_object *rec)
{
	Sbx__Judge0Submission **ret = arg;

	*ret = sbx__judge0_submission__unpack(NULL, rec->record_len, rec->record);
	return *ret ? 0 : -EBADMSG;
}

int sbx_j0_load(struct sbx_judge0 *j, const char *token, Sbx__Judge0Submission **ret)
{
	*ret = NULL;
	return sbx_store_get_object(j->store, token, unpack_cb, ret);
}

bool sbx_j0_push(struct sbx_judge0 *j, const char *token, bool over_bound)
{
	char *t;

	if (j->n == j->cap || (!over_bound && j->n >= j->cfg->judge0_max_queue))
		return false;
	t = strdup(token);
	if (!t)
		return false;
	j->ring[(j->head + j->n++) % j->cap] = t;
	pthread_cond_signal(&j->cond);
	return true;
}

/* Drop finished submissions past the count and the age. */
void sbx_j0_retain(struct sbx_judge0 *j)
{
	int64_t oldest_ms = sbx_clock_wall_ms() - (int64_t)j->cfg->judge0_keep_s * 1000;

	pthread_mutex_lock(&j->retain_lock);
	sbx_j0_trim(j, j->cfg->judge0_keep_max, oldest_ms);
	pthread_mutex_unlock(&j->retain_lock);
}

/* Run s to its end (number_of_runs, or the first run not Accepted). */
static int run(struct sbx_judge0 *j, Sbx__Judge0Submission *s)
{
	double time_sum = 0;
	int64_t memory_sum = 0;
	int r;

	do {
		Sbx__ExecuteRequest x = SBX__EXECUTE_REQUEST__INIT;
		struct sbx_rpc_call call = {.method = "Execute", .client = ""};
		Sbx__ExecResult *res = NULL;

		r = sbx_j0_execute_request(s, &x);
		if (r < 0)
			return r;
		while ((r = sbx_executor_execute(j->exec, &call, &x, &res)) == -EAGAIN &&
		       !j->stopping)
			nanosleep(&(struct timespec){0, RETRY_MS * 1000000L}, NULL);
		free(x.code);
		if (r == -EAGAIN)
			return -ECANCELED; /* the executor stayed full until the shutdown */
		if (r < 0) {
			/* Refused (a limit, a disabled language) or the backend
			 * failed: Judge0's Internal Error, with the sentence. */
			const char *why = call.error[0] ? call.error : strerror(-r);

			s->has_status_id = true;
			s->status_id = SBX_J0_INTERNAL_ERROR;
			return sbx_j0_set_bytes(&s->message, &s->has_message, why, strlen(why),
						true);
		}
		r = sbx_j0_add_run(s, res, &time_sum, &memory_sum);
		sbx__exec_result__free_unpacked(res, NULL);
	} while (r > 0 && !j->stopping);
	return r;
}

static void work_one(struct sbx_judge0 *j, const char *token)
{
	Sbx__Judge0Submission *s = NULL;
	int r = sbx_j0_load(j, token, &s);

	if (r < 0) {
		if (r != -ENOENT)
			log_error("judge0 %s: cannot read it: %s", token, strerror(-r));
		return;
	}
	s->has_status_id = s->has_started_ms = true;
	s->status_id = SBX_J0_PROCESSING;
	s->started_ms = sbx_clock_wall_ms();
	free(s->execution_host);
	s->execution_host = strdup(j->cfg->node_id ? j->cfg->node_id : "");
	r = sbx_j0_save(j, s, J0_RUNNING);
	if (r == 0)
		r = run(j, s);
	if (r == -ECANCELED || (r == 0 && j->stopping && s->status_id <= SBX_J0_PROCESSING)) {
		/* Cut short by the shutdown: queued again, it runs after the
		 * next start. */
		s->status_id = SBX_J0_IN_QUEUE;
		s->has_started_ms = false;
		r = sbx_j0_save(j, s, J0_QUEUED);
		if (r < 0)
			log_error("judge0 %s: %s", token, strerror(-r));
		sbx__judge0_submission__free_unpacked(s, NULL);
		return;
	}
	s->has_finished_ms = true;
	s->finished_ms = sbx_clock_wall_ms();
	sbx_j0_drop_files(s);
	if (r == 0)
		r = sbx_j0_save(j, s, J0_DONE);
	if (r < 0)
		log_error("judge0 %s: %s", token, strerror(-r));
	else
		sbx_j0_finished(j, s);
	sbx__judge0_submission__free_unpacked(s, NULL);
	sbx_j0_retain(j);
}

static void *worker(void *arg)
{
	struct sbx_judge0 *j = arg;

	pthread_mutex_lock(&j->lock);
	for (;;) {
		char *token;

		while (!j->stopping && j->n == 0)
			pthread_cond_wait(&j->cond, &j->lock);
		if (j->stopping)
			break;
		token = j->ring[j->head];
		j->head = (j->head + 1) % j->cap;
		j->n--;
		j->running++;
		pthread_mutex_unlock(&j->lock);
		work_one(j, token);
		free(token);
		pthread_mutex_lock(&j->lock);
		j->running--;
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

/* Queued and running rows of a previous run go back in the queue, oldest
 * first, whatever the bound (they were admitted under it). */
static int requeue_cb(void *arg, const struct sbx_store_object *rec)
{
	struct sbx_judge0 *j = arg;

	if (strcmp(rec->status, state_words[J0_DONE]) == 0)
		return 0;
	if (!sbx_j0_push(j, rec->id, true))
		log_warn("judge0 %s: no room to queue it again; it stays as it was", rec->id);
	else
		j->requeued++;
	return 0;
}

int sbx_judge0_open(const struct sbx_config *cfg, struct sbx_executor *exec,
		    struct sbx_store *store, struct sbx_judge0 **ret)
{
	struct sbx_judge0 *j = calloc(1, sizeof(*j));
	int r;

	if (!j)
		return -ENOMEM;
	j->cfg = cfg;
	j->exec = exec;
	j->store = store;
	/* Room for the bound plus what a restart may bring back. */
	j->cap = cfg->judge0_max_queue + cfg->judge0_workers + 1024;
	j->ring = calloc(j->cap, sizeof(char *));
	j->workers = calloc(cfg->judge0_workers, sizeof(pthread_t));
	pthread_mutex_init(&j->lock, NULL);
	pthread_mutex_init(&j->retain_lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	if (!j->ring || !j->workers) {
		sbx_judge0_close(j);
		return -ENOMEM;
	}
	r = sbx_store_each_object(store, SBX_J0_KIND, requeue_cb, j);
	if (r < 0) {
		sbx_judge0_close(j);
		return r;
	}
	r = sbx_j0_callbacks_start(j);
	if (r < 0) {
		sbx_judge0_close(j);
		return r;
	}
	if (j->requeued)
		log_info("judge0: %u submissions queued again after the restart", j->requeued);
	for (; j->n_workers < cfg->judge0_workers; j->n_workers++)
		if (pthread_create(&j->workers[j->n_workers], NULL, worker, j) != 0) {
			sbx_judge0_close(j);
			return -EAGAIN;
		}
	*ret = j;
	return 0;
}

void sbx_judge0_close(struct sbx_judge0 *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->lock);
	j->stopping = true;
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->lock);
	for (unsigned i = 0; i < j->n_workers; i++)
		pthread_join(j->workers[i], NULL);
	/* After the workers: the callbacks of their last runs go too. */
	sbx_j0_callbacks_stop(j);
	for (size_t i = 0; i < j->n; i++)
		free(j->ring[(j->head + i) % j->cap]);
	free(j->ring);
	free(j->workers);
	pthread_mutex_destroy(&j->lock);
	pthread_mutex_destroy(&j->retain_lock);
	pthread_cond_destroy(&j->cond);
	free(j);
}
