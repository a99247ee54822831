/* daemon/tunnel/: the proxy tunnel answers HTTP CONNECT for a forwarder
 * socket <proxy_dir>/<uuid>.sock. Here the "forwarder" is a unix-socket
 * echo server of the test's: 200 and a 10 MB relay both ways with the
 * half-close passed on, bytes pipelined after the head, the key (407
 * missing or wrong), 404 for unknown, malformed and traversing targets,
 * 400/405 for bad requests, 431 for a head too large, 408 for a slow
 * client, 503 beyond the connection limit, many tunnels at once, a
 * stop with connections open, and the tcp://HOST:PORT parser. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "fdio.h"
#include "testlib.h"
#include "tunnel/tunnel.h"

#define ID "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
#define KEY "s3cret-key"
#define BIG (10u << 20)

static char *dir;
static int echo_fd = -1;

/* One echo connection: everything read is written back; at EOF the
 * write side is shut too (a half-close travels back). */
static void *echo_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (sbx_write_full(fd, buf, (size_t)n) < 0)
			break;
	shutdown(fd, SHUT_WR);
	close(fd);
	return NULL;
}

static void *echo_main(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(echo_fd, NULL, NULL);
		pthread_t t;

		if (fd < 0)
			return NULL;
		if (pthread_create(&t, NULL, echo_conn, (void *)(intptr_t)fd) == 0)
			pthread_detach(t);
		else
			close(fd);
	}
}

static int echo_start(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	pthread_t t;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/" ID ".sock", dir);
	echo_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (echo_fd < 0 || bind(echo_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(echo_fd, 64) < 0 || pthread_create(&t, NULL, echo_main, NULL) != 0)
		return -1;
	pthread_detach(t);
	return 0;
}

static int tconnect(const struct sbx_tunnel *t)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(sbx_tunnel_port(t))};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {.tv_sec = 20};

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Read the reply's head (byte by byte: what follows is the tunnel's);
 * its status code, -1 when the connection closed first. The head into
 * out when given. */
static int read_status(int fd, char *out, size_t outlen)
{
	char head[4096];
	size_t n = 0;

	while (n < sizeof(head) - 1 && read(fd, head + n, 1) == 1) {
		head[++n] = 0;
		if (n >= 4 && memcmp(head + n - 4, "\r\n\r\n", 4) == 0) {
			if (out)
				snprintf(out, outlen, "%.*s", (int)outlen - 1, head);
			return strncmp(head, "HTTP/1.1 ", 9) == 0 ? atoi(head + 9) : -2;
		}
	}
	return -1;
}

/* Send `req` on a new connection: the status of the answer. */
static int ask(const struct sbx_tunnel *t, const char *req, char *head, size_t headlen)
{
	int fd = tconnect(t), st;

	if (fd < 0)
		return -1;
	st = sbx_write_full(fd, req, strlen(req)) < 0 ? -1 : read_status(fd, head, headlen);
	close(fd);
	return st;
}

/* true when fd reaches EOF (the server closed) within 5 s. */
static bool closed_by_peer(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	char c;

	return poll(&p, 1, 5000) == 1 && read(fd, &c, 1) <= 0;
}

struct pump {
	int fd;
	size_t n;
	int r;
};

static void *pump_main(void *arg)
{
	struct pump *p = arg;
	char buf[65536];

	for (size_t off = 0; off < p->n && p->r == 0; off += sizeof(buf)) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (char)((off + i) * 31 % 251);
		p->r = sbx_write_full(p->fd, buf, sizeof(buf) < p->n - off ? sizeof(buf)
									   : p->n - off);
	}
	shutdown(p->fd, SHUT_WR);
	return NULL;
}

/* 10 MB through the tunnel to the echo and back, then EOF both ways. */
static void test_relay(struct sbx_tunnel *t)
{
	int fd = tconnect(t);
	struct pump p = {.fd = fd, .n = BIG};
	char buf[65536], head[512];
	size_t got = 0;
	bool same = true;
	pthread_t th;
	ssize_t n;

	CHECK(fd >= 0);
	CHECK(sbx_write_full(fd, "CONNECT " ID ":3000 HTTP/1.1\r\nHost: " ID
				 ":3000\r\nProxy-Authorization: Bearer " KEY "\r\n\r\n",
			     strlen("CONNECT " ID ":3000 HTTP/1.1\r\nHost: " ID
				    ":3000\r\nProxy-Authorization: Bearer " KEY "\r\n\r\n")) == 0);
	CHECK_INT(read_status(fd, head, sizeof(head)), 200);
	CHECK(strcmp(head, "HTTP/1.1 200 Connection established\r\n\r\n") == 0);
	CHECK(pthread_create(&th, NULL, pump_main, &p) == 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n && same; i++)
			same = buf[i] == (char)((got + (size_t)i) * 31 % 251);
		got += (size_t)n;
	}
	pthread_join(th, NULL);
	CHECK_INT(p.r, 0);
	CHECKF(got == BIG, "echoed %zu bytes of %u", got, BIG);
	CHECK(same);
	close(fd);
}

