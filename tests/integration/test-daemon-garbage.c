/* The real sandboxd fed garbage on its RPC socket: through a raw nng req
 * socket (bytes that are no envelope, envelopes that carry nonsense) and
 * through a bare unix socket (bytes that are not even the SP protocol).
 * After each round the daemon must still be alive and answer Health. */
#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api.pb-c.h"
#include "envelope.h"
#include "harness.h"
#include "sandbox.h"
#include "status.h"
#include "testlib.h"

static struct th_daemon d;
static const char *sock_path; /* of d.rpc */
static struct sbx_client *client;

static void check_alive(const char *after)
{
	struct sbx_reply rep = {0};
	int st, r;

	CHECKF(waitpid(d.pid, &st, WNOHANG) == 0, "the daemon died after %s", after);
	r = sbx_call(client, "Health", NULL, 5000, &rep);
	CHECKF(r == 0 && rep.status == SBX_OK, "Health after %s: %d/%d", after, r, rep.status);
	if (r == 0 && rep.status == SBX_OK)
		CHECK_STR(((Sbx__HealthReply *)rep.msg)->status, "ok");
	sbx_reply_fini(&rep);
}

/* Send one message on the raw req socket; a reply, if any, must be a
 * well-formed envelope with a status other than OK. */
static void send_garbage(nng_socket s, const void *p, size_t n, const char *what)
{
	Sbx__RpcReply *rep = NULL;
	void *buf = NULL;
	size_t len = 0;
	int rv;

	rv = nng_send(s, (void *)p, n, 0);
	CHECKF(rv == 0, "send %s: %s", what, nng_strerror(rv));
	rv = nng_recv(s, &buf, &len, NNG_FLAG_ALLOC);
	if (rv == NNG_ETIMEDOUT)
		return;
	CHECKF(rv == 0, "recv %s: %s", what, nng_strerror(rv));
	if (rv != 0)
		return;
	CHECKF(sbx_envelope_unpack_reply(buf, len, &rep) == 0, "reply to %s is no envelope", what);
	if (rep)
		CHECKF(rep->status != SBX_OK, "%s answered OK", what);
	if (rep)
		sbx__rpc_reply__free_unpacked(rep, NULL);
	nng_free(buf, len);
}

static void round_nng(void)
{
	static unsigned char junk[1 << 20];
	void *env = NULL;
	size_t env_len = 0;
	unsigned seed = 42;
	nng_socket s;
	int rv;

	rv = nng_req0_open(&s);
	CHECK(rv == 0);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 500);
	nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	rv = nng_dial(s, d.rpc, NULL, 0);
	CHECKF(rv == 0, "dial %s: %s", d.rpc, nng_strerror(rv));
	if (rv != 0) {
		nng_close(s);
		return;
	}

	send_garbage(s, "", 0, "an empty message");
	for (int i = 0; i < 64; i++) {
		size_t n = 1 + (size_t)rand_r(&seed) % 512;

		for (size_t k = 0; k < n; k++)
			junk[k] = (unsigned char)rand_r(&seed);
		send_garbage(s, junk, n, "random bytes");
	}
	memset(junk, 0xff, sizeof(junk));
	send_garbage(s, junk, sizeof(junk), "1 MiB of 0xff");

	/* Envelopes that decode, carrying what no method accepts. */
	CHECK(sbx_envelope_pack_request("NoSuchMethod", 7, 0, NULL, NULL, NULL, &env, &env_len) == 0);
	send_garbage(s, env, env_len, "an unknown method");
	free(env);
	CHECK(sbx_envelope_pack_request("", 8, 0, NULL, NULL, NULL, &env, &env_len) == 0);
	send_garbage(s, env, env_len, "an empty method name");
	free(env);
	{
		Sbx__RpcRequest req = SBX__RPC_REQUEST__INIT;
		uint8_t bad_payload[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 'x'};
		size_t n;
		uint8_t *out;

		req.method = "Health";
		req.id = 9;
		req.payload.data = bad_payload;
		req.payload.len = sizeof(bad_payload);
		n = sbx__rpc_request__get_packed_size(&req);
		out = malloc(n);
		sbx__rpc_request__pack(&req, out);
		send_garbage(s, out, n, "Health with a truncated payload");
		/* Cut the envelope itself short. */
		send_garbage(s, out, n - 3, "a truncated envelope");
		free(out);

		req.method = "GetConfig";
		req.deadline_ms = 1; /* long past */
		req.payload.len = 0;
		n = sbx__rpc_request__get_packed_size(&req);
		out = malloc(n);
		sbx__rpc_request__pack(&req, out);
		send_garbage(s, out, n, "a request past its deadline");
		free(out);
	}
	nng_close(s);
}

static int unix_connect(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (strlen(sock_path) >= sizeof(a.sun_path)) {
		close(fd);
		return -1;
	}
	memcpy(a.sun_path, sock_path, strlen(sock_path) + 1);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Write, then wait (bounded) for the daemon to hang up or stay quiet. */
static void feed_raw(const void *p, size_t n, const char *what)
{
	struct timeval tv = {1, 0};
	char sink[256];
	int fd = unix_connect();

	CHECKF(fd >= 0, "connect for %s: %s", what, strerror(errno));
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)!write(fd, p, n);
	while (read(fd, sink, sizeof(sink)) > 0)
		;
	close(fd);
}

static void round_raw(void)
{
	/* SP over IPC: 8 header bytes (0, 'S', 'P', 0, protocol, 0, 0), then
	 * frames of 1 type byte, an 8-byte big-endian length and the body.
	 * 0x30 is req0, the peer a rep socket expects. */
	static const uint8_t hello[8] = {0, 'S', 'P', 0, 0x00, 0x30, 0, 0};
	uint8_t msg[64];

	feed_raw("GET / HTTP/1.1\r\n\r\n", 18, "HTTP bytes");
	feed_raw("\0\0\0\0\0\0\0\0\0\0\0\0", 12, "zeros");

	/* A frame announcing 2^40 bytes: past any receive limit. */
	memcpy(msg, hello, 8);
	msg[8] = 1;
	memcpy(msg + 9, "\0\0\x01\0\0\0\0\0", 8);
	feed_raw(msg, 17, "a frame of 2^40 bytes");

	/* A small frame whose body lacks the req/rep request id. */
	memcpy(msg + 9, "\0\0\0\0\0\0\0\x03", 8);
	memcpy(msg + 17, "abc", 3);
	feed_raw(msg, 20, "a frame without a request id");

	/* Correct header for the wrong protocol (pub0 is 0x20). */
	memcpy(msg, hello, 8);
	msg[5] = 0x20;
	feed_raw(msg, 8, "the pub protocol");
}

int main(void)
{
	struct sbx_client_opts opts = {.connect_wait_ms = 10000};
	int st;

	if (th_daemon_init(&d, "sbx-garbage") < 0)
		SKIP("no temporary directory");
	sock_path = d.rpc + strlen("ipc://");
	CHECK(th_daemon_start(&d, NULL) > 0);
	opts.rpc_url = d.rpc;
	CHECK(sbx_client_open(&opts, &client) == 0);
	CHECKF(client && sbx_client_connected(client), "the daemon never came up");
	if (!client || !sbx_client_connected(client)) {
		th_daemon_fini(&d);
		return tl_done();
	}
	check_alive("start-up");
	round_nng();
	check_alive("garbage through nng");
	round_raw();
	check_alive("garbage through a bare socket");

	sbx_client_close(client);
	st = th_daemon_stop(&d, 10000);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "daemon exit status %#x", st);
	th_daemon_fini(&d);
	TEST_DONE();
}
