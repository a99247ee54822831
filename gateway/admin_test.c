#include "admin_test.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "cleanup.h"
#include "clock.h"
#include "respond.h"
#include "gw_server.h"

/* Response header bytes kept per inner request; past it headers are
 * dropped (the gateway's own replies carry a handful). */
#define HEADERS_BYTES_MAX (64u << 10)
/* Bytes of one request header value. */
#define HEADER_VALUE_MAX 8192

static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH"};

/* Headers libcurl and the gateway set themselves: a request that sets
 * them could no longer be framed or routed as asked. */
static const char *const refused_headers[] = {
	"host", "content-length",     "transfer-encoding", "connection", "expect", "upgrade",
	"te",	GW_ADMIN_TEST_HEADER,
};

/* One inner request. Lives in req->ctx: written by the thread until it
 * resumes the connection, read by the HTTP thread after. */
struct test_call {
	struct gw_server *srv;
	char method[8];
	char *url;
	char *body; /* NULL: no body */
	size_t body_len;
	struct curl_slist *headers;
	uint32_t timeout_ms;
	bool limited; /* the inner route spends a rate-limit token */

	long status;
	json_t *resp_headers; /* lower-case name -> value */
	size_t header_bytes;
	struct sbx_buf resp_body;
	bool truncated;
	double duration_ms;
	CURLcode code;
};

static void call_free(void *p)
{
	struct test_call *c = p;

	if (!c)
		return;
	free(c->url);
	free(c->body);
	curl_slist_free_all(c->headers);
	json_decref(c->resp_headers);
	sbx_buf_fini(&c->resp_body);
	free(c);
}

/* ---- the inner request, on its own thread ---- */

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct test_call *c = arg;
	size_t len = size * n, took = sbx_buf_append_some(&c->resp_body, data, len);

	if (took < len) {
		/* Stop reading: less than len makes libcurl end the transfer. */
		c->truncated = true;
		return took;
	}
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct test_call *c = arg;
	size_t len = size * n, nl, vl;
	char name[256], *value;
	const char *colon;
	json_t *old;

	/* A status line starts a response: one after a 100 replaces the first. */
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		json_object_clear(c->resp_headers);
		c->header_bytes = 0;
		return len;
	}
	colon = memchr(data, ':', len);
	if (!colon || (nl = (size_t)(colon - data)) == 0 || nl >= sizeof(name) ||
	    c->header_bytes + len > HEADERS_BYTES_MAX)
		return len;
	c->header_bytes += len;
	for (size_t i = 0; i < nl; i++)
		name[i] = (char)tolower((unsigned char)data[i]);
	name[nl] = '\0';
	data += nl + 1;
	vl = len - nl - 1;
	while (vl && (*data == ' ' || *data == '\t'))
		data++, vl--;
	while (vl && (data[vl - 1] == '\r' || data[vl - 1] == '\n' || data[vl - 1] == ' '))
		vl--;
	old = json_object_get(c->resp_headers, name);
	if (old) {
		/* Repeated headers join with ", " (RFC 9110, 5.3). */
		size_t ol = json_string_length(old);

		value = malloc(ol + 2 + vl + 1);
		if (!value)
			return len;
		memcpy(value, json_string_value(old), ol);
		memcpy(value + ol, ", ", 2);
		memcpy(value + ol + 2, data, vl);
		vl += ol + 2;
	} else {
		value = malloc(vl + 1);
		if (!value)
			return len;
		memcpy(value, data, vl);
	}
	value[vl] = '\0';
	/* Not UTF-8: left out rather than sent as invalid JSON. */
	json_object_set_new(c->resp_headers, name, json_stringn(value, vl));
	free(value);
	return len;
}

/* Shutting down: the server no longer accepts, so the inner request could
 * only wait for its timeout. */
static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct test_call *c = arg;

	return atomic_load(&c->srv->draining) ? 1 : 0;
}

static int perform(struct test_call *c)
{
	CURL *h = curl_easy_init();
	uint64_t t0;
	CURLcode rc;

	if (!h)
		return -ENOMEM;
	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
	/* The gateway itself, never through an http_proxy of the environment. */
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* The gateway refuses "." and ".." segments; libcurl must not hide them. */
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
	/* POST, PUT and PATCH without a body still say Content-Length: 0. */
	if (c->body || (strcmp(c->method, "GET") != 0 && strcmp(c->method, "DELETE") != 0)) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body ? c->body : "");
	}
	t0 = sbx_clock_mono_us();
	rc = curl_easy_perform(h);
	c->duration_ms = (double)(sbx_clock_mono_us() - t0) / 1000.0;
	c->code = rc;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
	curl_easy_cleanup(h);
	if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && c->truncated))
		return 0;
	/* A response that never ends (a log stream with follow=true): what
	 * came before the timeout, marked as cut. */
	if (rc == CURLE_OPERATION_TIMEDOUT && c->status > 0) {
		c->truncated = true;
		return 0;
	}
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		return -ESHUTDOWN;
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return -ETIMEDOUT;
	if (rc == CURLE_OUT_OF_MEMORY)
		return -ENOMEM;
	return -EIO;
}

