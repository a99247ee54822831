#include "rpcc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "clock.h"
#include "json_pb.h"
#include "methods.h"
#include "sandbox.h"

struct th_rep th_vrpc(const char *url, unsigned timeout_ms, const char *method, const char *fmt,
		      va_list ap)
{
	struct sbx_client_opts o = {
		.rpc_url = url, .timeout_ms = timeout_ms, .connect_wait_ms = 10000};
	const sbx_method *m = sbx_method_find(method);
	struct th_rep out = {.status = -1};
	ProtobufCMessage *req = NULL;
	struct sbx_client *c = NULL;
	struct sbx_reply r = {0};
	char *body = NULL, err[256];
	json_t *in = NULL;

	if (vasprintf(&body, fmt, ap) < 0)
		body = NULL;
	in = body ? json_loads(body, 0, NULL) : NULL;
	if (!m || !in || jpb_from_json(m->input, in, NULL, &req, err, sizeof(err)) < 0) {
		fprintf(stderr, "bad test request %s %s\n", method, body ? body : "(no memory)");
		json_decref(in);
		free(body);
		out.err = -EINVAL;
		return out;
	}
	json_decref(in);
	free(body);
	out.err = sbx_client_open(&o, &c);
	if (out.err == 0)
		out.err = sbx_call(c, method, req, 0, &r);
	if (out.err == 0) {
		out.status = r.status;
		snprintf(out.msg, sizeof(out.msg), "%s", r.message ? r.message : "");
		if (r.msg)
			out.j = jpb_to_json(r.msg, NULL);
		sbx_reply_fini(&r);
	}
	sbx_client_close(c);
	protobuf_c_message_free_unpacked(req, NULL);
	return out;
}

struct th_rep th_rpc(const char *url, unsigned timeout_ms, const char *method, const char *fmt, ...)
{
	struct th_rep r;
	va_list ap;

	va_start(ap, fmt);
	r = th_vrpc(url, timeout_ms, method, fmt, ap);
	va_end(ap);
	return r;
}

void th_rep_fini(struct th_rep *r)
{
	json_decref(r->j);
	r->j = NULL;
}

json_t *th_rep_get(const struct th_rep *r, const char *key)
{
	return r->j ? json_object_get(r->j, key) : NULL;
}

const char *th_rep_str(const struct th_rep *r, const char *key)
{
	json_t *v = th_rep_get(r, key);

	return v && json_is_string(v) ? json_string_value(v) : "";
}

long long th_rep_int(const struct th_rep *r, const char *key)
{
	json_t *v = th_rep_get(r, key);

	return v && json_is_integer(v) ? json_integer_value(v) : -12345;
}

bool th_rep_bool(const struct th_rep *r, const char *key)
{
	return json_is_true(th_rep_get(r, key));
}

json_t *th_rpc_json(const char *url, const char *method, const char *request, unsigned timeout_ms)
{
	struct th_rep r = th_rpc(url, timeout_ms, method, "%s", request);

	if (r.err < 0 && r.err != -EINVAL)
		printf("  %s: %s\n", method, strerror(-r.err));
	else if (r.status >= 0 && !r.j)
		printf("  %s: status %d: %s\n", method, r.status, r.msg);
	return r.j;
}

void th_daemon_up_or_skip(const struct th_daemon *d)
{
	struct th_rep r = th_rpc(d->rpc, 60000, "Health", "{}");
	int st;

	if (r.status != SBX_OK && th_wait(d->pid, 100, &st) == 0) {
		th_dump_logs();
		SKIP("sandboxd did not start (namespaces or cgroups unavailable?)");
	}
	th_rep_fini(&r);
}

static void *bg_exec(void *arg)
{
	struct th_bg_exec *b = arg;

	b->rep = th_rpc(b->url, b->timeout_ms ? b->timeout_ms : 60000, "ExecuteSandbox",
			"{\"id\":\"%s\"}", b->id);
	b->ended_ms = sbx_clock_mono_ms();
	return NULL;
}

int th_bg_exec_start(struct th_bg_exec *b)
{
	return -pthread_create(&b->thread, NULL, bg_exec, b);
}

bool th_bg_exec_join(struct th_bg_exec *b, int timeout_ms)
{
	struct timespec until;

	if (timeout_ms < 0)
		return pthread_join(b->thread, NULL) == 0;
	until = sbx_clock_deadline(CLOCK_REALTIME, timeout_ms);
	return pthread_timedjoin_np(b->thread, NULL, &until) == 0;
}
