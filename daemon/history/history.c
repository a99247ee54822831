#include "history.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cleanup.h"
#include "daemon_config.h"
#include "envelope.h"
#include "log.h"
#include "objects.h"
#include "store.h"

#define LIST_DEFAULT 100
#define LIST_MAX 1000
/* argv[0] is the caller's: the history keeps a bounded copy. */
#define LANGUAGE_MAX 256

struct sbx_history {
	struct sbx_store *store;
	struct sbx_audit *audit; /* NULL: audit log disabled */
	size_t output_bytes;	 /* kept per stream (HISTORY_OUTPUT_BYTES) */
};

int sbx_history_open(const struct sbx_config *cfg, struct sbx_store *store,
		     struct sbx_history **ret)
{
	struct sbx_history *h = calloc(1, sizeof(*h));
	_cleanup_free_ char *path = NULL;
	int r;

	if (!h)
		return -ENOMEM;
	h->store = store;
	h->output_bytes = cfg->history_output_bytes;
	if (cfg->enable_audit_log) {
		if (asprintf(&path, "%s/audit.log", cfg->state_dir) < 0) {
			path = NULL;
			free(h);
			return -ENOMEM;
		}
		r = sbx_audit_open(path, &h->audit);
		if (r < 0) {
			log_error("cannot open the audit log %s: %s", path, strerror(-r));
			free(h);
			return r;
		}
	}
	*ret = h;
	return 0;
}

void sbx_history_close(struct sbx_history *h)
{
	if (!h)
		return;
	sbx_audit_close(h->audit);
	free(h);
}

/* Whose language counter an execution moves (see SBX_HISTORY_PREFIX_LANG). */
static bool has_runtime(const char *kind)
{
	return strcmp(kind, "execute") == 0 || strcmp(kind, "sandbox") == 0 ||
	       strcmp(kind, "install") == 0;
}

static void count(struct sbx_history *h, const struct sbx_exec_report *rep)
{
	const Sbx__ExecResult *res = rep->res;
	char lang[sizeof(SBX_HISTORY_PREFIX_LANG) + 64];
	struct sbx_store_delta d[6];
	size_t n = 0;

	if (!res) {
		if (rep->error == -EAGAIN || rep->error == -ETIMEDOUT)
			d[n++] = (struct sbx_store_delta){"executions_rejected", 1};
	} else {
		bool ok = res->status == SBX__EXEC_STATUS__EXEC_STATUS_OK && res->exit_code == 0;
		bool timeout = res->status == SBX__EXEC_STATUS__EXEC_STATUS_TIME_LIMIT ||
			       res->status == SBX__EXEC_STATUS__EXEC_STATUS_WALL_TIME_LIMIT;

		snprintf(lang, sizeof(lang), "%s%.64s", SBX_HISTORY_PREFIX_LANG,
			 has_runtime(rep->kind) && *rep->language ? rep->language : "command");
		d[n++] = (struct sbx_store_delta){"executions_total", 1};
		d[n++] = (struct sbx_store_delta){ok ? "executions_ok" : "executions_failed", 1};
		if (timeout)
			d[n++] = (struct sbx_store_delta){"executions_timeouts", 1};
		d[n++] = (struct sbx_store_delta){"executions_time_ms", (int64_t)res->wall_time_ms};
		d[n++] = (struct sbx_store_delta){lang, 1};
	}
	if (n && sbx_store_counters_add(h->store, d, n) < 0)
		sbx_log(SBX_LOG_WARN, rep->execution_id, "execution not counted in the stats");
}

/* One output as kept: the first output_bytes of it. */
static struct sbx_store_output kept(const struct sbx_history *h, const ProtobufCBinaryData *b,
				    bool truncated)
{
	size_t n = b->len < h->output_bytes ? b->len : h->output_bytes;

	return (struct sbx_store_output){b->data, n, truncated || n < b->len};
}

/* The compile step's stdout then stderr, for compile_output (freed by the
 * caller); NULL data when there was no compile step. */
