/* The reverse proxy across hosts (gateway/proxy.h, README "Cluster"): a
 * service whose node is reached over tcp:// and reports a proxy tunnel is
 * reached through that tunnel (HTTP CONNECT <target>:3000 with the cluster
 * key), with the same streaming; a tunnel that fails is a 502 naming the
 * node; OpenProxy's answer is kept with its tunnel.
 *
 * In this process: the gateway (gw_server_*), a fake daemon on
 * tcp://127.0.0.1 (nng rep) answering OpenProxy, and a fake tunnel that
 * checks CONNECT and then plays the service itself. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "deploy.pb-c.h"
#include "envelope.h"
#include "httpc.h"
#include "inproc.h"
#include "status.h"
#include "testlib.h"

#define KEY "tunnel-test-key"
#define TARGET "0badc0de-1111-4222-8333-444455556666"
#define GONE "0badc0de-9999-4999-8999-999999999999"

struct fixture {
	nng_socket rep;
	pthread_t rpc_thread, tunnel_thread;
	int tunnel_fd;
	uint16_t tunnel_port, dead_port;
	char rpc_url[64];
	atomic_int opens;      /* OpenProxy calls answered */
	char want_key[64];     /* what the tunnel requires */
	char last_rpc_key[64]; /* RpcRequest.cluster_key of the last call */
	pthread_mutex_t lock;
};

static struct fixture fx = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- the fake daemon: OpenProxy by id ---- */

static void answer(const Sbx__RpcRequest *rq, void **out, size_t *outlen)
{
	Sbx__OpenProxyReply rep = SBX__OPEN_PROXY_REPLY__INIT;
	Sbx__OpenProxyRequest *op = NULL;
	bool open = strcmp(rq->method, "OpenProxy") == 0 &&
		    sbx_payload_unpack(&sbx__open_proxy_request__descriptor, &rq->payload,
				       (ProtobufCMessage **)&op) == 0;

	pthread_mutex_lock(&fx.lock);
	snprintf(fx.last_rpc_key, sizeof(fx.last_rpc_key), "%s",
		 rq->cluster_key ? rq->cluster_key : "");
	pthread_mutex_unlock(&fx.lock);
	if (!open) {
		sbx_envelope_pack_reply(rq->id, SBX_UNIMPLEMENTED, "only OpenProxy here", NULL, out,
					outlen);
		return;
	}
	atomic_fetch_add(&fx.opens, 1);
	/* The path is the other host's: nothing of it exists here. */
	rep.socket_path = strcmp(op->id, "gone") == 0	   ? "/nonexistent/proxy/" GONE ".sock"
			  : strcmp(op->id, "badpath") == 0 ? "/nonexistent/proxy/../etc.sock"
							   : "/nonexistent/proxy/" TARGET ".sock";
	rep.target_id = op->id;
	rep.tunnel_port = strcmp(op->id, "dead") == 0 ? fx.dead_port : fx.tunnel_port;
	sbx_envelope_pack_reply(rq->id, SBX_OK, NULL, &rep.base, out, outlen);
	protobuf_c_message_free_unpacked(&op->base, NULL);
}

static void *rpc_main(void *arg)
{
	for (;;) {
		Sbx__RpcRequest *rq = NULL;
		void *buf = NULL, *out = NULL;
		size_t len = 0, outlen = 0;

		if (nng_recv(fx.rep, &buf, &len, NNG_FLAG_ALLOC) != 0)
			return NULL;
		if (sbx_envelope_unpack_request(buf, len, &rq) == 0) {
			answer(rq, &out, &outlen);
			sbx__rpc_request__free_unpacked(rq, NULL);
		}
		nng_free(buf, len);
		if (out && nng_send(fx.rep, out, outlen, 0) != 0) {
			free(out);
			return NULL;
		}
		free(out);
	}
}

/* ---- the fake tunnel, which then plays the service ---- */

/* The head (through the blank line) into buf; the bytes read past it stay
 * at buf + *head_len up to *len. */
static bool read_head(int fd, char *buf, size_t size, size_t *len, size_t *head_len)
{
	char *end;
	ssize_t n;

	while (!(end = memmem(buf, *len, "\r\n\r\n", 4))) {
		if (*len + 1 >= size || (n = read(fd, buf + *len, size - 1 - *len)) <= 0)
			return false;
		*len += (size_t)n;
	}
	*head_len = (size_t)(end + 4 - buf);
	buf[*len] = '\0';
	return true;
}

/* The value of header `name` in head, into out ("" when absent). */
static void header_of(const char *head, const char *name, char *out, size_t size)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\r\n%s: ", name);
	p = strcasestr(head, pat);
	out[0] = '\0';
	if (p) {
		p += strlen(pat);
		snprintf(out, size, "%.*s", (int)strcspn(p, "\r\n"), p);
	}
}

