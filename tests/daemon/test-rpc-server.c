/* The RPC server in-process over inproc://: two daemons side by side, the
 * envelope checks (garbage, unknown method, auth, deadline), slow handlers
 * on workers never blocking inline ones, and a graceful stop that answers
 * the calls in flight. */
#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.pb-c.h"
#include "clock.h"
#include "daemon.h"
#include "envelope.h"
#include "sandbox.h"
#include "status.h"
#include "testlib.h"

static int start_daemon(struct sbx_daemon *d, const char *rpc, const char *events, const char *key)
{
	char *argv[] = { "sandboxd", "--rpc", (char *)rpc, "--events", (char *)events, "--api-key",
			 (char *)key, NULL };
	char *envp[] = { NULL };
	enum sbx_config_action a;
	char err[512];
	int r = sbx_config_load(&d->cfg, 7, argv, envp, &a, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "config: %s\n", err);
		return r;
	}
	return sbx_daemon_start(d);
}

/* Send raw bytes on a fresh req socket; return the decoded reply. */
static Sbx__RpcReply *raw_call(const char *url, const void *buf, size_t len)
{
	Sbx__RpcReply *rep = NULL;
	nng_socket s;
	nng_msg *msg;

	if (nng_req0_open(&s) != 0 || nng_dial(s, url, NULL, 0) != 0)
		return NULL;
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
	nng_msg_alloc(&msg, 0);
	nng_msg_append(msg, buf, len);
	if (nng_sendmsg(s, msg, 0) == 0 && nng_recvmsg(s, &msg, 0) == 0) {
		sbx_envelope_unpack_reply(nng_msg_body(msg), nng_msg_len(msg), &rep);
		nng_msg_free(msg);
	}
	nng_close(s);
	return rep;
}

static Sbx__RpcReply *raw_request(const char *url, const char *method, uint64_t deadline, const char *token)
{
	void *buf;
	size_t len;
	Sbx__RpcReply *rep;

	if (sbx_envelope_pack_request(method, 42, deadline, token, NULL, NULL, &buf, &len) < 0)
		return NULL;
	rep = raw_call(url, buf, len);
	free(buf);
	return rep;
}

static int call_health(const char *url, const char *token, char **ret_version)
{
	struct sbx_client_opts o = { .rpc_url = url, .auth_token = token, .connect_wait_ms = 2000 };
	struct sbx_client *c;
	struct sbx_reply rep;
	int r = sbx_client_open(&o, &c);

	if (r < 0)
		return r;
	r = sbx_call(c, "Health", NULL, 2000, &rep);
	if (r == 0) {
		r = rep.status;
		if (rep.status == SBX_OK && ret_version)
			*ret_version = strdup(((Sbx__HealthReply *)rep.msg)->version);
		sbx_reply_fini(&rep);
	}
	sbx_client_close(c);
	return r;
}

/* A server of our own with a slow worker handler and an inline one. */
static int slow_handler(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
			ProtobufCMessage **ret)
{
	usleep(400 * 1000);
	*ret = sbx_message_new(&sbx__config_reply__descriptor);
	return 0;
}

static int fast_handler(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
			ProtobufCMessage **ret)
{
	*ret = sbx_message_new(&sbx__health_reply__descriptor);
	return 0;
}

static const struct sbx_rpc_handler test_handlers[] = {
	{ "Health", fast_handler, SBX_RPC_INLINE },
	{ "GetConfig", slow_handler, 0 },
};

struct async_state {
	pthread_mutex_t lock;
	int done, ok;
};

static void async_cb(void *arg, int err, struct sbx_reply *reply)
{
	struct async_state *st = arg;

	pthread_mutex_lock(&st->lock);
	st->done++;
	if (err == 0 && reply->status == SBX_OK)
		st->ok++;
	pthread_mutex_unlock(&st->lock);
	if (err == 0)
		sbx_reply_fini(reply);
}

struct stopper {
	struct sbx_rpc_server *srv;
};

static void *stop_thread(void *arg)
{
	struct stopper *st = arg;

	usleep(100 * 1000);
	sbx_rpc_server_stop(st->srv, 5000);
	return NULL;
}

