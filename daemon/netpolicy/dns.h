/* The sandboxes' resolver (dns.c): a UDP responder on one thread that
 * answers A queries for allowlisted names only, resolving them through
 * the upstream and adding the answers to the firewall's sets for their
 * TTL; AAAA of an allowed name gets an empty answer (IPv6 is off), and
 * any other question REFUSED. Bounded: DNS_PENDING_MAX questions wait
 * for the upstream at once, each at most DNS_UPSTREAM_MS. */
#ifndef SBX_DNS_H
#define SBX_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "egress.h"

struct sbx_dns;
struct sbx_fw;

struct sbx_dns_config {
	int fd;		   /* bound UDP socket, non-blocking; owned by the resolver from start */
	uint32_t upstream; /* host order */
	uint16_t upstream_port;
	const struct sbx_egress_policy *egress, *install; /* outlive the resolver */
	struct sbx_fw *fw;
	/* Is the sandbox at src (host order) in its install phase? */
	bool (*installing)(void *arg, uint32_t src);
	void *arg;
};

/* Start the thread. 0 with *ret, or -errno (c->fd is closed then). */
int sbx_dns_start(const struct sbx_dns_config *c, struct sbx_dns **ret);

/* Stop and join the thread, close the sockets. NULL is a no-op. */
void sbx_dns_stop(struct sbx_dns *d);

/* A parsed question. */
struct sbx_dns_question {
	uint16_t id, qtype, qclass;
	char name[256]; /* lower case, dots, no final dot; "" = the root */
	size_t end;	/* offset just past the question in the packet */
};

/* A query as a client sends it: a header without QR, opcode QUERY, one
 * question of uncompressed labels. 0 or -EINVAL. */
int sbx_dns_parse_query(const uint8_t *p, size_t len, struct sbx_dns_question *q);

/* An upstream's answer to id: the IPv4 addresses of its A records (up to
 * max) and their smallest TTL. Returns how many, or -EINVAL (malformed,
 * another id, not a response) or -ENOENT (an error rcode). */
int sbx_dns_parse_answer(const uint8_t *p, size_t len, uint16_t id, uint32_t *addrs, unsigned max,
			 uint32_t *ret_ttl);

#endif