static void write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* After the tunnel's 200: one request, its body counted, answered with
 * what the tunnel and the service saw. */
static void serve(int fd, const char *connect_line, char *buf, size_t size, size_t len, size_t used)
{
	char line[256], host[128], pauth[128], clen[32], body[1024], reply[1400];
	size_t head_len = 0, want, got;

	memmove(buf, buf + used, len - used);
	len -= used;
	if (!read_head(fd, buf, size, &len, &head_len))
		return;
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(buf, "\r\n"), buf);
	header_of(buf, "Host", host, sizeof(host));
	header_of(buf, "Proxy-Authorization", pauth, sizeof(pauth));
	header_of(buf, "Content-Length", clen, sizeof(clen));
	want = strtoull(clen, NULL, 10);
	got = len - head_len;
	while (got < want) {
		ssize_t n = read(fd, buf, size);

		if (n <= 0)
			return;
		got += (size_t)n;
	}
	snprintf(body, sizeof(body), "connect=%s|request=%s|host=%s|service-auth=%s|bytes=%zu",
		 connect_line, line, host, pauth, got);
	snprintf(reply, sizeof(reply),
		 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
		 "Connection: close\r\n\r\n%s",
		 strlen(body), body);
	write_all(fd, reply, strlen(reply));
}

#define REFUSED "Content-Length: 0\r\nConnection: close\r\n\r\n"

static void *conn_main(void *arg)
{
	int fd = (int)(intptr_t)arg;
	size_t len = 0, head_len = 0, size = 1 << 16;
	char *buf = malloc(size), auth[128], want[128], target[128];
	const char *answer = NULL;

	if (buf && read_head(fd, buf, size, &len, &head_len)) {
		char line[256];

		snprintf(line, sizeof(line), "%.*s", (int)strcspn(buf, "\r\n"), buf);
		header_of(buf, "Proxy-Authorization", auth, sizeof(auth));
		pthread_mutex_lock(&fx.lock);
		snprintf(want, sizeof(want), "Bearer %s", fx.want_key);
		pthread_mutex_unlock(&fx.lock);
		/* Refused as sandboxd's tunnel refuses (daemon/tunnel). */
		if (sscanf(line, "CONNECT %127s HTTP/1.1", target) != 1)
			answer = "HTTP/1.1 400 Bad Request\r\n" REFUSED;
		else if (strcmp(auth, want) != 0)
			answer = "HTTP/1.1 407 Proxy Authentication Required\r\n"
				 "Proxy-Authenticate: Bearer\r\n" REFUSED;
		else if (strcmp(target, TARGET ":3000") != 0)
			answer = "HTTP/1.1 404 Not Found\r\n" REFUSED;
		if (answer) {
			write_all(fd, answer, strlen(answer));
		} else {
			answer = "HTTP/1.1 200 Connection established\r\n\r\n";
			write_all(fd, answer, strlen(answer));
			serve(fd, line, buf, size, len, head_len);
		}
	}
	free(buf);
	close(fd);
	return NULL;
}

static void *tunnel_main(void *arg)
{
	for (;;) {
		int fd = accept4(fx.tunnel_fd, NULL, NULL, SOCK_CLOEXEC);
		pthread_t t;

		if (fd < 0)
			return NULL;
		if (pthread_create(&t, NULL, conn_main, (void *)(intptr_t)fd) != 0)
			close(fd);
		else
			pthread_detach(t);
	}
}

