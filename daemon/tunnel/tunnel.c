/* See tunnel.h. */
#include "tunnel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "conns.h"
#include "fdio.h"
#include "forward.h"
#include "log.h"
#include "registry.h"
#include "relay.h"
#include "rpc_server.h"

#define HEAD_MAX 8192
#define DEFAULT_CONNS 1024
#define DEFAULT_HEAD_MS 10000

struct sbx_tunnel {
	char *proxy_dir, *key;
	unsigned head_ms;
	uint16_t port;
	struct sbx_conns *conns;
};

int sbx_tunnel_parse_url(const char *url, struct sbx_tunnel_addr *ret)
{
	const char *h, *colon, *end;
	char *e;
	unsigned long port;
	size_t hl;

	if (strncmp(url, "tcp://", 6) != 0)
		return -EINVAL;
	h = url + 6;
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		colon = end + 1;
		h++;
		hl = (size_t)(end - h);
	} else {
		colon = strrchr(h, ':');
		if (!colon || memchr(h, ':', (size_t)(colon - h)))
			return -EINVAL;
		hl = (size_t)(colon - h);
	}
	errno = 0;
	port = strtoul(colon + 1, &e, 10);
	if (hl >= sizeof(ret->host) || !colon[1] || *e || errno || port > 65535 ||
	    colon[1] == '-' || colon[1] == '+' || colon[1] == ' ')
		return -EINVAL;
	memcpy(ret->host, h, hl);
	ret->host[hl] = 0;
	snprintf(ret->port, sizeof(ret->port), "%lu", port);
	return 0;
}

/* Write a refusal and let the caller close. Best effort: the client may
 * be gone, and a full socket buffer is not worth waiting for. */
static void refuse(int fd, const char *status, const char *extra)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf),
			 "HTTP/1.1 %s\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n", status,
			 extra ? extra : "");

	send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Read the head (up to the empty line) within the deadline. Returns its
 * length with the byte after it at buf[len] and *ret_n bytes read in all,
 * or -ETIMEDOUT, -E2BIG (no end within HEAD_MAX), -ECONNRESET. */
static int read_head(struct sbx_tunnel *t, int fd, char *buf, size_t *ret_n)
{
	struct timespec until = sbx_clock_deadline(CLOCK_MONOTONIC, t->head_ms);
	size_t n = 0;

	for (;;) {
		int64_t left = (until.tv_sec * 1000LL + until.tv_nsec / 1000000) -
			       sbx_clock_ms(CLOCK_MONOTONIC);
		struct pollfd p = {fd, POLLIN, 0};
		char *end;
		ssize_t k;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -ECONNRESET;
		if (!p.revents)
			continue;
		k = recv(fd, buf + n, HEAD_MAX - n, MSG_DONTWAIT);
		if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
			return -ECONNRESET;
		if (k < 0)
			continue;
		n += (size_t)k;
		buf[n] = 0;
		end = strstr(buf, "\r\n\r\n");
		if (end) {
			*ret_n = n;
			return (int)(end + 4 - buf);
		}
		if (n >= HEAD_MAX || memchr(buf, 0, n))
			return -E2BIG;
	}
}

/* The value of header `name` in the head's header lines, trimmed, into
 * out; false when absent. */
static bool header(const char *lines, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);

	for (const char *l = lines; l && *l && strncmp(l, "\r\n", 2) != 0;) {
		const char *eol = strstr(l, "\r\n");

		if (!eol)
			break;
		if ((size_t)(eol - l) > nl && strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
			const char *v = l + nl + 1;
			size_t vl;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			vl = (size_t)(eol - v);
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (vl >= outlen)
				vl = outlen - 1;
			memcpy(out, v, vl);
			out[vl] = 0;
			return true;
		}
		l = eol + 2;
	}
	return false;
}

/* The Proxy-Authorization header carries "Bearer <key>". */
static bool key_ok(const struct sbx_tunnel *t, const char *lines)
{
	char v[HEAD_MAX];

	if (!t->key)
		return true;
	if (!header(lines, "Proxy-Authorization", v, sizeof(v)) || strncasecmp(v, "Bearer ", 7))
		return false;
	return sbx_rpc_key_ok(t->key, v + 7 + strspn(v + 7, " "));
}

/* The request line: "CONNECT <uuid>:<port> HTTP/1.x". 0 with the uuid
 * in id, or the refusal's status line in *ret_status. */
static int request_line(const char *head, char id[SBX_ID_LEN + 1], const char **ret_status)
{
	char method[16], target[128], version[16], *colon, *e;
	unsigned long port;

	*ret_status = "400 Bad Request";
	if (sscanf(head, "%15[A-Z] %127[^ \r\n] %15[^ \r\n]", method, target, version) != 3 ||
	    head[strlen(method) + 1 + strlen(target) + 1 + strlen(version)] != '\r' ||
	    strncmp(version, "HTTP/1.", 7) != 0)
		return -EINVAL;
	if (strcmp(method, "CONNECT") != 0) {
		*ret_status = "405 Method Not Allowed";
		return -EINVAL;
	}
	colon = strrchr(target, ':');
	if (!colon)
		return -EINVAL;
	*colon = 0;
	errno = 0;
	port = strtoul(colon + 1, &e, 10);
	if (!colon[1] || *e || errno || port == 0 || port > 65535 || colon[1] < '0' ||
	    colon[1] > '9')
		return -EINVAL;
	if (!sbx_id_valid(target)) {
		*ret_status = "404 Not Found";
		return -ENOENT;
	}
	memcpy(id, target, SBX_ID_LEN + 1);
	return 0;
}

