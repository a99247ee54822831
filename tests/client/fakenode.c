#include "fakenode.h"

#include <errno.h>
#include <nng/protocol/reqrep0/rep.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.pb-c.h"
#include "envelope.h"
#include "methods.h"
#include "nodeid.h"
#include "status.h"

static void reply(struct fake_node *f, nng_msg *req, uint64_t id, int status,
		  const ProtobufCMessage *payload)
{
	void *buf = NULL;
	size_t len;

	/* Raw rep: the reply carries the request's header (its route). */
	nng_msg_clear(req);
	if (sbx_envelope_pack_reply(id, status, status ? "fake says no" : "", payload, &buf, &len) == 0 &&
	    nng_msg_append(req, buf, len) == 0 && nng_sendmsg(f->sock, req, 0) == 0)
		req = NULL;
	free(buf);
	if (req)
		nng_msg_free(req);
}

static void answer_health(struct fake_node *f, nng_msg *m, uint64_t id)
{
	Sbx__HealthReply h = SBX__HEALTH_REPLY__INIT;
	Sbx__Node n = SBX__NODE__INIT;

	h.status = "ok";
	n.id = f->id;
	n.tag = f->tag;
	n.running = atomic_load(&f->load_running);
	n.slots = atomic_load(&f->load_slots);
	n.objects = atomic_load(&f->load_objects);
	n.memory_available_mb = 1000;
	h.node = &n;
	reply(f, m, id, SBX_OK, &h.base);
}

static void answer_sandbox(struct fake_node *f, nng_msg *m, uint64_t id, const char *sid)
{
	Sbx__Sandbox s = SBX__SANDBOX__INIT;
	char fresh[SBX_UUID_LEN + 1];

	if (!sid) {
		sbx_tagged_uuid(f->tag, fresh);
		sid = fresh;
	}
	s.id = (char *)sid;
	s.node = f->id;
	reply(f, m, id, SBX_OK, &s.base);
}

static void answer_get(struct fake_node *f, nng_msg *m, uint64_t id, const char *sid)
{
	char tag[9];

	if ((sbx_id_tag(sid, tag) && strcmp(tag, f->tag) == 0) || strcmp(sid, f->extra_id) == 0)
		answer_sandbox(f, m, id, sid);
	else
		reply(f, m, id, SBX_NOT_FOUND, NULL);
}

static void answer_list(struct fake_node *f, nng_msg *m, uint64_t id)
{
	Sbx__ListSandboxesReply l = SBX__LIST_SANDBOXES_REPLY__INIT;
	Sbx__Sandbox a = SBX__SANDBOX__INIT, b = SBX__SANDBOX__INIT, *v[2] = { &a, &b };

	a.id = "one";
	b.id = "two";
	a.node = b.node = f->id;
	l.sandboxes = v;
	l.n_sandboxes = 2;
	reply(f, m, id, SBX_OK, &l.base);
}

/* Newest first, after the `before` execution, before started_before. */
static void answer_executions(struct fake_node *f, nng_msg *m, uint64_t id,
			      const Sbx__ListExecutionsRequest *q)
{
	Sbx__ListExecutionsReply l = SBX__LIST_EXECUTIONS_REPLY__INIT;
	Sbx__Execution e[FAKE_EXECUTIONS], *v[FAKE_EXECUTIONS];
	bool past = !*q->before;

	for (int i = 0; i < FAKE_EXECUTIONS; i++) {
		if (!past) {
			past = strcmp(f->exec_id[i], q->before) == 0;
			continue;
		}
		if (*q->started_before && strcmp(f->exec_at[i], q->started_before) >= 0)
			continue;
		if (q->limit && l.n_executions >= q->limit)
			break;
		sbx__execution__init(&e[l.n_executions]);
		e[l.n_executions].execution_id = f->exec_id[i];
		e[l.n_executions].started_at = f->exec_at[i];
		e[l.n_executions].node = f->id;
		v[l.n_executions] = &e[l.n_executions];
		l.n_executions++;
	}
	l.executions = v;
	reply(f, m, id, SBX_OK, &l.base);
}

static void answer_execution(struct fake_node *f, nng_msg *m, uint64_t id, const char *eid)
{
	Sbx__Execution e = SBX__EXECUTION__INIT;

	for (int i = 0; i < FAKE_EXECUTIONS; i++) {
		if (strcmp(f->exec_id[i], eid) == 0) {
			e.execution_id = f->exec_id[i];
			e.started_at = f->exec_at[i];
			e.node = f->id;
			reply(f, m, id, SBX_OK, &e.base);
			return;
		}
	}
	reply(f, m, id, SBX_NOT_FOUND, NULL);
}

/* Its pools of pre-built sandboxes in p[0..), pointed at by v: an "exec"
 * one on every node, figures from its letter (k = 0, 1, 2 for node-a, b,
 * c), and a "python" one on node-b only. Returns how many. */