/* Bytes sent with the head in one write are forwarded (curl may). */
static void test_pipelined(struct sbx_tunnel *t)
{
	const char req[] = "CONNECT " ID ":3000 HTTP/1.0\r\nproxy-authorization:   bearer " KEY
			   "  \r\n\r\nhello";
	int fd = tconnect(t);
	char buf[16] = {0};

	CHECK(sbx_write_full(fd, req, strlen(req)) == 0);
	CHECK_INT(read_status(fd, NULL, 0), 200);
	CHECK(sbx_read_full(fd, buf, 5) == 0);
	CHECK(strcmp(buf, "hello") == 0);
	close(fd);
}

static void test_refusals(struct sbx_tunnel *t)
{
	char head[1024];

	CHECK_INT(ask(t, "CONNECT " ID ":3000 HTTP/1.1\r\n\r\n", head, sizeof(head)), 407);
	CHECK(strstr(head, "\r\nProxy-Authenticate: Bearer\r\n") != NULL);
	CHECK_INT(ask(t, "CONNECT " ID ":3000 HTTP/1.1\r\nProxy-Authorization: Bearer nope\r\n\r\n",
		      NULL, 0),
		  407);
	CHECK_INT(ask(t, "CONNECT " ID ":3000 HTTP/1.1\r\nProxy-Authorization: Basic " KEY "\r\n\r\n",
		      NULL, 0),
		  407);
	CHECK_INT(ask(t, "CONNECT " ID ":3000 HTTP/1.1\r\nProxy-Authorization: Bearer " KEY "x\r\n\r\n",
		      NULL, 0),
		  407);
#define AUTH "\r\nProxy-Authorization: Bearer " KEY "\r\n\r\n"
	/* A UUID without a socket, traversal, upper case, not a UUID. */
	CHECK_INT(ask(t, "CONNECT 0a1b2c3d-4e5f-4a6b-8c7d-000000000000:3000 HTTP/1.1" AUTH, NULL, 0),
		  404);
	CHECK_INT(ask(t, "CONNECT ../" ID ":3000 HTTP/1.1" AUTH, NULL, 0), 404);
	CHECK_INT(ask(t, "CONNECT ../../../../etc/passwd:3000 HTTP/1.1" AUTH, NULL, 0), 404);
	CHECK_INT(ask(t, "CONNECT 0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D:3000 HTTP/1.1" AUTH, NULL, 0),
		  404);
	CHECK_INT(ask(t, "CONNECT localhost:22 HTTP/1.1" AUTH, NULL, 0), 404);
	/* Malformed, or not CONNECT. */
	CHECK_INT(ask(t, "hello there\r\n\r\n", NULL, 0), 400);
	CHECK_INT(ask(t, "\r\n\r\n", NULL, 0), 400);
	CHECK_INT(ask(t, "CONNECT " ID " HTTP/1.1" AUTH, NULL, 0), 400);
	CHECK_INT(ask(t, "CONNECT " ID ":http HTTP/1.1" AUTH, NULL, 0), 400);
	CHECK_INT(ask(t, "CONNECT " ID ":99999 HTTP/1.1" AUTH, NULL, 0), 400);
	CHECK_INT(ask(t, "CONNECT " ID ":3000 SPDY/3" AUTH, NULL, 0), 400);
	CHECK_INT(ask(t, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", NULL, 0), 405);
#undef AUTH
}

/* A head without its end within 8 KiB: 431 and closed. */
static void test_big_head(struct sbx_tunnel *t)
{
	int fd = tconnect(t);
	char line[1024];

	memset(line, 'a', sizeof(line));
	memcpy(line, "X-Pad: ", 7);
	line[sizeof(line) - 2] = '\r';
	line[sizeof(line) - 1] = '\n';
	CHECK(sbx_write_full(fd, "CONNECT " ID ":3000 HTTP/1.1\r\n",
			     strlen("CONNECT " ID ":3000 HTTP/1.1\r\n")) == 0);
	for (int i = 0; i < 9; i++)
		if (sbx_write_full(fd, line, sizeof(line)) < 0)
			break;
	CHECK_INT(read_status(fd, NULL, 0), 431);
	CHECK(closed_by_peer(fd));
	close(fd);
}

/* A client that never finishes its head is answered 408 and cut. */
static void test_slow(struct sbx_tunnel *t)
{
	int64_t t0 = sbx_clock_mono_ms();
	int fd = tconnect(t);

	CHECK(sbx_write_full(fd, "CONNECT ", 8) == 0);
	CHECK_INT(read_status(fd, NULL, 0), 408);
	CHECKF(sbx_clock_mono_ms() - t0 >= 400, "cut after %lld ms",
	       (long long)(sbx_clock_mono_ms() - t0));
	CHECK(closed_by_peer(fd));
	close(fd);
}

/* max_conns (8) open: the next is answered 503 at once; closing them
 * frees the places. */
static void test_limit(struct sbx_tunnel *t)
{
	int fds[8], n = 0;

	for (int i = 0; i < 8; i++)
		if ((fds[i] = tconnect(t)) >= 0)
			n++;
	CHECK_INT(n, 8);
	for (int i = 0; i < 200 && sbx_tunnel_connections(t) < 8; i++)
		usleep(10000);
	CHECK_INT(sbx_tunnel_connections(t), 8);
	CHECK_INT(ask(t, "CONNECT " ID ":3000 HTTP/1.1\r\n\r\n", NULL, 0), 503);
	for (int i = 0; i < 8; i++)
		close(fds[i]);
	for (int i = 0; i < 500 && sbx_tunnel_connections(t) > 0; i++)
		usleep(10000);
	CHECK_INT(sbx_tunnel_connections(t), 0);
}

/* 64 tunnels open at once, each echoing its own bytes. */
static void test_many(struct sbx_tunnel *t)
{
	int fds[64], ok = 0;
	const char req[] = "CONNECT " ID ":443 HTTP/1.1\r\n\r\n";

	for (int i = 0; i < 64; i++) {
		fds[i] = tconnect(t);
		if (fds[i] < 0 || sbx_write_full(fds[i], req, strlen(req)) < 0)
			continue;
	}
	for (int i = 0; i < 64; i++) {
		char msg[32], back[32] = {0};

		snprintf(msg, sizeof(msg), "conn %02d", i);
		if (read_status(fds[i], NULL, 0) == 200 &&
		    sbx_write_full(fds[i], msg, strlen(msg)) == 0 &&
		    sbx_read_full(fds[i], back, strlen(msg)) == 0 && strcmp(back, msg) == 0)
			ok++;
	}
	CHECK_INT(ok, 64);
	CHECK_INT(sbx_tunnel_connections(t), 64);
	/* Stopping with every one open cuts them and returns. */
	sbx_tunnel_stop(t);
	for (int i = 0; i < 64; i++) {
		CHECK(closed_by_peer(fds[i]));
		close(fds[i]);
	}
}

static void test_urls(void)
{
	struct sbx_tunnel_addr a;

	CHECK(sbx_tunnel_parse_url("tcp://127.0.0.1:7002", &a) == 0);
	CHECK_STR(a.host, "127.0.0.1");
	CHECK_STR(a.port, "7002");
	CHECK(sbx_tunnel_parse_url("tcp://[::1]:0", &a) == 0);
	CHECK_STR(a.host, "::1");
	CHECK(sbx_tunnel_parse_url("tcp://:7002", &a) == 0);
	CHECK_STR(a.host, "");
	CHECK(sbx_tunnel_parse_url("tcp://sandboxd:7002", &a) == 0);
	CHECK(sbx_tunnel_parse_url("http://0.0.0.0:7002", &a) < 0);
	CHECK(sbx_tunnel_parse_url("tcp://0.0.0.0", &a) < 0);
	CHECK(sbx_tunnel_parse_url("tcp://0.0.0.0:", &a) < 0);
	CHECK(sbx_tunnel_parse_url("tcp://0.0.0.0:65536", &a) < 0);
	CHECK(sbx_tunnel_parse_url("tcp://0.0.0.0:-1", &a) < 0);
	CHECK(sbx_tunnel_parse_url("tcp://::1:80", &a) < 0);
	CHECK(sbx_tunnel_parse_url("tcp://[::1]80", &a) < 0);
}

int main(void)
{
	struct sbx_tunnel *t = NULL, *open = NULL;

	signal(SIGPIPE, SIG_IGN);
	test_urls();
	dir = tl_tmpdir("sbx-test-tunnel");
	CHECK(dir && echo_start() == 0);
	CHECK(sbx_tunnel_start(&(struct sbx_tunnel_opts){.url = "tcp://127.0.0.1:0",
							 .proxy_dir = dir,
							 .key = KEY,
							 .max_conns = 8,
							 .head_ms = 500},
			       &t) == 0);
	CHECK(sbx_tunnel_port(t) > 0);
	if (!t)
		TEST_DONE();
	test_relay(t);
	test_pipelined(t);
	test_refusals(t);
	test_big_head(t);
	test_slow(t);
	sbx_tunnel_stop(t);
	/* The limit, with the default head time so that no idle connection
	 * is cut while it is counted. */
	t = NULL;
	CHECK(sbx_tunnel_start(&(struct sbx_tunnel_opts){.url = "tcp://127.0.0.1:0",
							 .proxy_dir = dir,
							 .key = KEY,
							 .max_conns = 8},
			       &t) == 0);
	if (t)
		test_limit(t);
	sbx_tunnel_stop(t);
	/* No key: no Proxy-Authorization needed; the default limit. */
	CHECK(sbx_tunnel_start(&(struct sbx_tunnel_opts){.url = "tcp://127.0.0.1:0",
							 .proxy_dir = dir},
			       &open) == 0);
	if (open)
		test_many(open);
	/* A host that does not resolve is refused. */
	CHECK(sbx_tunnel_start(&(struct sbx_tunnel_opts){.url = "tcp://nosuchhost.invalid:0",
							 .proxy_dir = dir},
			       &t) < 0);
	close(echo_fd);
	TEST_DONE();
}