static int compile_output(const struct sbx_history *h, const Sbx__ExecResult *c,
			  struct sbx_store_output *o, uint8_t **buf)
{
	size_t n1, n2;

	*buf = NULL;
	if (!c || !h->output_bytes)
		return 0;
	n1 = c->stdout.len < h->output_bytes ? c->stdout.len : h->output_bytes;
	n2 = c->stderr.len < h->output_bytes - n1 ? c->stderr.len : h->output_bytes - n1;
	*buf = malloc(n1 + n2 + 1);
	if (!*buf)
		return -ENOMEM;
	if (n1)
		memcpy(*buf, c->stdout.data, n1);
	if (n2)
		memcpy(*buf + n1, c->stderr.data, n2);
	*o = (struct sbx_store_output){*buf, n1 + n2,
				       c->stdout_truncated || c->stderr_truncated ||
					       n1 + n2 < c->stdout.len + c->stderr.len};
	return 0;
}

void sbx_history_record(struct sbx_history *h, const struct sbx_exec_report *rep)
{
	const Sbx__ExecResult *res = rep->res;
	char language[LANGUAGE_MAX + 1];
	_cleanup_free_ uint8_t *cbuf = NULL;
	int r;

	if (h->audit && (r = sbx_audit_write(h->audit, rep)) < 0)
		sbx_log(SBX_LOG_WARN, rep->execution_id, "cannot write the audit log: %s",
			strerror(-r));
	count(h, rep);
	if (!res)
		return; /* refused: nothing ran, no row */
	snprintf(language, sizeof(language), "%s", rep->language);
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
		&sbx__exec_status__descriptor, sbx_exec_status_shown(res->status));
	struct sbx_store_execution rec = {
		.id = rep->execution_id,
		.object_kind = rep->kind,
		.object_id = rep->object_id,
		.status = v ? v->name : "EXEC_STATUS_INTERNAL_ERROR",
		.started_ms = rep->started_ms,
		.duration_ms = res->wall_time_ms,
		.exit_code = res->exit_code,
		.signal = res->signal,
		.language = language,
		.client = *rep->client ? rep->client : "rpc",
		.memory_peak_kb = res->memory_peak_kb,
		.cpu_time_ms = res->cpu_time_ms,
		.out = {kept(h, &res->stdout, res->stdout_truncated),
			kept(h, &res->stderr, res->stderr_truncated)},
	};

	if (compile_output(h, res->compile, &rec.out[SBX_STORE_COMPILE], &cbuf) < 0 ||
	    sbx_store_add_execution(h->store, &rec) < 0)
		sbx_log(SBX_LOG_WARN, rep->object_id[0] ? rep->object_id : NULL,
			"execution %s not recorded in the history", rep->execution_id);
}

static Sbx__Execution *execution_new(const struct sbx_store_execution *rec)
{
	Sbx__Execution *e = (Sbx__Execution *)sbx_message_new(&sbx__execution__descriptor);
	const ProtobufCEnumValue *v;

	if (!e)
		return NULL;
	v = protobuf_c_enum_descriptor_get_value_by_name(&sbx__exec_status__descriptor,
							 rec->status);
	e->execution_id = strdup(rec->id);
	e->language = strdup(rec->language);
	e->status = v ? (Sbx__ExecStatus)v->value : SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
	e->exit_code = rec->exit_code;
	e->signal = rec->signal;
	e->execution_time_ms = rec->duration_ms;
	e->memory_peak_kb = rec->memory_peak_kb;
	e->started_at = sbx_iso8601(rec->started_ms);
	/* Rows of schema 1 have no client. */
	e->client = strdup(*rec->client ? rec->client : "rpc");
	e->kind = strdup(rec->object_kind);
	e->object_id = strdup(rec->object_id);
	if (!e->execution_id || !e->language || !e->started_at || !e->client || !e->kind ||
	    !e->object_id) {
		protobuf_c_message_free_unpacked(&e->base, NULL);
		return NULL;
	}
	return e;
}

