/* A minimal Docker Engine API client over the engine's unix socket, built
 * on libcurl (CURLOPT_UNIX_SOCKET_PATH). Two kinds of connection:
 *  - request/response calls (create, start, kill, wait, inspect, delete,
 *    archive), on one easy handle per execution so that they share a
 *    keep-alive connection;
 *  - the attach stream, a hijacked connection: libcurl only connects
 *    (CURLOPT_CONNECT_ONLY), this module writes the upgrade request and the
 *    caller then exchanges raw bytes with curl_easy_send/recv.
 * Library code: nothing here logs; every function returns 0 or -errno. */
#ifndef SBX_DOCKER_HTTP_H
#define SBX_DOCKER_HTTP_H

#include <curl/curl.h>
#include <stddef.h>

#include "buf.h"

/* Engine API version in every path: the one of Debian's docker.io 20.10,
 * which newer engines still serve. */
#define SBX_DK_API "/v1.41"
/* Largest response body of a request/response call (JSON, error text). */
#define SBX_DK_MAX_RESPONSE (1u << 20)

struct sbx_dk_conn {
	CURL *curl;
	const char *socket_path; /* borrowed */
	char errbuf[CURL_ERROR_SIZE];
};

/* Parse DOCKER_HOST ("unix:///path" or a bare absolute path) into the
 * socket path. -EINVAL (tcp://, ssh://, ...: not supported) or 0. */
int sbx_dk_socket_path(const char *docker_host, char *ret, size_t len);

int sbx_dk_conn_init(struct sbx_dk_conn *c, const char *socket_path);
void sbx_dk_conn_fini(struct sbx_dk_conn *c);

/* One call: `method` "GET"/"POST"/"PUT"/"DELETE", `path` below SBX_DK_API
 * (query included), an optional body of content_type ("application/json"
 * or "application/x-tar"). Blocks at most timeout_ms. On 0, *ret_status is
 * the HTTP status and resp (if not NULL, reset first) holds at most
 * SBX_DK_MAX_RESPONSE bytes of body. -ECONNREFUSED: no engine on the
 * socket; -ETIMEDOUT; -EIO: another transport error (c->errbuf says). */
int sbx_dk_call(struct sbx_dk_conn *c, const char *method, const char *path, const void *body,
		size_t body_len, const char *content_type, long timeout_ms, long *ret_status,
		struct sbx_buf *resp);

/* The attach stream of a created container. */
struct sbx_dk_stream {
	CURL *curl;
	int fd;		  /* the socket, for poll() and shutdown() */
	char early[4096]; /* stream bytes that came with the headers */
	size_t n_early;
};

/* Connect and send POST .../attach?stream=1&stdin=1&stdout=1&stderr=1 with
 * "Upgrade: tcp"; wait (at most timeout_ms) for the 101/200 answer. */
int sbx_dk_attach(struct sbx_dk_stream *s, const char *socket_path, const char *container_id,
		  long timeout_ms);
void sbx_dk_stream_fini(struct sbx_dk_stream *s);

#endif
