#include "docker_http.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"

int sbx_dk_socket_path(const char *docker_host, char *ret, size_t len)
{
	const char *p = docker_host;

	if (strncmp(p, "unix://", 7) == 0)
		p += 7;
	if (p[0] != '/' || strlen(p) >= len || strlen(p) >= 108 /* sun_path */)
		return -EINVAL;
	memcpy(ret, p, strlen(p) + 1);
	return 0;
}

int sbx_dk_conn_init(struct sbx_dk_conn *c, const char *socket_path)
{
	*c = (struct sbx_dk_conn){.socket_path = socket_path};
	c->curl = curl_easy_init();
	return c->curl ? 0 : -ENOMEM;
}

void sbx_dk_conn_fini(struct sbx_dk_conn *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sbx_buf *b = arg;

	/* Past the maximum: a short count makes curl fail the transfer. */
	return sbx_buf_append(b, p, size * n) < 0 ? 0 : size * n;
}

static size_t on_discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static int curl_errno(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return 0;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_WRITE_ERROR:
		return -EMSGSIZE;
	default:
		return -EIO;
	}
}

int sbx_dk_call(struct sbx_dk_conn *c, const char *method, const char *path, const void *body,
		size_t body_len, const char *content_type, long timeout_ms, long *ret_status,
		struct sbx_buf *resp)
{
	struct curl_slist *hdrs = NULL;
	char url[2048], ct[128];
	CURLcode rc;
	CURL *h = c->curl;
	long status = 0;

	if ((size_t)snprintf(url, sizeof(url), "http://docker" SBX_DK_API "%s", path) >=
	    sizeof(url))
		return -ENAMETOOLONG;
	curl_easy_reset(h);
	c->errbuf[0] = 0;
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket_path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "GET") != 0) {
		/* POST semantics for the body (also for PUT/DELETE); an empty
		 * body is sent as Content-Length: 0, which the engine wants. */
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? (const char *)body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
	}
	snprintf(ct, sizeof(ct), "Content-Type: %s",
		 content_type ? content_type : "application/json");
	hdrs = curl_slist_append(hdrs, ct);
	/* No "Expect: 100-continue" round trip for large archive bodies. */
	if (hdrs)
		hdrs = curl_slist_append(hdrs, "Expect:");
	if (!hdrs)
		return -ENOMEM;
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (resp) {
		sbx_buf_reset(resp);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	} else {
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_discard);
	}
	rc = curl_easy_perform(h);
	curl_slist_free_all(hdrs);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	if (rc != CURLE_OK) {
		if (!c->errbuf[0])
			snprintf(c->errbuf, sizeof(c->errbuf), "%s", curl_easy_strerror(rc));
		return curl_errno(rc);
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	*ret_status = status;
	return 0;
}

/* Waits until s's socket is ready for events or the deadline passes. */
static int wait_ready(const struct sbx_dk_stream *s, short events, long long deadline)
{
	struct pollfd pfd = {.fd = s->fd, .events = events};
	long long left = deadline - sbx_clock_mono_ms();

	if (left <= 0)
		return -ETIMEDOUT;
	if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

/* Send all of p on a non-blocking connect-only handle, waiting until the
 * deadline. */
static int send_all(struct sbx_dk_stream *s, const char *p, size_t n, long long deadline)
{
	while (n) {
		size_t sent = 0;
		CURLcode rc = curl_easy_send(s->curl, p, n, &sent);
		int r;

		if (rc == CURLE_AGAIN) {
			if ((r = wait_ready(s, POLLOUT, deadline)) < 0)
				return r;
			continue;
		}
		if (rc != CURLE_OK)
			return -EIO;
		p += sent;
		n -= sent;
	}
	return 0;
}

/* Reads the response head into hdr (NUL-terminated, len bytes at most with
 * the NUL); *ret_n is all that was read, *ret_end where the head ends: what
 * follows it is already stream data. */
static int recv_head(struct sbx_dk_stream *s, char *hdr, size_t len, long long deadline,
		     size_t *ret_n, char **ret_end)
{
	size_t n = 0;
	char *end;

	for (;;) {
		size_t got = 0;
		CURLcode rc = curl_easy_recv(s->curl, hdr + n, len - 1 - n, &got);
		int r;

		if (rc == CURLE_AGAIN) {
			if ((r = wait_ready(s, POLLIN, deadline)) < 0)
				return r;
			continue;
		}
		if (rc != CURLE_OK || got == 0)
			return -EIO;
		n += got;
		hdr[n] = 0;
		end = strstr(hdr, "\r\n\r\n");
		if (end)
			break;
		if (n == len - 1)
			return -EPROTO;
	}
	*ret_n = n;
	*ret_end = end;
	return 0;
}

/* A connect-only handle on the engine's socket; s->fd its socket. */
static int connect_only(struct sbx_dk_stream *s, const char *socket_path, long timeout_ms)
{
	curl_socket_t fd = CURL_SOCKET_BAD;
	int r;

	s->curl = curl_easy_init();
	if (!s->curl)
		return -ENOMEM;
	curl_easy_setopt(s->curl, CURLOPT_UNIX_SOCKET_PATH, socket_path);
	curl_easy_setopt(s->curl, CURLOPT_URL, "http://docker/");
	curl_easy_setopt(s->curl, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	r = curl_errno(curl_easy_perform(s->curl));
	if (r < 0)
		return r;
	if (curl_easy_getinfo(s->curl, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	    fd == CURL_SOCKET_BAD)
		return -EIO;
	s->fd = fd;
	return 0;
}

int sbx_dk_attach(struct sbx_dk_stream *s, const char *socket_path, const char *container_id,
		  long timeout_ms)
{
	long long deadline = sbx_clock_mono_ms() + timeout_ms;
	char req[512], hdr[4096];
	size_t n_hdr = 0;
	char *end = NULL;
	int r;

	*s = (struct sbx_dk_stream){.fd = -1};
	r = connect_only(s, socket_path, timeout_ms);
	if (r < 0)
		goto fail;
	snprintf(req, sizeof(req),
		 "POST " SBX_DK_API
		 "/containers/%s/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\n"
		 "Host: docker\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n"
		 "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
		 container_id);
	r = send_all(s, req, strlen(req), deadline);
	if (r == 0)
		r = recv_head(s, hdr, sizeof(hdr), deadline, &n_hdr, &end);
	if (r < 0)
		goto fail;
	if (strncmp(hdr, "HTTP/1.1 101", 12) != 0 && strncmp(hdr, "HTTP/1.1 200", 12) != 0 &&
	    strncmp(hdr, "HTTP/1.0 200", 12) != 0) {
		r = strncmp(hdr, "HTTP/1.1 404", 12) == 0 ? -ENOENT : -EPROTO;
		goto fail;
	}
	end += 4;
	s->n_early = n_hdr - (size_t)(end - hdr);
	memcpy(s->early, end, s->n_early);
	return 0;
fail:
	sbx_dk_stream_fini(s);
	return r;
}

void sbx_dk_stream_fini(struct sbx_dk_stream *s)
{
	if (s->curl)
		curl_easy_cleanup(s->curl);
	*s = (struct sbx_dk_stream){.fd = -1};
}