int main(void)
{
	struct sbx_daemon d1 = { 0 }, d2 = { 0 }, d3 = { 0 };
	Sbx__RpcReply *rep;
	char *version = NULL;

	/* Two daemons in one process: no hidden globals. */
	CHECK_INT(start_daemon(&d1, "inproc://d1", "inproc://e1", ""), 0);
	CHECK_INT(start_daemon(&d2, "inproc://d2", "inproc://e2", ""), 0);
	CHECK_INT(call_health("inproc://d1", NULL, &version), SBX_OK);
	CHECK_STR(version, SBX_VERSION);
	free(version);
	CHECK_INT(call_health("inproc://d2", NULL, NULL), SBX_OK);
	/* The same address twice is refused. */
	CHECK_INT(start_daemon(&d3, "inproc://d1", "inproc://e3", ""), -EADDRINUSE);
	sbx_config_fini(&d3.cfg);

	/* Garbage on the rep socket: an error reply, and the daemon lives on. */
	rep = raw_call("inproc://d1", "\xff\xff\xff garbage \x00\x01", 14);
	CHECK(rep && rep->status == SBX_INVALID_ARGUMENT);
	if (rep)
		sbx__rpc_reply__free_unpacked(rep, NULL);
	rep = raw_call("inproc://d1", "", 0);
	CHECK(rep != NULL); /* an empty envelope is a request for method "" */
	if (rep) {
		CHECK_INT(rep->status, SBX_UNIMPLEMENTED);
		sbx__rpc_reply__free_unpacked(rep, NULL);
	}
	CHECK_INT(call_health("inproc://d1", NULL, NULL), SBX_OK);

	/* Unknown method, passed deadline. */
	rep = raw_request("inproc://d1", "NoSuchMethod", 0, NULL);
	CHECK(rep && rep->status == SBX_UNIMPLEMENTED && rep->id == 42);
	CHECK(rep && strstr(rep->message, "NoSuchMethod"));
	if (rep)
		sbx__rpc_reply__free_unpacked(rep, NULL);
	rep = raw_request("inproc://d1", "GetConfig", 1, NULL);
	CHECK(rep && rep->status == SBX_DEADLINE_EXCEEDED);
	if (rep)
		sbx__rpc_reply__free_unpacked(rep, NULL);

	/* A daemon with an API key: Health stays public, the rest needs it. */
	CHECK_INT(start_daemon(&d3, "inproc://d3", "inproc://e3", "k3y"), 0);
	CHECK_INT(call_health("inproc://d3", NULL, NULL), SBX_OK);
	rep = raw_request("inproc://d3", "GetConfig", 0, "wrong");
	CHECK(rep && rep->status == SBX_UNAUTHENTICATED);
	if (rep)
		sbx__rpc_reply__free_unpacked(rep, NULL);
	rep = raw_request("inproc://d3", "GetConfig", 0, "k3y");
	CHECK(rep && rep->status == SBX_OK);
	if (rep)
		sbx__rpc_reply__free_unpacked(rep, NULL);

	sbx_daemon_stop(&d1, 1000);
	sbx_daemon_stop(&d2, 1000);
	sbx_daemon_stop(&d3, 1000);
	sbx_config_fini(&d1.cfg);
	sbx_config_fini(&d2.cfg);
	sbx_config_fini(&d3.cfg);

	/* Slow handlers run on workers: with every worker busy, the inline
	 * Health still answers at once. Then a graceful stop answers them. */
	{
		struct sbx_rpc_server_opts o = { .url = "inproc://slow", .contexts = 16, .workers = 2,
						 .handlers = test_handlers, .n_handlers = 2 };
		struct sbx_client_opts co = { .rpc_url = "inproc://slow", .connect_wait_ms = 2000 };
		struct async_state st = { .lock = PTHREAD_MUTEX_INITIALIZER };
		struct sbx_rpc_server *srv;
		struct sbx_client *c;
		struct sbx_reply reply;
		struct stopper sp;
		pthread_t t;
		uint64_t t0;

		CHECK_INT(sbx_rpc_server_start(&o, &srv), 0);
		CHECK_INT(sbx_client_open(&co, &c), 0);
		for (int i = 0; i < 4; i++)
			CHECK_INT(sbx_call_async(c, "GetConfig", NULL, 10000, async_cb, &st), 0);
		usleep(50 * 1000);
		t0 = sbx_clock_mono_ms();
		CHECK_INT(sbx_call(c, "Health", NULL, 5000, &reply), 0);
		CHECK_INT(reply.status, SBX_OK);
		sbx_reply_fini(&reply);
		CHECKF(sbx_clock_mono_ms() - t0 < 200, "Health took %llu ms behind slow calls",
		       (unsigned long long)(sbx_clock_mono_ms() - t0));

		/* Timeout: a call shorter than the handler. */
		CHECK_INT(sbx_call(c, "GetConfig", NULL, 100, &reply), -ETIMEDOUT);

		/* Stop while two of the four are still queued behind the workers. */
		sp.srv = srv;
		pthread_create(&t, NULL, stop_thread, &sp);
		pthread_join(t, NULL);
		for (int i = 0; i < 200; i++) {
			pthread_mutex_lock(&st.lock);
			int done = st.done;
			pthread_mutex_unlock(&st.lock);
			if (done == 4)
				break;
			usleep(10 * 1000);
		}
		CHECK_INT(st.done, 4);
		CHECK_INT(st.ok, 4);
		sbx_client_close(c);
	}
	TEST_DONE();
}
