/* Fixtures for the gateway's reverse proxy (gateway/proxy.h), shared by its
 * integration test and bench-proxy: a fake daemon (an nng rep socket in
 * this process answering OpenProxy) and a small HTTP/1.1 service on a
 * unix socket (a thread per connection, keep-alive, chunked bodies).
 *
 * OpenProxy answers by id: "missing" NOT_FOUND, "down" UNAVAILABLE,
 * "nolisten" a socket path nothing listens on, "hang" a socket that
 * accepts and never answers, anything else the service.
 *
 * The service's paths:
 *   /echo...          200, body: the request line and headers as received;
 *                     response headers X-Backend, two Set-Cookie and the
 *                     hop-by-hop Keep-Alive and X-Hop (named by Connection)
 *   /status/N         N with a short body
 *   /upload           reads the body; 200 "bytes=N sum=S" (pf_sum)
 *   /download?n=N     N bytes of pf_byte(i), with Content-Length
 *   /close            reads the headers, closes without answering
 *   /stall            200 with 1 MiB of a 4 MiB body, then 5 s of nothing
 *   anything else     200 "ok" */
#ifndef SBX_TEST_PROXYFIX_H
#define SBX_TEST_PROXYFIX_H

#include <stddef.h>
#include <stdint.h>

struct pf_fixture;

/* Start both in dir: the daemon at ipc://dir/rpc.sock (url in
 * pf_rpc_url), the service at dir/svc.sock. NULL on failure (printed). */
struct pf_fixture *pf_start(const char *dir);
void pf_stop(struct pf_fixture *f);
const char *pf_rpc_url(const struct pf_fixture *f);
const char *pf_service_path(const struct pf_fixture *f);
/* The kind and id of the last OpenProxy, "kind/id". */
void pf_last_open(struct pf_fixture *f, char *buf, size_t size);

/* The byte at offset i of /download bodies, and the checksum of a body. */
static inline unsigned char pf_byte(uint64_t i)
{
	return (unsigned char)((i * 2654435761u) >> 13);
}
/* Running checksum: start from 0, feed pieces in order. */
static inline uint64_t pf_sum(uint64_t sum, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		sum = (sum ^ c[i]) * 1099511628211ull;
	return sum;
}

#endif
