/* The gateway's router: a route table is an array of struct gw_route rows,
 * and gw_router_match() finds the row for a request's method and raw path.
 * Matching is pure (no I/O, no allocation), so it is unit-tested alone.
 *
 * Pattern syntax: "/sandbox/{id}/execute" — literal segments, `{name}`
 * segments that match one non-empty path segment and become a parameter,
 * and a trailing `*` segment that matches the rest of the path (zero or
 * more segments), kept raw for a proxy to forward.
 *
 * Paths are taken raw (still percent-encoded) and split on '/' before
 * decoding, so "%2F" can never create a segment. Rules, in order:
 *   - the path must start with '/' and be at most GW_PATH_MAX bytes;
 *   - every "%XX" must be valid hex, and none may decode to NUL or '/';
 *   - no segment may be "." or ".." (raw or encoded): such a path is refused
 *     rather than normalised, so "/sandbox/../health" never reaches a route;
 *   - one trailing '/' is ignored ("/health/" is "/health"), except that
 *     for a `*` row it is part of the rest;
 *   - empty segments ("//") match nothing;
 *   - rows are tried in table order and the first whose method and pattern
 *   both match wins; a path that matches rows of other methods only is a
 *   405 and `allow` lists their methods. HEAD is served by GET rows. */
#ifndef SBX_GW_ROUTER_H
#define SBX_GW_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

struct gw_request;
struct gw_server;
struct jpb_dialect;

#define GW_PATH_MAX 2048     /* bytes of raw path; longer -> GW_MATCH_TOO_LONG */
#define GW_MAX_PARAMS 8	     /* `{param}` segments per pattern */
#define GW_PARAM_NAME_MAX 32 /* bytes of a parameter name, NUL included */
#define GW_MAX_SEGMENTS 32   /* segments of a pattern */
#define GW_ALLOW_MAX 96	     /* bytes of the Allow header value */

/* A hand-written route. Called once, when the whole request body has
 * arrived; it must either queue a response on the request's connection
 * (gateway/respond.h) or suspend the connection and arrange for it to be
 * resumed (gateway/request.h). Returns 0, or a negative errno, on which
 * the caller answers 500. */
typedef int (*gw_handler_fn)(struct gw_server *srv, struct gw_request *req);

/* A streaming route (the reverse proxy, gateway/proxy.h): called on every
 * libmicrohttpd access-handler call of the request, not once at its end,
 * so that the body flows through without being collected: first right
 * after routing (upload NULL, *upload_size 0), then with each piece of the
 * body, and with *upload_size 0 again once the body is over (and after
 * each resume of a connection suspended before the body). It sets
 * *upload_size to the bytes it did not take (it must then suspend).
 * Returns 0, or a negative errno on which the connection is closed. The
 * server's body limit and rate limit do not apply to such rows. */
typedef int (*gw_stream_fn)(struct gw_server *srv, struct gw_request *req, const char *upload,
			    size_t *upload_size);

struct gw_route {
	const char *method;		   /* "GET", "POST", "PUT", "DELETE", ... */
	const char *pattern;		   /* see above */
	const char *rpc;		   /* method name in the method table (common/methods.h) */
	const struct jpb_dialect *dialect; /* NULL: canonical JSON */
	int status;			   /* HTTP status on success; 0 means 200 */
	gw_handler_fn handler;		   /* NULL: the generic RPC handler runs `rpc` */
	/* Counts against the client's rate limit (gateway/ratelimit.h): the
	 * routes that create objects or run code. */
	bool rate_limited;
	/* A successful answer is reused for this many ms (0: never): for
	 * health checks, which load balancers poll hard. Only for GET rows
	 * without parameters; while the daemon is disconnected the cache is
	 * bypassed, so "down" shows at once. */
	unsigned cache_ms;
	gw_stream_fn stream; /* non-NULL: a streaming route; handler is unused */
	const char *stream_arg; /* data for `stream`: the proxy's kind */
};

