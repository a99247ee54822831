#include "admin.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "daemon_config.h"
#include "host.h"
#include "log.h"
#include "objects.h"

/* Sandboxes whose last output is kept, at most (times SBX_OUTPUTS_TAIL
 * twice: 32 MiB at worst). */
#define OUTPUTS_MAX 1024
/* Shorter intervals give noisy percentages: reuse the last figure. */
#define CPU_MIN_INTERVAL_MS 200

struct sbx_admin {
	struct sbx_logring *ring;
	struct sbx_log_sink sink;
	struct sbx_outputs *outputs;

	pthread_mutex_t cpu_lock; /* guards the fields below */
	struct sbx_cpu_sample prev;
	int64_t prev_ms; /* CLOCK_MONOTONIC; 0 = no sample yet */
	double last_percent;
};

int sbx_admin_new(const struct sbx_config *cfg, struct sbx_admin **ret)
{
	struct sbx_admin *a = calloc(1, sizeof(*a));
	unsigned n_out = cfg->max_sandboxes < OUTPUTS_MAX ? cfg->max_sandboxes : OUTPUTS_MAX;
	int r;

	if (!a)
		return -ENOMEM;
	pthread_mutex_init(&a->cpu_lock, NULL);
	r = sbx_logring_new(cfg->log_ring_lines ? cfg->log_ring_lines : 1000, &a->ring);
	if (r == 0)
		r = sbx_outputs_new(n_out ? n_out : 1, &a->outputs);
	if (r < 0) {
		sbx_logring_free(a->ring);
		pthread_mutex_destroy(&a->cpu_lock);
		free(a);
		return r;
	}
	a->sink.fn = sbx_logring_sink;
	a->sink.arg = a->ring;
	sbx_log_set_sink(&a->sink);
	*ret = a;
	return 0;
}

void sbx_admin_free(struct sbx_admin *a)
{
	if (!a)
		return;
	sbx_log_set_sink(NULL);
	sbx_logring_free(a->ring);
	sbx_outputs_free(a->outputs);
	pthread_mutex_destroy(&a->cpu_lock);
	free(a);
}

void sbx_admin_record(struct sbx_admin *a, const struct sbx_exec_report *rep)
{
	/* Only sandbox runs: installs would hide the program's own output,
	 * sessions and one-off runs have no admin view. */
	if (!rep->res || strcmp(rep->kind, "sandbox") != 0 || !*rep->object_id)
		return;
	if (sbx_outputs_put(a->outputs, rep->object_id, sbx_clock_wall_ms(), rep->res) < 0)
		sbx_log(SBX_LOG_WARN, rep->object_id, "last output not kept for the admin API");
}

struct sbx_logring *sbx_admin_logs(struct sbx_admin *a)
{
	return a->ring;
}
struct sbx_outputs *sbx_admin_outputs(struct sbx_admin *a)
{
	return a->outputs;
}

double sbx_admin_cpu_percent(struct sbx_admin *a)
{
	struct sbx_cpu_sample now;
	int64_t t = sbx_clock_mono_ms();
	double pct;

	pthread_mutex_lock(&a->cpu_lock);
	if (a->prev_ms && t - a->prev_ms < CPU_MIN_INTERVAL_MS) {
		pct = a->last_percent;
	} else if (sbx_host_cpu_sample("/proc/stat", &now) < 0) {
		pct = a->last_percent;
	} else {
		pct = sbx_host_cpu_percent(a->prev_ms ? &a->prev : NULL, &now);
		a->prev = now;
		a->prev_ms = t;
		a->last_percent = pct;
	}
	pthread_mutex_unlock(&a->cpu_lock);
	return pct;
}