/* Connect to the forwarder of `id`: the fd, or the refusal's status. */
static int connect_target(struct sbx_tunnel *t, const char *id, const char **ret_status)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char *path = NULL;
	int fd;

	*ret_status = "502 Bad Gateway";
	if (sbx_forward_socket_path(t->proxy_dir, id, &path) < 0)
		return -ENOMEM;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		free(path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	free(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		if (r == -ENOENT || r == -ECONNREFUSED || r == -ENOTSOCK)
			*ret_status = "404 Not Found";
		close(fd);
		return r;
	}
	return fd;
}

/* Read and check the head, connect, answer 200 and pass on what came
 * after the head: the forwarder's fd, or -1 once refused. */
static int open_tunnel(struct sbx_tunnel *t, struct sbx_conn *c)
{
	char head[HEAD_MAX + 1], id[SBX_ID_LEN + 1];
	const char *status, *ok = "HTTP/1.1 200 Connection established\r\n\r\n";
	size_t n = 0;
	int len = read_head(t, c->fd[0], head, &n), fd;

	if (len < 0) {
		if (len != -ECONNRESET)
			refuse(c->fd[0], len == -ETIMEDOUT ? "408 Request Timeout"
							   : "431 Request Header Fields Too Large",
			       NULL);
		return -1;
	}
	if (request_line(head, id, &status) < 0) {
		refuse(c->fd[0], status, NULL);
		return -1;
	}
	/* The key before the target, so that nobody without it learns which
	 * ids exist. */
	if (!key_ok(t, strstr(head, "\r\n") + 2)) {
		refuse(c->fd[0], "407 Proxy Authentication Required",
		       "Proxy-Authenticate: Bearer\r\n");
		return -1;
	}
	fd = connect_target(t, id, &status);
	if (fd < 0) {
		refuse(c->fd[0], status, NULL);
		return -1;
	}
	if (sbx_write_full(c->fd[0], ok, strlen(ok)) < 0 ||
	    ((size_t)len < n && sbx_write_full(fd, head + len, n - (size_t)len) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void serve(struct sbx_conn *c, void *arg)
{
	int fd = open_tunnel(arg, c);

	if (fd < 0)
		return;
	sbx_conn_set_peer(c, fd);
	sbx_relay(c->fd[0], fd, NULL);
}

static void refuse_busy(int fd)
{
	refuse(fd, "503 Service Unavailable", "Retry-After: 1\r\n");
}

/* Bind and listen on the URL's address: the fd, the real port into
 * t->port; or -errno. */
static int listen_on(struct sbx_tunnel *t, const char *url)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct sbx_tunnel_addr a;
	struct addrinfo *ai = NULL;
	int one = 1, fd, r;

	if (sbx_tunnel_parse_url(url, &a) < 0)
		return -EINVAL;
	r = getaddrinfo(*a.host ? a.host : NULL, a.port, &hints, &ai);
	if (r != 0) {
		log_error("tunnel %s: cannot resolve '%s': %s", url, a.host, gai_strerror(r));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		r = -errno;
		log_error("tunnel: cannot listen on %s: %s", url, strerror(-r));
		freeaddrinfo(ai);
		if (fd >= 0)
			close(fd);
		return r;
	}
	freeaddrinfo(ai);
	t->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						 : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static void tunnel_free(struct sbx_tunnel *t)
{
	free(t->proxy_dir);
	if (t->key)
		explicit_bzero(t->key, strlen(t->key));
	free(t->key);
	free(t);
}

int sbx_tunnel_start(const struct sbx_tunnel_opts *o, struct sbx_tunnel **ret)
{
	struct sbx_tunnel *t = calloc(1, sizeof(*t));
	int fd, r;

	if (!t)
		return -ENOMEM;
	t->head_ms = o->head_ms ? o->head_ms : DEFAULT_HEAD_MS;
	t->proxy_dir = strdup(o->proxy_dir);
	if (!t->proxy_dir || (o->key && *o->key && !(t->key = strdup(o->key)))) {
		tunnel_free(t);
		return -ENOMEM;
	}
	fd = listen_on(t, o->url);
	r = fd < 0 ? fd
		   : sbx_conns_start(&(struct sbx_conns_opts){.listen_fd = fd,
							      .max = o->max_conns ? o->max_conns
										  : DEFAULT_CONNS,
							      .serve = serve,
							      .refuse = refuse_busy,
							      .arg = t},
				     &t->conns);
	if (r < 0) {
		tunnel_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

uint16_t sbx_tunnel_port(const struct sbx_tunnel *t)
{
	return t ? t->port : 0;
}

unsigned sbx_tunnel_connections(struct sbx_tunnel *t)
{
	return sbx_conns_count(t->conns);
}

void sbx_tunnel_stop(struct sbx_tunnel *t)
{
	if (!t)
		return;
	sbx_conns_stop(t->conns);
	tunnel_free(t);
}