static void *run(void *arg)
{
	struct gw_request *req = arg;
	struct test_call *c = req->ctx;
	struct gw_server *srv = c->srv;
	int err = perform(c);

	/* Before the resume: once resumed, the server may go away. */
	atomic_fetch_sub(&srv->admin_tests, 1);
	gw_request_finish_call(req, err, NULL);
	gw_request_unref(req);
	return NULL;
}

/* ---- the reply, on the HTTP thread ---- */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if none. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned cp, min;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* The body as a JSON string: a binary body, or one cut in the middle of a
 * character, gets U+FFFD for each byte that is not UTF-8. */
static json_t *body_string(const char *data, size_t len)
{
	_cleanup_free_ char *fixed = NULL;
	json_t *s = json_stringn(data ? data : "", len);
	size_t o = 0;

	if (s)
		return s;
	fixed = malloc(3 * len + 1);
	if (!fixed)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t k = utf8_seq((const unsigned char *)data + i, len - i);

		if (k) {
			memcpy(fixed + o, data + i, k);
			o += k;
			i += k;
		} else {
			memcpy(fixed + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	return json_stringn(fixed, o);
}

static const struct gw_header retry_after[] = {
	{MHD_HTTP_HEADER_RETRY_AFTER, "1"},
	{0},
};

static int finish(struct gw_server *srv, struct gw_request *req)
{
	struct test_call *c = req->ctx;
	_cleanup_free_ char *text = NULL;
	json_t *out, *body;
	int err;

	pthread_mutex_lock(&req->lock);
	err = req->call_err;
	pthread_mutex_unlock(&req->lock);
	switch (err) {
	case 0:
		break;
	case -ETIMEDOUT:
		return gw_respond_error(req, 504, NULL, "the request did not complete within %u ms",
					c->timeout_ms);
	case -ESHUTDOWN:
		return gw_respond_error(req, 503, retry_after, "the gateway is shutting down");
	case -EAGAIN:
		return gw_respond_error(req, 503, retry_after,
					"the gateway cannot start the request now; retry later");
	case -ENOMEM:
		return -ENOMEM;
	default:
		return gw_respond_error(req, 502, NULL, "the request to this gateway failed: %s",
					curl_easy_strerror(c->code));
	}
	body = body_string(c->resp_body.data, c->resp_body.len);
	if (!body)
		return -ENOMEM;
	out = json_pack("{s:I, s:O, s:o, s:f}", "status", (json_int_t)c->status, "headers",
			c->resp_headers, "body", body, "duration_ms", c->duration_ms);
	if (!out)
		return -ENOMEM;
	if (c->truncated && json_object_set_new(out, "truncated", json_true()) < 0) {
		json_decref(out);
		return -ENOMEM;
	}
	/* Ten digits: 1.61 rather than the 1.6100000000000001 of 17. */
	text = json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(10));
	json_decref(out);
	if (!text)
		return -ENOMEM;
	return gw_respond_text(req, 200, text);
}

/* ---- the handler: check the request body, then start ---- */

static bool is_tchar(char ch)
{
	return isalnum((unsigned char)ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* NULL when path may be sent to this gateway with method, else why not
 * ("" when out of memory). *ret_limited: the route it reaches spends a
 * rate-limit token. */
static const char *path_problem(struct gw_server *srv, const char *path, const char *method,
				bool *ret_limited)
{
	char plain[GW_PATH_MAX + 1];
	struct gw_match *m;
	size_t len = strlen(path), pl;
	bool loops;

	if (path[0] != '/')
		return "'path' must start with '/'";
	if (len > GW_PATH_MAX)
		return "'path' must be at most 2048 bytes";
	if (path[1] == '/' || strstr(path, "://"))
		return "'path' must be a path on this gateway, not a URL";
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#')
			return "'path' must not contain spaces, control bytes, '#' or non-ASCII "
			       "bytes (percent-encode them)";
	pl = strcspn(path, "?");
	memcpy(plain, path, pl);
	plain[pl] = '\0';
	/* Asked of the router, so that "/admin/api/tes%74/" is caught too. */
	m = malloc(sizeof(*m));
	if (!m)
		return "";
	loops = gw_router_match(srv->routes, srv->n_routes, "POST", plain, m) == GW_MATCH_OK &&
		m->route->handler == gw_admin_test_handler;
	*ret_limited =
		gw_router_match(srv->routes, srv->n_routes, method, plain, m) == GW_MATCH_OK &&
		m->route->rate_limited;
	free(m);
	return loops ? "'path' must not be /admin/api/test itself" : NULL;
}

static bool header_refused(const char *name)
{
	for (size_t i = 0; i < SBX_ARRAY_SIZE(refused_headers); i++)
		if (strcasecmp(name, refused_headers[i]) == 0)
			return true;
	return false;
}

static int add_header(struct curl_slist **list, const char *name, const char *value)
{
	_cleanup_free_ char *line = NULL;
	struct curl_slist *l;

	/* "Name;" is libcurl's spelling of a header with an empty value. */
	if (asprintf(&line, *value ? "%s: %s" : "%s;", name, value) < 0)
		return -ENOMEM;
	l = curl_slist_append(*list, line);
	if (!l)
		return -ENOMEM;
	*list = l;
	return 0;
}

/* The request headers: the caller's, checked, then what the gateway adds.
 * 0, 1 after answering 400, or -ENOMEM. */
static int build_headers(struct gw_request *req, json_t *hdrs, struct test_call *c)
{
	bool has_key = false, has_type = false;
	const char *name, *v;
	json_t *value;

	if (hdrs && !json_is_null(hdrs)) {
		if (!json_is_object(hdrs))
			goto bad_type;
		if (json_object_size(hdrs) > GW_ADMIN_TEST_HEADERS_MAX)
			return gw_respond_error(req, 400, NULL,
						"'headers' may have at most %d entries",
						GW_ADMIN_TEST_HEADERS_MAX)
				       ?: 1;
		json_object_foreach(hdrs, name, value)
		{
			size_t nl = strlen(name);

			if (!json_is_string(value))
				goto bad_type;
			v = json_string_value(value);
			if (nl == 0 || nl > 128)
				return gw_respond_error(req, 400, NULL,
							"header names must be 1 to 128 bytes")
					       ?: 1;
			for (size_t i = 0; i < nl; i++)
				if (!is_tchar(name[i]))
					return gw_respond_error(req, 400, NULL,
								"header name '%.128s' has a "
								"character not allowed "
								"in a header name",
								name)
						       ?: 1;
			if (json_string_length(value) > HEADER_VALUE_MAX ||
			    strlen(v) != json_string_length(value) || strpbrk(v, "\r\n"))
				return gw_respond_error(
					       req, 400, NULL,
					       "header '%s' must be at most %d bytes with no "
					       "line break or NUL",
					       name, HEADER_VALUE_MAX)
					       ?: 1;
			if (header_refused(name))
				return gw_respond_error(req, 400, NULL,
							"header '%s' is set by the gateway", name)
					       ?: 1;
			has_key |= strcasecmp(name, "authorization") == 0 ||
				   strcasecmp(name, "x-api-key") == 0;
			has_type |= strcasecmp(name, "content-type") == 0;
			if (add_header(&c->headers, name, v) < 0)
				return -ENOMEM;
		}
	}
	/* The inner request works where an API key is needed, as the caller. */
	if (!has_key) {
		static const char *const keys[] = {MHD_HTTP_HEADER_AUTHORIZATION, "X-API-Key"};

		for (size_t i = 0; i < SBX_ARRAY_SIZE(keys); i++) {
			v = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, keys[i]);
			if (v && add_header(&c->headers, keys[i], v) < 0)
				return -ENOMEM;
		}
	}
	if (c->body && !has_type && add_header(&c->headers, "Content-Type", "application/json") < 0)
		return -ENOMEM;
	/* Paid for already: the outer request took the caller's token. Only
	 * to rate-limited routes, which are RPC routes: a proxy route would
	 * hand the token on to a sandbox. */
	if (c->limited &&
	    add_header(&c->headers, GW_ADMIN_TEST_HEADER, c->srv->admin_test_token) < 0)
		return -ENOMEM;
	/* No "Expect: 100-continue" round trip for bodies over 1 KiB. */
	if (add_header(&c->headers, "Expect", "") < 0)
		return -ENOMEM;
	return 0;
bad_type:
	return gw_respond_error(req, 400, NULL, "'headers' must be an object of string values")
		       ?: 1;
}

/* The listen address as a URL host: a wildcard address is reached on
 * loopback. */
static int self_url(struct gw_server *srv, const char *path, char **ret)
{
	const char *host = srv->cfg.host;

	if (!*host || strcmp(host, "0.0.0.0") == 0)
		host = "127.0.0.1";
	else if (strcmp(host, "::") == 0 || strcmp(host, "[::]") == 0)
		host = "::1";
	return asprintf(ret,
			strchr(host, ':') && host[0] != '[' ? "http://[%s]:%u%s" : "http://%s:%u%s",
			host, (unsigned)srv->port, path) < 0
		       ? -ENOMEM
		       : 0;
}

/* Fill c from the request body. 0, 1 after answering 400, -ENOMEM. */
static int parse(struct gw_server *srv, struct gw_request *req, struct test_call *c)
{
	json_auto_t *in = NULL;
	json_t *method, *path, *body;
	const char *why;
	json_error_t je;
	size_t i;

	if (req->body.len == 0)
		return gw_respond_error(req, 400, NULL,
					"the request body must be a JSON object with 'method' and "
					"'path'")
			       ?: 1;
	in = json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
			&je);
	if (!in)
		return gw_respond_error(
			       req, 400, NULL,
			       "the request body is not valid JSON: %s (line %d, column %d)",
			       je.text, je.line, je.column)
			       ?: 1;
	if (!json_is_object(in))
		return gw_respond_error(req, 400, NULL, "the request body must be a JSON object")
			       ?: 1;
	method = json_object_get(in, "method");
	path = json_object_get(in, "path");
	body = json_object_get(in, "body");
	if (!method || !path)
		return gw_respond_error(req, 400, NULL, "'%s' is required",
					method ? "path" : "method")
			       ?: 1;
	for (i = 0; i < SBX_ARRAY_SIZE(methods); i++)
		if (json_is_string(method) && strcmp(json_string_value(method), methods[i]) == 0)
			break;
	if (i == SBX_ARRAY_SIZE(methods))
		return gw_respond_error(req, 400, NULL,
					"'method' must be one of GET, POST, PUT, DELETE, PATCH")
			       ?: 1;
	snprintf(c->method, sizeof(c->method), "%s", methods[i]);
	if (!json_is_string(path))
		return gw_respond_error(req, 400, NULL, "'path' must be a string") ?: 1;
	why = strlen(json_string_value(path)) == json_string_length(path)
		      ? path_problem(srv, json_string_value(path), c->method, &c->limited)
		      : "'path' must not contain NUL";
	if (why && !*why)
		return -ENOMEM;
	if (why)
		return gw_respond_error(req, 400, NULL, "%s", why) ?: 1;
	if (body && !json_is_null(body)) {
		if (!json_is_string(body))
			return gw_respond_error(req, 400, NULL, "'body' must be a string") ?: 1;
		c->body_len = json_string_length(body);
		c->body = malloc(c->body_len + 1);
		if (!c->body)
			return -ENOMEM;
		memcpy(c->body, json_string_value(body), c->body_len + 1);
	}
	if (self_url(srv, json_string_value(path), &c->url) < 0)
		return -ENOMEM;
	return build_headers(req, json_object_get(in, "headers"), c);
}

int gw_admin_test_handler(struct gw_server *srv, struct gw_request *req)
{
	struct test_call *c = calloc(1, sizeof(*c));
	pthread_attr_t attr;
	pthread_t thread;
	int r;

	if (!c)
		return -ENOMEM;
	c->srv = srv;
	/* The inner RPC may take the whole request timeout and answer 504
	 * itself; a second more lets that answer arrive. */
	c->timeout_ms = srv->cfg.request_timeout_ms + 1000;
	sbx_buf_init(&c->resp_body, GW_ADMIN_TEST_BODY_MAX);
	c->resp_headers = json_object();
	r = c->resp_headers ? parse(srv, req, c) : -ENOMEM;
	if (r != 0) {
		call_free(c);
		return r < 0 ? r : 0;
	}
	/* Counted here, against the caller; the inner request, from
	 * loopback, skips the limit (GW_ADMIN_TEST_HEADER). */
	if (c->limited && srv->ratelimit) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		uint32_t wait_s = gw_ratelimit_take(srv->ratelimit, ci ? ci->client_addr : NULL,
						    sbx_clock_mono_us());

		if (wait_s) {
			char secs[16];
			const struct gw_header hdrs[] = {{MHD_HTTP_HEADER_RETRY_AFTER, secs},
							 {0}};

			call_free(c);
			snprintf(secs, sizeof(secs), "%u", wait_s);
			return gw_respond_error(req, 429, hdrs,
						"rate limit exceeded: %u requests per minute",
						srv->cfg.rate_limit_per_minute);
		}
	}
	if (atomic_fetch_add(&srv->admin_tests, 1) >= GW_ADMIN_TEST_MAX) {
		atomic_fetch_sub(&srv->admin_tests, 1);
		call_free(c);
		return gw_respond_error(req, 429, retry_after,
					"too many test requests in flight (at most %d)",
					GW_ADMIN_TEST_MAX);
	}
	req->ctx = c;
	req->ctx_free = call_free;
	sbx_buf_fini(&req->body);
	gw_request_suspend(req, finish);
	gw_request_ref(req);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&thread, &attr, run, req);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		atomic_fetch_sub(&srv->admin_tests, 1);
		gw_request_finish_call(req, -EAGAIN, NULL);
		gw_request_unref(req);
	}
	return 0;
}