static size_t fake_pools(const struct fake_node *f, Sbx__WarmPool p[2], Sbx__WarmPool *v[2])
{
	unsigned k = (unsigned)(f->id[5] - 'a');

	for (int i = 0; i < 2; i++) {
		sbx__warm_pool__init(&p[i]);
		v[i] = &p[i];
	}
	p[0].kind = "exec";
	p[0].size = 2;
	p[0].ready = k;
	p[0].in_use = 1;
	p[0].built = 10 + k;
	p[0].taken = 5;
	p[0].misses = k;
	p[0].failed = 1;
	p[0].refill_per_s = 0.5;
	p[0].memory_kb = 1000 * (k + 1);
	if (k != 1)
		return 1;
	p[1].kind = "python";
	p[1].size = 4;
	p[1].ready = 4;
	p[1].built = 7;
	p[1].memory_kb = 7000;
	return 2;
}

static void answer_stats(struct fake_node *f, nng_msg *m, uint64_t id)
{
	Sbx__StatsReply s = SBX__STATS_REPLY__INIT;
	Sbx__StatsReply__ExecutionsByLanguageEntry py = SBX__STATS_REPLY__EXECUTIONS_BY_LANGUAGE_ENTRY__INIT,
						   own = SBX__STATS_REPLY__EXECUTIONS_BY_LANGUAGE_ENTRY__INIT,
						   *v[2] = { &py, &own };
	Sbx__WarmPool pools[2], *pv[2];

	s.total_executions = 10;
	s.successful_executions = 8;
	s.average_execution_time_ms = f->id[5] == 'a' ? 100 : 200; /* node-a vs the others */
	s.uptime_seconds = (uint64_t)f->id[5];
	py.key = "python";
	py.value = 3;
	own.key = f->id;
	own.value = 1;
	s.executions_by_language = v;
	s.n_executions_by_language = 2;
	s.n_warm_pools = fake_pools(f, pools, pv);
	s.warm_pools = pv;
	reply(f, m, id, SBX_OK, &s.base);
}

static void answer_status(struct fake_node *f, nng_msg *m, uint64_t id)
{
	Sbx__AdminStatusReply s = SBX__ADMIN_STATUS_REPLY__INIT;
	Sbx__AdminUsage mem = SBX__ADMIN_USAGE__INIT;
	Sbx__WarmPool pools[2], *pv[2];

	s.n_warm_pools = fake_pools(f, pools, pv);
	s.warm_pools = pv;
	s.active_sandboxes = 2;
	s.uptime = 50;
	mem.used = 250;
	mem.total = 1000;
	mem.percentage = 25;
	s.memory_usage = &mem;
	reply(f, m, id, SBX_OK, &s.base);
}

static void answer_logs(struct fake_node *f, nng_msg *m, uint64_t id)
{
	Sbx__AdminLogsReply l = SBX__ADMIN_LOGS_REPLY__INIT;
	Sbx__AdminLogLine a = SBX__ADMIN_LOG_LINE__INIT, b = SBX__ADMIN_LOG_LINE__INIT, *v[2] = { &a, &b };

	/* Interleaved across nodes: exec_at are every 2 minutes per node. */
	a.timestamp = f->exec_at[3];
	b.timestamp = f->exec_at[0];
	a.message = b.message = f->id;
	l.lines = v;
	l.n_lines = 2;
	reply(f, m, id, SBX_OK, &l.base);
}

static void count(struct fake_node *f, const char *method)
{
	pthread_mutex_lock(&f->lock);
	if (!strcmp(method, "Run") || !strcmp(method, "Execute"))
		f->count_run++;
	else if (!strcmp(method, "CreateSandbox"))
		f->count_create++;
	else if (!strcmp(method, "GetSandbox"))
		f->count_get++;
	else if (!strncmp(method, "List", 4))
		f->count_list++;
	else
		f->count_other++;
	pthread_mutex_unlock(&f->lock);
}

