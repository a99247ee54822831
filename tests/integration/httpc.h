/* HTTP helpers for integration tests that talk to sandbox-gateway with
 * libcurl: one blocking request per call, the response kept whole (up to
 * TH_MAX_BODY bytes), and checks of a JSON reply's exact shape. */
#ifndef SBX_TEST_HTTPC_H
#define SBX_TEST_HTTPC_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define TH_MAX_BODY (8u << 20)

struct th_resp {
	long status; /* 0: no response (see code) */
	size_t max;  /* body bytes kept at most (th_request) */
	CURLcode code;
	char *body; /* NUL-terminated, never NULL after th_http */
	size_t len;
	char headers[8192];
	size_t hlen;
};

/* method base+path with body (NULL: none) and extra request headers
 * ("Name: value", NULL-terminated list or NULL); timeout_ms 0 means 60 s.
 * Fills *r, which must be zeroed or th_resp_fini'd before. */
void th_http(const char *base, const char *method, const char *path, const char *body,
	     const char *const *headers, long timeout_ms, struct th_resp *r);
void th_resp_fini(struct th_resp *r);

/* A request with every knob th_http leaves at its default. */
struct th_req {
	const char *base, *method, *path;
	const char *body;	    /* sent as JSON with a Content-Length; NULL: none */
	size_t chunked_len;	    /* without body: this many spaces, chunked, no length */
	const char *const *headers; /* extra "Name: value" lines, NULL-terminated, or NULL */
	long timeout_ms;	    /* 0: 60 s */
	bool path_as_is;	    /* send "/../" and "%2e" as written, not resolved */
	size_t max_body;	    /* keep at most this many body bytes; 0: TH_MAX_BODY */
};

/* Perform q (HEAD without reading a body) into *r, which must be zeroed or
 * th_resp_fini'd before. */
void th_request(const struct th_req *q, struct th_resp *r);

/* GET base+path every 50 ms until it answers `status` or timeout_ms pass;
 * whether it did. */
bool th_wait_http(const char *base, const char *path, long status, int timeout_ms);

/* Value of header `name` in the final response, copied into buf, or NULL. */
const char *th_header(const struct th_resp *r, const char *name, char *buf, size_t size);

/* The body parsed as JSON (caller decrefs), or NULL. */
json_t *th_json(const struct th_resp *r);

/* A reply object's last key, "node" (README "Cluster"), cut from the body
 * text so that the rest compares byte for byte with a seed's documented
 * reply: true when the body ended with ,"node":"<name>"}, which then
 * became }, and the name (without quotes) went into node[size]. */
bool th_cut_node(struct th_resp *r, char *node, size_t size);

/* Does j have exactly these keys, in this order, of these types? spec is
 * "key:T key:T ..." with T one of s (string), i (integer), n (number),
 * b (bool), z (null), S (string or null), a (array), o (object). On mismatch false and a
 * sentence in why. */
bool th_json_shape(const json_t *j, const char *spec, char *why, size_t whylen);

/* CHECKs that r is an error reply: this status, Content-Type JSON, body
 * exactly {"error": "<non-empty sentence>"} containing `want` (if not
 * NULL). Returns whether all held. */
#define th_check_error(r, st, want) th_check_error_(__FILE__, __LINE__, (r), (st), (want))
bool th_check_error_(const char *file, int line, const struct th_resp *r, long status,
		     const char *want);

/* method base+path with body (NULL: none), then th_check_error on the
 * reply, printing the request when it does not hold. */
#define th_expect_error(base, method, path, body, st, want)                                        \
	th_expect_error_(__FILE__, __LINE__, (base), (method), (path), (body), (st), (want))
bool th_expect_error_(const char *file, int line, const char *base, const char *method,
		      const char *path, const char *body, long status, const char *want);

/* j[key] as a string; "(none)" when it is not one. */
const char *th_str(const json_t *j, const char *key);

/* CHECKs that r is a 200 JSON reply of shape spec; returns the parsed body
 * (caller decrefs) or NULL. */
#define th_check_reply(r, spec) th_check_reply_(__FILE__, __LINE__, (r), (spec))
json_t *th_check_reply_(const char *file, int line, const struct th_resp *r, const char *spec);

#endif
