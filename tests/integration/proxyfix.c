#include "proxyfix.h"

#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "deploy.pb-c.h"
#include "envelope.h"
#include "fdio.h"
#include "status.h"

#define MAX_CONNS 256

struct pf_fixture {
	char rpc_url[300], svc[256], hang[256], nolisten[256];
	nng_socket rep;
	pthread_t rpc_thread, svc_thread, hang_thread;
	int svc_fd, hang_fd;
	pthread_mutex_t lock;
	char last_open[128];
	int conns[MAX_CONNS]; /* hang: accepted, kept open */
	int n_conns;
};

/* ---- the fake daemon ---- */

static void answer(struct pf_fixture *f, const Sbx__RpcRequest *rq, void **out, size_t *outlen)
{
	Sbx__OpenProxyReply rep = SBX__OPEN_PROXY_REPLY__INIT;
	Sbx__OpenProxyRequest *op = NULL;

	if (strcmp(rq->method, "OpenProxy") != 0 ||
	    sbx_payload_unpack(&sbx__open_proxy_request__descriptor, &rq->payload,
			       (ProtobufCMessage **)&op) < 0) {
		sbx_envelope_pack_reply(rq->id, SBX_UNIMPLEMENTED, "not in the fake daemon", NULL,
					out, outlen);
		return;
	}
	pthread_mutex_lock(&f->lock);
	snprintf(f->last_open, sizeof(f->last_open), "%s/%s", op->kind, op->id);
	pthread_mutex_unlock(&f->lock);
	if (strcmp(op->id, "missing") == 0) {
		sbx_envelope_pack_reply(rq->id, SBX_NOT_FOUND, "deployment missing not found", NULL,
					out, outlen);
	} else if (strcmp(op->id, "down") == 0) {
		sbx_envelope_pack_reply(rq->id, SBX_UNAVAILABLE, "the service is not running", NULL,
					out, outlen);
	} else {
		rep.socket_path = strcmp(op->id, "hang") == 0	    ? f->hang
				  : strcmp(op->id, "nolisten") == 0 ? f->nolisten
								    : f->svc;
		rep.target_id = op->id;
		sbx_envelope_pack_reply(rq->id, SBX_OK, NULL, &rep.base, out, outlen);
	}
	protobuf_c_message_free_unpacked(&op->base, NULL);
}

static void *rpc_main(void *arg)
{
	struct pf_fixture *f = arg;

	for (;;) {
		Sbx__RpcRequest *rq = NULL;
		void *buf = NULL, *out = NULL;
		size_t len = 0, outlen = 0;

		if (nng_recv(f->rep, &buf, &len, NNG_FLAG_ALLOC) != 0)
			return NULL;
		if (sbx_envelope_unpack_request(buf, len, &rq) == 0) {
			answer(f, rq, &out, &outlen);
			sbx__rpc_request__free_unpacked(rq, NULL);
		}
		nng_free(buf, len);
		if (out && nng_send(f->rep, out, outlen, 0) != 0) {
			free(out);
			return NULL;
		}
		free(out);
	}
}

/* ---- the service ---- */

struct conn {
	int fd;
	char buf[64 * 1024];
	size_t len, off; /* bytes in buf, consumed */
};

/* Fill buf with more bytes; 0 on EOF or error. */
static size_t more(struct conn *c)
{
	ssize_t n;

	if (c->off == c->len)
		c->off = c->len = 0;
	if (c->len == sizeof(c->buf)) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (n <= 0)
		return 0;
	c->len += (size_t)n;
	return (size_t)n;
}

/* Read the header block (up to and with the blank line) into hdr. */
static bool read_head(struct conn *c, char *hdr, size_t size)
{
	for (;;) {
		char *end = memmem(c->buf + c->off, c->len - c->off, "\r\n\r\n", 4);

		if (end) {
			size_t n = (size_t)(end + 4 - (c->buf + c->off));

			if (n >= size)
				return false;
			memcpy(hdr, c->buf + c->off, n);
			hdr[n] = '\0';
			c->off += n;
			return true;
		}
		if (c->len - c->off >= sizeof(c->buf) - 1 || !more(c))
			return false;
	}
}