/* Table rows: an RPC route answering `status` on success, or a route with
 * a hand-written handler. */
/* clang-format off */
#define GW_RPC(method, pattern, rpc, dialect, status) { method, pattern, rpc, dialect, status, NULL, false, 0, NULL, NULL }
#define GW_HANDLER(method, pattern, fn) { method, pattern, NULL, NULL, 0, fn, false, 0, NULL, NULL }
/* A hand-written handler that runs `rpc` with `dialect` itself (or hands
 * some requests to the generic handler), counted against the rate limit
 * when `limited`. */
#define GW_HANDLER_RPC(method, pattern, rpc, dialect, fn, limited) { method, pattern, rpc, dialect, 0, fn, limited, 0, NULL, NULL }
/* An RPC row that counts against the client's rate limit. */
#define GW_RPC_LIMITED(method, pattern, rpc, dialect, status) { method, pattern, rpc, dialect, status, NULL, true, 0, NULL, NULL }
/* An RPC row whose successful answer is reused for ms milliseconds. */
#define GW_RPC_CACHED(method, pattern, rpc, dialect, status, ms) { method, pattern, rpc, dialect, status, NULL, false, ms, NULL, NULL }
/* A streaming row: fn (a gw_stream_fn) with its data; rpc names the RPC it
 * makes, for logs. */
#define GW_STREAM(method, pattern, rpc, fn, arg) { method, pattern, rpc, NULL, 0, NULL, false, 0, fn, arg }
/* clang-format on */

enum gw_match_result {
	GW_MATCH_OK,
	GW_MATCH_NOT_FOUND,  /* no row's pattern matches the path: 404 */
	GW_MATCH_BAD_METHOD, /* patterns match, methods do not: 405 + allow */
	GW_MATCH_BAD_PATH,   /* malformed path: 400, `error` says why */
	GW_MATCH_TOO_LONG,   /* path longer than GW_PATH_MAX: 414 */
};

struct gw_param {
	char name[GW_PARAM_NAME_MAX];
	const char *value; /* percent-decoded, points into the match */
};

/* The outcome of one match. Self-contained: it copies what it keeps, so it
 * stays valid after the path string is gone. */
struct gw_match {
	const struct gw_route *route; /* GW_MATCH_OK: the row */
	size_t n_params;
	struct gw_param params[GW_MAX_PARAMS];
	/* `*` rows: the raw (still encoded) rest of the path, "" or starting
	 * with '/'; NULL for other rows. */
	const char *rest;
	char allow[GW_ALLOW_MAX]; /* GW_MATCH_BAD_METHOD: "GET, HEAD" */
	const char *error;	  /* GW_MATCH_BAD_PATH: a sentence */

	/* private: decoded segments, NUL-separated, then the raw rest */
	char buf_[2 * GW_PATH_MAX + 2];
};

/* Match `method` and raw `path` (no query string) against the n rows of
 * table. Fills *m (always fully initialised) and returns its result. */
enum gw_match_result gw_router_match(const struct gw_route *table, size_t n, const char *method,
				     const char *path, struct gw_match *m);

/* Value of parameter `name` in a successful match, or NULL. */
const char *gw_match_param(const struct gw_match *m, const char *name);

/* Check a table once at start-up: patterns well formed (leading '/', `{}`
 * names short and non-empty, `*` last, at most GW_MAX_PARAMS parameters and
 * GW_MAX_SEGMENTS segments), a method on every row, an rpc or a handler on
 * every row. Returns 0, or -EINVAL with one sentence in err naming the row. */
int gw_router_check(const struct gw_route *table, size_t n, char *err, size_t errlen);

/* Decode %XX escapes of src[0..len) into dst (room for len + 1 bytes), NUL
 * terminated. Returns the decoded length, or -EINVAL on a malformed escape
 * or an encoded NUL. ('+' is left alone: libmicrohttpd already turns it
 * into ' ' in query strings, and in paths it is a literal.) */
int gw_percent_decode(const char *src, size_t len, char *dst);

#endif