static int add_row(void *arg, const struct sbx_store_execution *rec)
{
	Sbx__ListExecutionsReply *r = arg;
	Sbx__Execution *e = execution_new(rec);

	if (!e)
		return -ENOMEM;
	r->executions[r->n_executions++] = e;
	return 0;
}

int sbx_history_list(struct sbx_history *h, struct sbx_rpc_call *call,
		     const Sbx__ListExecutionsRequest *req, Sbx__ListExecutionsReply **ret)
{
	unsigned limit = req->limit ? req->limit : LIST_DEFAULT;
	int64_t started_before = INT64_MAX;
	Sbx__ListExecutionsReply *r;
	int rv;

	if (limit > LIST_MAX)
		return sbx_rpc_error(call, -EINVAL, "field 'limit' must be from 1 to %d", LIST_MAX);
	if (req->before && *req->before && strlen(req->before) > 64)
		return sbx_rpc_error(call, -EINVAL, "field 'before' must be an execution id");
	if (req->started_before && *req->started_before &&
	    sbx_iso8601_parse(req->started_before, &started_before) < 0)
		return sbx_rpc_error(call, -EINVAL,
				     "field 'started_before' must be a time in ISO 8601 UTC, as "
				     "started_at shows it (2026-01-02T03:04:05.678Z)");
	r = (Sbx__ListExecutionsReply *)sbx_message_new(&sbx__list_executions_reply__descriptor);
	if (!r)
		return -ENOMEM;
	r->executions = calloc(limit, sizeof(*r->executions));
	if (!r->executions) {
		protobuf_c_message_free_unpacked(&r->base, NULL);
		return -ENOMEM;
	}
	rv = sbx_store_list_executions(h->store, req->before, started_before, limit, add_row, r);
	if (rv < 0) {
		protobuf_c_message_free_unpacked(&r->base, NULL);
		if (rv == -ENOENT)
			return sbx_rpc_error(call, -ENOENT, "execution '%.64s' not found",
					     req->before);
		return rv;
	}
	*ret = r;
	return 0;
}

static int bytes_copy(ProtobufCBinaryData *dst, const struct sbx_store_output *o)
{
	dst->data = malloc(o->len + 1);
	if (!dst->data)
		return -ENOMEM;
	if (o->len)
		memcpy(dst->data, o->data, o->len);
	dst->len = o->len;
	return 0;
}

/* GetExecution: the row and what it printed. */
static int take_one(void *arg, const struct sbx_store_execution *rec)
{
	Sbx__Execution **e = arg;

	*e = execution_new(rec);
	if (!*e || bytes_copy(&(*e)->stdout, &rec->out[SBX_STORE_STDOUT]) < 0 ||
	    bytes_copy(&(*e)->stderr, &rec->out[SBX_STORE_STDERR]) < 0 ||
	    bytes_copy(&(*e)->compile_output, &rec->out[SBX_STORE_COMPILE]) < 0)
		return -ENOMEM;
	(*e)->stdout_truncated = rec->out[SBX_STORE_STDOUT].truncated;
	(*e)->stderr_truncated = rec->out[SBX_STORE_STDERR].truncated;
	(*e)->compile_output_truncated = rec->out[SBX_STORE_COMPILE].truncated;
	return 0;
}

int sbx_history_get(struct sbx_history *h, struct sbx_rpc_call *call, const char *id,
		    Sbx__Execution **ret)
{
	Sbx__Execution *e = NULL;
	int r;

	if (!id || !*id)
		return sbx_rpc_error(call, -EINVAL, "field 'execution_id' is required");
	r = strlen(id) > 64 ? -ENOENT : sbx_store_get_execution(h->store, id, take_one, &e);
	if (r == -ENOENT)
		return sbx_rpc_error(call, -ENOENT, "execution '%.64s' not found", id);
	if (r < 0) {
		if (e)
			protobuf_c_message_free_unpacked(&e->base, NULL);
		return r;
	}
	*ret = e;
	return 0;
}
