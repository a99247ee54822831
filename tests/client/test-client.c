/* libsandbox against an in-process server: fast failure while the daemon is
 * down, redial when it comes up, async calls in bulk, bad URLs. */
#include <errno.h>
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

static int health(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
		  ProtobufCMessage **ret)
{
	Sbx__HealthReply *r = (Sbx__HealthReply *)sbx_message_new(&sbx__health_reply__descriptor);

	r->status = strdup("ok");
	*ret = &r->base;
	return 0;
}

static int refuse(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
		  ProtobufCMessage **ret)
{
	return sbx_rpc_error(call, -EINVAL, "field 'x' is wrong");
}

static const struct sbx_rpc_handler handlers[] = {
	{ "Health", health, SBX_RPC_INLINE },
	{ "GetConfig", refuse, 0 },
};

struct counter {
	pthread_mutex_t lock;
	int done, ok;
};

static void count_cb(void *arg, int err, struct sbx_reply *reply)
{
	struct counter *c = arg;

	pthread_mutex_lock(&c->lock);
	c->done++;
	if (err == 0 && reply->status == SBX_OK && strcmp(((Sbx__HealthReply *)reply->msg)->status, "ok") == 0)
		c->ok++;
	pthread_mutex_unlock(&c->lock);
	if (err == 0)
		sbx_reply_fini(reply);
}

/* One client per call, closed as soon as its reply is in, as a script's
 * clients do. The reply can complete while the receive that took it is
 * still inside nng; closing must wait for it (nng 1.5 panics otherwise). */
struct churn {
	const char *url;
	int ok;
};

static void *churn_main(void *arg)
{
	struct churn *ch = arg;
	struct sbx_client_opts o = { .rpc_url = ch->url, .connect_wait_ms = 2000 };
	struct sbx_reply reply;
	struct sbx_client *c;

	for (int i = 0; i < 500; i++) {
		if (sbx_client_open(&o, &c) != 0)
			continue;
		if (sbx_call(c, "Health", NULL, 5000, &reply) == 0) {
			ch->ok += reply.status == SBX_OK;
			sbx_reply_fini(&reply);
		}
		sbx_client_close(c);
	}
	return NULL;
}

static void test_churn(const char *url)
{
	struct churn ch[4];
	pthread_t t[4];

	for (int i = 0; i < 4; i++) {
		ch[i] = (struct churn){ .url = url };
		CHECK(pthread_create(&t[i], NULL, churn_main, &ch[i]) == 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_INT(ch[i].ok, 500);
	}
}

int main(void)
{
	char *dir = tl_tmpdir("sbx-client"), url[256];
	struct sbx_rpc_server_opts so = { .url = url, .contexts = 32, .workers = 2, .handlers = handlers,
					  .n_handlers = 2 };
	struct sbx_client_opts co = { .rpc_url = url };
	struct counter cnt = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct sbx_rpc_server *srv;
	struct sbx_client *c, *bad;
	struct sbx_reply reply;
	uint64_t t0;

	snprintf(url, sizeof(url), "ipc://%s/rpc.sock", dir);

	/* No daemon: calls fail at once, not after the timeout. */
	CHECK_INT(sbx_client_open(&co, &c), 0);
	CHECK(!sbx_client_connected(c));
	t0 = sbx_clock_mono_ms();
	CHECK_INT(sbx_call(c, "Health", NULL, 5000, &reply), -ECONNREFUSED);
	CHECK(sbx_clock_mono_ms() - t0 < 100);
	CHECK_INT(sbx_call(c, "NoSuchMethod", NULL, 0, &reply), -ENOENT);

	/* The daemon comes up: the client redials by itself. */
	CHECK_INT(sbx_rpc_server_start(&so, &srv), 0);
	for (int i = 0; i < 200 && !sbx_client_connected(c); i++)
		usleep(10 * 1000);
	CHECK(sbx_client_connected(c));
	CHECK_INT(sbx_call(c, "Health", NULL, 0, &reply), 0);
	CHECK_INT(reply.status, SBX_OK);
	CHECK_STR(reply.message, "");
	CHECK_STR(((Sbx__HealthReply *)reply.msg)->status, "ok");
	sbx_reply_fini(&reply);

	/* An error status carries the daemon's sentence and no message. */
	CHECK_INT(sbx_call(c, "GetConfig", NULL, 0, &reply), 0);
	CHECK_INT(reply.status, SBX_INVALID_ARGUMENT);
	CHECK_STR(reply.message, "field 'x' is wrong");
	CHECK(reply.msg == NULL);
	sbx_reply_fini(&reply);

	/* A request whose type is not the method's input is refused locally. */
	{
		Sbx__HealthReply wrong = SBX__HEALTH_REPLY__INIT;
		CHECK_INT(sbx_call(c, "Health", &wrong.base, 0, &reply), -EINVAL);
	}

	/* Many async calls at once, all answered. */
	for (int i = 0; i < 500; i++)
		CHECK_INT(sbx_call_async(c, "Health", NULL, 10000, count_cb, &cnt), 0);
	for (int i = 0; i < 500; i++) {
		pthread_mutex_lock(&cnt.lock);
		int done = cnt.done;
		pthread_mutex_unlock(&cnt.lock);
		if (done == 500)
			break;
		usleep(10 * 1000);
	}
	CHECK_INT(cnt.done, 500);
	CHECK_INT(cnt.ok, 500);
	test_churn(url);

	/* The daemon goes away and comes back on the same path. */
	sbx_rpc_server_stop(srv, 1000);
	for (int i = 0; i < 200 && sbx_client_connected(c); i++)
		usleep(10 * 1000);
	CHECK(!sbx_client_connected(c));
	CHECK_INT(sbx_call(c, "Health", NULL, 1000, &reply), -ECONNREFUSED);
	CHECK_INT(sbx_rpc_server_start(&so, &srv), 0);
	for (int i = 0; i < 200 && !sbx_client_connected(c); i++)
		usleep(10 * 1000);
	CHECK_INT(sbx_call(c, "Health", NULL, 0, &reply), 0);
	sbx_reply_fini(&reply);
	sbx_client_close(c);
	sbx_rpc_server_stop(srv, 1000);

	/* A URL nng cannot use. */
	{
		struct sbx_client_opts bo = { .rpc_url = "nosuchscheme://x" };
		CHECK(sbx_client_open(&bo, &bad) < 0);
	}
	rmdir(dir);
	free(dir);
	TEST_DONE();
}