static int listen_tcp(uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &sl) < 0) {
		perror("tunnel");
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static bool fixture_start(void)
{
	int rv;

	snprintf(fx.want_key, sizeof(fx.want_key), "%s", KEY);
	fx.tunnel_fd = listen_tcp(&fx.tunnel_port);
	fx.dead_port = (uint16_t)tl_free_port();
	snprintf(fx.rpc_url, sizeof(fx.rpc_url), "tcp://127.0.0.1:%d", tl_free_port());
	if (fx.tunnel_fd < 0)
		return false;
	if ((rv = nng_rep0_open(&fx.rep)) != 0 || (rv = nng_listen(fx.rep, fx.rpc_url, NULL, 0))) {
		fprintf(stderr, "fake daemon at %s: %s\n", fx.rpc_url, nng_strerror(rv));
		return false;
	}
	pthread_create(&fx.rpc_thread, NULL, rpc_main, NULL);
	pthread_create(&fx.tunnel_thread, NULL, tunnel_main, NULL);
	return true;
}

static void fixture_stop(void)
{
	nng_close(fx.rep);
	shutdown(fx.tunnel_fd, SHUT_RDWR);
	pthread_join(fx.rpc_thread, NULL);
	pthread_join(fx.tunnel_thread, NULL);
	close(fx.tunnel_fd);
}

/* ---- the tests ---- */

static bool body_has(const struct th_resp *r, const char *want)
{
	return r->body && strstr(r->body, want);
}

static void test_through_tunnel(const char *base)
{
	struct th_resp r = {0};
	char big[300 * 1024 + 1];
	int opens = atomic_load(&fx.opens);

	th_http(base, "GET", "/faas/svc/hello/world?x=1&y=two", NULL, NULL, 10000, &r);
	CHECKF(r.status == 200, "%ld %s", r.status, r.body);
	CHECKF(body_has(&r, "connect=CONNECT " TARGET ":3000 HTTP/1.1|"), "%s", r.body);
	CHECKF(body_has(&r, "|request=GET /hello/world?x=1&y=two HTTP/1.1|"), "%s", r.body);
	/* The key goes to the tunnel alone, never to the service. */
	CHECKF(body_has(&r, "|service-auth=|"), "%s", r.body);
	pthread_mutex_lock(&fx.lock);
	CHECK_STR(fx.last_rpc_key, KEY);
	pthread_mutex_unlock(&fx.lock);
	th_resp_fini(&r);

	/* A body larger than the proxy's buffers streams through. */
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	th_http(base, "POST", "/proxy/svc/upload", big, NULL, 10000, &r);
	CHECKF(r.status == 200, "%ld %s", r.status, r.body);
	CHECKF(body_has(&r, "|request=POST /upload HTTP/1.1|"), "%s", r.body);
	CHECKF(body_has(&r, "|bytes=307200"), "%s", r.body);
	th_resp_fini(&r);

	/* The answer is kept with its tunnel: again, no OpenProxy. */
	th_http(base, "GET", "/proxy/svc/again", NULL, NULL, 10000, &r);
	CHECKF(r.status == 200 && body_has(&r, "connect=CONNECT " TARGET), "%ld %s", r.status,
	       r.body);
	CHECK_INT(atomic_load(&fx.opens), opens + 2); /* faas/svc and proxy/svc */
	th_resp_fini(&r);
}

static void test_tunnel_failures(const char *base)
{
	struct th_resp r = {0};
	char node[96];

	snprintf(node, sizeof(node), "node %s", fx.rpc_url);
	th_http(base, "GET", "/faas/dead/", NULL, NULL, 10000, &r);
	CHECKF(r.status == 502 && body_has(&r, node) && body_has(&r, "could not be reached"),
	       "%ld %s", r.status, r.body);
	th_resp_fini(&r);

	th_http(base, "GET", "/faas/gone/", NULL, NULL, 10000, &r);
	CHECKF(r.status == 502 && body_has(&r, node) && body_has(&r, "no such service"), "%ld %s",
	       r.status, r.body);
	th_resp_fini(&r);

	th_http(base, "GET", "/faas/badpath/", NULL, NULL, 10000, &r);
	CHECKF(r.status == 502, "%ld %s", r.status, r.body);
	th_resp_fini(&r);

	/* A tunnel that wants another key; the failure drops the kept answer. */
	pthread_mutex_lock(&fx.lock);
	snprintf(fx.want_key, sizeof(fx.want_key), "another key");
	pthread_mutex_unlock(&fx.lock);
	th_http(base, "GET", "/faas/svc/", NULL, NULL, 10000, &r);
	CHECKF(r.status == 502 && body_has(&r, node) && body_has(&r, "cluster key"), "%ld %s",
	       r.status, r.body);
	th_resp_fini(&r);
	pthread_mutex_lock(&fx.lock);
	snprintf(fx.want_key, sizeof(fx.want_key), "%s", KEY);
	pthread_mutex_unlock(&fx.lock);
	th_http(base, "GET", "/faas/svc/", NULL, NULL, 10000, &r);
	CHECKF(r.status == 200, "%ld %s", r.status, r.body);
	th_resp_fini(&r);
}

int main(void)
{
	char *argv[] = {"sandbox-gateway", "--listen", "127.0.0.1:0",	  "--rpc", fx.rpc_url,
			"--cluster-key",   KEY,	       "--proxy-timeout", "5000",  NULL};
	struct gw_inproc gw;

	signal(SIGPIPE, SIG_IGN);
	if (!fixture_start() || gw_inproc_start(&gw, argv) < 0)
		return 1;
	/* The client dials in the background. */
	for (int i = 0; i < 500 && !sbx_client_connected(gw.srv->client); i++)
		usleep(10 * 1000);
	CHECK(sbx_client_connected(gw.srv->client));
	test_through_tunnel(gw.base);
	test_tunnel_failures(gw.base);
	gw_inproc_stop(&gw);
	fixture_stop();
	TEST_DONE();
}
