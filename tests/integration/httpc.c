#include "httpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "harness.h"
#include "testlib.h"

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct th_resp *r = arg;
	size_t take = size * n;
	char *nb;

	if (take > r->max - r->len)
		take = r->max - r->len;
	nb = realloc(r->body, r->len + take + 1);
	if (!nb)
		return 0;
	r->body = nb;
	memcpy(r->body + r->len, p, take);
	r->len += take;
	r->body[r->len] = '\0';
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct th_resp *r = arg;
	size_t take = size * n;

	if (take > sizeof(r->headers) - 1 - r->hlen)
		take = sizeof(r->headers) - 1 - r->hlen;
	memcpy(r->headers + r->hlen, p, take);
	r->hlen += take;
	r->headers[r->hlen] = '\0';
	return size * n;
}

void th_resp_fini(struct th_resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

struct upload {
	size_t left;
};

static size_t on_read(char *p, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	size_t give = size * n < u->left ? size * n : u->left;

	memset(p, ' ', give);
	u->left -= give;
	return give;
}

void th_request(const struct th_req *q, struct th_resp *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct upload up = {q->chunked_len};
	char url[2600];

	th_resp_fini(r);
	r->body = calloc(1, 1);
	r->max = q->max_body ? q->max_body : TH_MAX_BODY;
	snprintf(url, sizeof(url), "%s%s", q->base, q->path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (q->path_as_is)
		curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, q->timeout_ms ? q->timeout_ms : 60000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* A HEAD answer has a Content-Length and no body: NOBODY, or curl
	 * waits for the body until the timeout. */
	if (strcmp(q->method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
	/* As the seeds' examples: curl -H "Content-Type: application/json". */
	if (q->body) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(q->body));
	} else if (q->chunked_len) {
		h = curl_slist_append(h, "Transfer-Encoding: chunked");
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &up);
	}
	for (const char *const *p = q->headers; p && *p; p++)
		h = curl_slist_append(h, *p);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	r->code = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

void th_http(const char *base, const char *method, const char *path, const char *body,
	     const char *const *headers, long timeout_ms, struct th_resp *r)
{
	th_request(&(struct th_req){.base = base,
				    .method = method,
				    .path = path,
				    .body = body,
				    .headers = headers,
				    .timeout_ms = timeout_ms},
		   r);
}

bool th_wait_http(const char *base, const char *path, long status, int timeout_ms)
{
	int64_t until = sbx_clock_mono_ms() + timeout_ms;
	struct th_resp r = {0};
	bool ok = false;

	do {
		th_http(base, "GET", path, NULL, NULL, 1000, &r);
		ok = r.code == CURLE_OK && r.status == status;
		if (!ok)
			th_sleep_ms(50);
	} while (!ok && sbx_clock_mono_ms() < until);
	th_resp_fini(&r);
	return ok;
}

const char *th_header(const struct th_resp *r, const char *name, char *buf, size_t size)
{
	const char *p = r->headers, *last = NULL;
	size_t nl = strlen(name);

	/* Interim responses (100 Continue) come first: keep the last match. */
	for (; (p = strstr(p, "\n")); p++)
		if (strncasecmp(p + 1, name, nl) == 0 && p[1 + nl] == ':')
			last = p + 2 + nl;
	if (!last)
		return NULL;
	while (*last == ' ')
		last++;
	snprintf(buf, size, "%.*s", (int)strcspn(last, "\r\n"), last);
	return buf;
}

bool th_cut_node(struct th_resp *r, char *node, size_t size)
{
	static const char key[] = ",\"node\":\"";
	char *at = NULL, *p, *name;

	for (p = r->body; (p = strstr(p, key)); p++)
		at = p;
	if (!at)
		return false;
	name = at + strlen(key);
	p = name + strcspn(name, "\"\\");
	if (strcmp(p, "\"}") != 0)
		return false;
	snprintf(node, size, "%.*s", (int)(p - name), name);
	strcpy(at, "}");
	r->len = strlen(r->body);
	return true;
}

json_t *th_json(const struct th_resp *r)
{
	return r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
}

static bool type_ok(const json_t *v, char t)
{
	switch (t) {
	case 's':
		return json_is_string(v);
	case 'i':
		return json_is_integer(v);
	case 'n':
		return json_is_number(v);
	case 'b':
		return json_is_boolean(v);
	case 'z':
		return json_is_null(v);
	case 'S':
		return json_is_null(v) || json_is_string(v);
	case 'a':
		return json_is_array(v);
	case 'o':
		return json_is_object(v);
	default:
		return false;
	}
}

bool th_json_shape(const json_t *j, const char *spec, char *why, size_t whylen)
{
	const char *p = spec;
	void *it;

	if (!json_is_object(j)) {
		snprintf(why, whylen, "not a JSON object");
		return false;
	}
	/* jansson iterates objects in insertion order: the reply's order. */
	it = json_object_iter((json_t *)j);
	while (*p) {
		size_t kl = strcspn(p, ":");
		char key[64];

		snprintf(key, sizeof(key), "%.*s", (int)kl, p);
		p += kl + (p[kl] == ':');
		if (!it) {
			snprintf(why, whylen, "key '%s' missing at the end", key);
			return false;
		}
		if (strcmp(json_object_iter_key(it), key) != 0) {
			snprintf(why, whylen, "key '%s' where '%s' was expected",
				 json_object_iter_key(it), key);
			return false;
		}
		if (!type_ok(json_object_iter_value(it), *p)) {
			snprintf(why, whylen, "key '%s' is not of type %c", key, *p);
			return false;
		}
		p += strspn(p + 1, " ") + 1;
		it = json_object_iter_next((json_t *)j, it);
	}
	if (it) {
		snprintf(why, whylen, "extra key '%s'", json_object_iter_key(it));
		return false;
	}
	return true;
}

bool th_check_error_(const char *file, int line, const struct th_resp *r, long status,
		     const char *want)
{
	json_t *j = th_json(r);
	const char *e = json_string_value(json_object_get(j, "error"));
	char ct[128];
	bool ok = r->status == status && e && *e && json_object_size(j) == 1 &&
		  (!want || strstr(e, want)) && th_header(r, "Content-Type", ct, sizeof(ct)) &&
		  strcmp(ct, "application/json") == 0;

	if (ok)
		tl_passed++;
	else
		tl_fail(file, line, "error reply",
			"want %ld {\"error\": \"...%s...\"}, got %ld %.300s", status,
			want ? want : "", r->status, r->body ? r->body : "");
	json_decref(j);
	return ok;
}

json_t *th_check_reply_(const char *file, int line, const struct th_resp *r, const char *spec)
{
	json_t *j = th_json(r);
	char why[160] = "";
	bool ok = r->status == 200 && th_json_shape(j, spec, why, sizeof(why));

	if (ok) {
		tl_passed++;
		return j;
	}
	tl_fail(file, line, "reply shape", "want 200 {%s}: %s; got %ld %.400s", spec, why,
		r->status, r->body ? r->body : "");
	json_decref(j);
	return NULL;
}

bool th_expect_error_(const char *file, int line, const char *base, const char *method,
		      const char *path, const char *body, long status, const char *want)
{
	struct th_resp r = {0};
	bool ok;

	th_http(base, method, path, body, NULL, 0, &r);
	ok = th_check_error_(file, line, &r, status, want);
	if (!ok)
		printf("  (request was %s %s %.200s)\n", method, path, body ? body : "");
	th_resp_fini(&r);
	return ok;
}

const char *th_str(const json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s ? s : "(none)";
}