static const char *header(const char *hdr, const char *name, char *val, size_t size)
{
	size_t nl = strlen(name);

	for (const char *l = strstr(hdr, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
		if (strncasecmp(l + 2, name, nl) == 0 && l[2 + nl] == ':') {
			const char *v = l + 3 + nl, *e;

			v += strspn(v, " ");
			e = strstr(v, "\r\n");
			snprintf(val, size, "%.*s", (int)(e - v), v);
			return val;
		}
	}
	return NULL;
}

/* Take n body bytes (or to EOF when n is -1 and chunked is false). */
static bool take(struct conn *c, uint64_t n, uint64_t *count, uint64_t *sum)
{
	while (n) {
		size_t have = c->len - c->off, k;

		if (!have && !more(c))
			return false;
		have = c->len - c->off;
		k = have < n ? have : (size_t)n;
		*sum = pf_sum(*sum, c->buf + c->off, k);
		*count += k;
		c->off += k;
		n -= k;
	}
	return true;
}

static bool read_line(struct conn *c, char *line, size_t size)
{
	for (;;) {
		char *e = memmem(c->buf + c->off, c->len - c->off, "\r\n", 2);

		if (e) {
			size_t n = (size_t)(e - (c->buf + c->off));

			snprintf(line, size, "%.*s", (int)n, c->buf + c->off);
			c->off += n + 2;
			return true;
		}
		if (!more(c))
			return false;
	}
}

static bool read_body(struct conn *c, const char *hdr, uint64_t *count, uint64_t *sum)
{
	char v[64], line[128];

	*count = *sum = 0;
	if (header(hdr, "Transfer-Encoding", v, sizeof(v))) {
		for (;;) {
			uint64_t n;

			if (!read_line(c, line, sizeof(line)))
				return false;
			n = strtoull(line, NULL, 16);
			if (n == 0)
				break;
			if (!take(c, n, count, sum) || !read_line(c, line, sizeof(line)))
				return false;
		}
		/* trailers, then the blank line */
		do {
			if (!read_line(c, line, sizeof(line)))
				return false;
		} while (*line);
		return true;
	}
	if (header(hdr, "Content-Length", v, sizeof(v)))
		return take(c, strtoull(v, NULL, 10), count, sum);
	return true;
}

static bool respond(int fd, int status, const char *extra, const char *body, size_t len)
{
	char head[1024];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n",
			 status, len, extra ? extra : "");

	return sbx_write_full(fd, head, (size_t)n) == 0 && sbx_write_full(fd, body, len) == 0;
}

static bool download(int fd, uint64_t n)
{
	static __thread char block[64 * 1024];
	char head[128];
	uint64_t i = 0;
	int k = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\n\r\n",
			 (unsigned long long)n);

	if (sbx_write_full(fd, head, (size_t)k) < 0)
		return false;
	while (i < n) {
		size_t m = n - i < sizeof(block) ? (size_t)(n - i) : sizeof(block);

		for (size_t j = 0; j < m; j++)
			block[j] = (char)pf_byte(i + j);
		if (sbx_write_full(fd, block, m) < 0)
			return false;
		i += m;
	}
	return true;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	static __thread char hdr[32 * 1024];

	while (read_head(c, hdr, sizeof(hdr))) {
		char method[16], target[4096], msg[128];
		uint64_t count, sum;
		bool ok;

		if (sscanf(hdr, "%15s %4095s", method, target) != 2)
			break;
		if (strcmp(target, "/close") == 0)
			break;
		if (strcmp(target, "/stall") == 0) {
			/* Headers and 1 MiB of 4, then nothing for a while. */
			static const char head[] =
				"HTTP/1.1 200 OK\r\nContent-Length: 4194304\r\n\r\n";
			char *mb = calloc(1, 1 << 20);

			ok = sbx_write_full(c->fd, head, sizeof(head) - 1) == 0 &&
			     sbx_write_full(c->fd, mb, 1 << 20) == 0;
			free(mb);
			sleep(5);
			break;
		}
		if (!read_body(c, hdr, &count, &sum))
			break;
		if (strncmp(target, "/echo", 5) == 0) {
			ok = respond(c->fd, 200,
				     "X-Backend: yes\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
				     "Keep-Alive: timeout=5\r\nConnection: X-Hop\r\nX-Hop: 1\r\n",
				     hdr, strlen(hdr));
		} else if (strncmp(target, "/status/", 8) == 0) {
			ok = respond(c->fd, atoi(target + 8), NULL, "status", 6);
		} else if (strcmp(target, "/upload") == 0) {
			int n = snprintf(msg, sizeof(msg), "bytes=%llu sum=%llx",
					 (unsigned long long)count, (unsigned long long)sum);

			ok = respond(c->fd, 200, NULL, msg, (size_t)n);
		} else if (strncmp(target, "/download?n=", 12) == 0) {
			ok = strcmp(method, "HEAD") == 0
				     ? respond(c->fd, 200, NULL, "", 0)
				     : download(c->fd, strtoull(target + 12, NULL, 10));
		} else {
			ok = respond(c->fd, 200, NULL, "ok", 2);
		}
		if (!ok)
			break;
	}
	close(c->fd);
	free(c);
	return NULL;
}