/* Answer one request; false when it is held (m kept). */
static bool dispatch(struct fake_node *f, nng_msg *m, const Sbx__RpcRequest *rq,
		     const ProtobufCMessage *in)
{
	const char *name = rq->method;

	if (!strcmp(name, "Health")) {
		if (atomic_load(&f->hang_health))
			return false;
		answer_health(f, m, rq->id);
		return true;
	}
	count(f, name);
	if (atomic_load(&f->hold)) {
		atomic_fetch_add(&f->held, 1);
		return false;
	}
	if (atomic_load(&f->exhausted) && (!strcmp(name, "Run") || !strcmp(name, "Execute") ||
					   !strncmp(name, "Create", 6)))
		reply(f, m, rq->id, SBX_RESOURCE_EXHAUSTED, NULL);
	else if (!strcmp(name, "Run") || !strcmp(name, "Execute")) {
		Sbx__ExecResult r = SBX__EXEC_RESULT__INIT;

		r.node = f->id;
		reply(f, m, rq->id, SBX_OK, &r.base);
	} else if (!strcmp(name, "CreateSandbox"))
		answer_sandbox(f, m, rq->id, NULL);
	else if (!strcmp(name, "GetSandbox"))
		answer_get(f, m, rq->id, ((const Sbx__GetSandboxRequest *)in)->id);
	else if (!strcmp(name, "ListSandboxes"))
		answer_list(f, m, rq->id);
	else if (!strcmp(name, "ListExecutions"))
		answer_executions(f, m, rq->id, (const Sbx__ListExecutionsRequest *)in);
	else if (!strcmp(name, "GetExecution"))
		answer_execution(f, m, rq->id, ((const Sbx__GetExecutionRequest *)in)->execution_id);
	else if (!strcmp(name, "GetStats"))
		answer_stats(f, m, rq->id);
	else if (!strcmp(name, "AdminStatus"))
		answer_status(f, m, rq->id);
	else if (!strcmp(name, "AdminLogs"))
		answer_logs(f, m, rq->id);
	else
		reply(f, m, rq->id, SBX_UNIMPLEMENTED, NULL);
	return true;
}

static void *serve(void *arg)
{
	struct fake_node *f = arg;
	nng_msg *held[64];
	int n_held = 0;

	for (;;) {
		Sbx__RpcRequest *rq = NULL;
		ProtobufCMessage *in = NULL;
		const sbx_method *m;
		nng_msg *msg;
		if (atomic_load(&f->stopping))
			break;
		int rv = nng_recvmsg(f->sock, &msg, 0);

		if (rv == NNG_ETIMEDOUT)
			continue;
		if (rv != 0)
			break;
		if (sbx_envelope_unpack_request(nng_msg_body(msg), nng_msg_len(msg), &rq) < 0 ||
		    !(m = sbx_method_find(rq->method)) ||
		    sbx_payload_unpack(m->input, &rq->payload, &in) < 0) {
			nng_msg_free(msg);
			if (rq)
				sbx__rpc_request__free_unpacked(rq, NULL);
			continue;
		}
		pthread_mutex_lock(&f->lock);
		snprintf(f->last_key, sizeof(f->last_key), "%s", rq->cluster_key);
		pthread_mutex_unlock(&f->lock);
		if (!dispatch(f, msg, rq, in)) {
			if (n_held < 64)
				held[n_held++] = msg;
			else
				nng_msg_free(msg);
		}
		protobuf_c_message_free_unpacked(in, NULL);
		sbx__rpc_request__free_unpacked(rq, NULL);
	}
	while (n_held > 0)
		nng_msg_free(held[--n_held]);
	return NULL;
}

int fake_node_start(struct fake_node *f, const char *id, const char *url, int minute)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	snprintf(f->id, sizeof(f->id), "%s", id);
	snprintf(f->url, sizeof(f->url), "%s", url);
	sbx_node_tag(id, f->tag);
	atomic_init(&f->load_slots, 4);
	for (int i = 0; i < FAKE_EXECUTIONS; i++) {
		char uuid[SBX_UUID_LEN + 1];

		sbx_tagged_uuid(f->tag, uuid);
		snprintf(f->exec_id[i], sizeof(f->exec_id[i]), "%s", uuid);
		/* Newest first. */
		snprintf(f->exec_at[i], sizeof(f->exec_at[i]), "2026-01-01T10:%02d:00Z",
			 minute + 2 * (FAKE_EXECUTIONS - 1 - i));
	}
	if (nng_rep0_open_raw(&f->sock) != 0)
		return -EIO;
	nng_socket_set_ms(f->sock, NNG_OPT_RECVTIMEO, 100);
	if (nng_listen(f->sock, url, NULL, 0) != 0) {
		nng_close(f->sock);
		return -EADDRINUSE;
	}
	if (pthread_create(&f->thread, NULL, serve, f) != 0) {
		nng_close(f->sock);
		return -ENOMEM;
	}
	f->running = true;
	return 0;
}

void fake_node_stop(struct fake_node *f)
{
	if (!f->running)
		return;
	f->running = false;
	/* The thread leaves at its next receive timeout (100 ms); only then
	 * is the socket closed: nng 1.5.2 can panic ("pthread_mutex_lock:
	 * Invalid argument", once in CI) when a socket is closed under a
	 * thread that is sending or receiving on it. */
	atomic_store(&f->stopping, true);
	pthread_join(f->thread, NULL);
	nng_close(f->sock);
}

int fake_node_count(struct fake_node *f, int *field)
{
	int v;

	pthread_mutex_lock(&f->lock);
	v = *field;
	pthread_mutex_unlock(&f->lock);
	return v;
}