static void *svc_main(void *arg)
{
	struct pf_fixture *f = arg;

	for (;;) {
		int fd = accept4(f->svc_fd, NULL, NULL, SOCK_CLOEXEC);
		struct conn *c;
		pthread_t t;

		if (fd < 0)
			return NULL;
		c = calloc(1, sizeof(*c));
		c->fd = fd;
		if (pthread_create(&t, NULL, conn_main, c) != 0) {
			close(fd);
			free(c);
			continue;
		}
		pthread_detach(t);
	}
}

static void *hang_main(void *arg)
{
	struct pf_fixture *f = arg;

	for (;;) {
		int fd = accept4(f->hang_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			return NULL;
		pthread_mutex_lock(&f->lock);
		if (f->n_conns < MAX_CONNS)
			f->conns[f->n_conns++] = fd;
		else
			close(fd);
		pthread_mutex_unlock(&f->lock);
	}
}

static int listen_unix(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 128) < 0) {
		perror(path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

struct pf_fixture *pf_start(const char *dir)
{
	struct pf_fixture *f = calloc(1, sizeof(*f));
	int rv;

	pthread_mutex_init(&f->lock, NULL);
	snprintf(f->rpc_url, sizeof(f->rpc_url), "ipc://%s/rpc.sock", dir);
	snprintf(f->svc, sizeof(f->svc), "%s/svc.sock", dir);
	snprintf(f->hang, sizeof(f->hang), "%s/hang.sock", dir);
	snprintf(f->nolisten, sizeof(f->nolisten), "%s/nothing.sock", dir);
	f->svc_fd = listen_unix(f->svc);
	f->hang_fd = listen_unix(f->hang);
	if (f->svc_fd < 0 || f->hang_fd < 0)
		goto fail;
	if ((rv = nng_rep0_open(&f->rep)) != 0 || (rv = nng_listen(f->rep, f->rpc_url, NULL, 0))) {
		fprintf(stderr, "fake daemon at %s: %s\n", f->rpc_url, nng_strerror(rv));
		goto fail;
	}
	pthread_create(&f->rpc_thread, NULL, rpc_main, f);
	pthread_create(&f->svc_thread, NULL, svc_main, f);
	pthread_create(&f->hang_thread, NULL, hang_main, f);
	return f;
fail:
	free(f);
	return NULL;
}

void pf_stop(struct pf_fixture *f)
{
	if (!f)
		return;
	nng_close(f->rep);
	shutdown(f->svc_fd, SHUT_RDWR);
	shutdown(f->hang_fd, SHUT_RDWR);
	pthread_join(f->rpc_thread, NULL);
	pthread_join(f->svc_thread, NULL);
	pthread_join(f->hang_thread, NULL);
	close(f->svc_fd);
	close(f->hang_fd);
	for (int i = 0; i < f->n_conns; i++)
		close(f->conns[i]);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

const char *pf_rpc_url(const struct pf_fixture *f)
{
	return f->rpc_url;
}

const char *pf_service_path(const struct pf_fixture *f)
{
	return f->svc;
}

void pf_last_open(struct pf_fixture *f, char *buf, size_t size)
{
	pthread_mutex_lock(&f->lock);
	snprintf(buf, size, "%s", f->last_open);
	pthread_mutex_unlock(&f->lock);
}
