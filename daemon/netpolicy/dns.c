/* The resolver of NETWORK_MODE=bridge. A sandbox's only way to learn an
 * address it may reach by name: the firewall redirects every UDP packet to
 * port 53 from a sandbox here, and an address the upstream gave for an
 * allowlisted name is allowed for the answer's TTL (at least DNS_TTL_MIN,
 * at most DNS_TTL_MAX seconds). The upstream's answer is not relayed: the
 * reply is rebuilt from the A records alone, so nothing else the upstream
 * said (other sections, names) reaches the sandbox. */
#include "dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "firewall.h"

#define DNS_PENDING_MAX 64
#define DNS_UPSTREAM_MS 3000
#define DNS_ANSWERS_MAX 16
#define DNS_TTL_MIN 30
#define DNS_TTL_MAX 3600
#define DNS_PACKET_MAX 1232

enum { QTYPE_A = 1, QTYPE_AAAA = 28, QCLASS_IN = 1 };
enum { RCODE_OK = 0, RCODE_SERVFAIL = 2, RCODE_NXDOMAIN = 3, RCODE_REFUSED = 5 };

/* A question sent upstream, waiting for its answer. */
struct pending {
	bool used;
	uint16_t up_id;
	int64_t deadline_ms;
	struct sockaddr_in client;
	struct sbx_dns_question q;
	uint8_t query[12 + 256 + 4]; /* the client's header and question */
	int which;		     /* allowed()'s list */
	uint16_t port;		     /* the matching entry's port (0 = every port) */
};

struct sbx_dns {
	struct sbx_dns_config c;
	int up;	     /* connected to the upstream */
	int stop[2]; /* a byte on stop[1] ends the thread */
	pthread_t thread;
	struct pending pend[DNS_PENDING_MAX];
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int sbx_dns_parse_query(const uint8_t *p, size_t len, struct sbx_dns_question *q)
{
	size_t off = 12, n = 0;

	if (len < 12 || (p[2] & 0xf8) != 0 || get16(p + 4) != 1 || get16(p + 6) || get16(p + 8))
		return -EINVAL; /* QR or an opcode, not one question, records given */
	q->id = get16(p);
	for (;;) {
		if (off >= len)
			return -EINVAL;
		uint8_t l = p[off++];
		if (l == 0)
			break;
		if (l > 63 || off + l > len || n + l + 1 >= sizeof(q->name))
			return -EINVAL; /* a pointer, or too long */
		if (n)
			q->name[n++] = '.';
		for (uint8_t i = 0; i < l; i++) {
			char ch = (char)p[off + i];
			q->name[n++] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
		}
		off += l;
	}
	q->name[n] = 0;
	if (off + 4 > len || memchr(q->name, 0, n))
		return -EINVAL;
	q->qtype = get16(p + off);
	q->qclass = get16(p + off + 2);
	q->end = off + 4;
	return 0;
}

/* Past a possibly compressed name: the offset after it, or 0. */
static size_t skip_name(const uint8_t *p, size_t len, size_t off)
{
	while (off < len) {
		uint8_t l = p[off];
		if (l == 0)
			return off + 1;
		if ((l & 0xc0) == 0xc0)
			return off + 2 <= len ? off + 2 : 0;
		if (l > 63)
			return 0;
		off += 1 + (size_t)l;
	}
	return 0;
}

int sbx_dns_parse_answer(const uint8_t *p, size_t len, uint16_t id, uint32_t *addrs, unsigned max,
			 uint32_t *ret_ttl)
{
	size_t off = 12;
	unsigned n = 0;
	uint32_t ttl = DNS_TTL_MAX;

	if (len < 12 || get16(p) != id || !(p[2] & 0x80) || (p[2] & 0x78))
		return -EINVAL;
	if ((p[3] & 0x0f) != RCODE_OK)
		return -ENOENT;
	for (unsigned i = get16(p + 4); i > 0; i--)
		if (!(off = skip_name(p, len, off)) || (off += 4) > len)
			return -EINVAL;
	for (unsigned i = get16(p + 6); i > 0; i--) {
		if (!(off = skip_name(p, len, off)) || off + 10 > len)
			return -EINVAL;
		uint16_t type = get16(p + off), cls = get16(p + off + 2),
			 rdlen = get16(p + off + 8);
		uint32_t t = (uint32_t)get16(p + off + 4) << 16 | get16(p + off + 6);
		off += 10;
		if (off + rdlen > len)
			return -EINVAL;
		if (type == QTYPE_A && cls == QCLASS_IN && rdlen == 4 && n < max) {
			addrs[n++] = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 |
				     (uint32_t)p[off + 2] << 8 | p[off + 3];
			ttl = t < ttl ? t : ttl;
		}
		off += rdlen;
	}
	*ret_ttl = ttl;
	return (int)n;
}

/* The reply to q: its header and question, then A records for addrs. */
static size_t build_reply(uint8_t *out, const uint8_t *query, const struct sbx_dns_question *q,
			  int rcode, const uint32_t *addrs, unsigned n, uint32_t ttl)
{
	size_t off = q->end;

	memcpy(out, query, q->end);
	out[2] = (uint8_t)(0x80 | (query[2] & 0x01)); /* QR, RD copied */
	out[3] = (uint8_t)(0x80 | rcode);	      /* RA */
	out[6] = 0, out[7] = (uint8_t)n;
	out[8] = out[9] = out[10] = out[11] = 0;
	for (unsigned i = 0; i < n; i++) {
		uint8_t rr[16] = {0xc0,
				  12,
				  0,
				  QTYPE_A,
				  0,
				  QCLASS_IN,
				  (uint8_t)(ttl >> 24),
				  (uint8_t)(ttl >> 16),
				  (uint8_t)(ttl >> 8),
				  (uint8_t)ttl,
				  0,
				  4,
				  (uint8_t)(addrs[i] >> 24),
				  (uint8_t)(addrs[i] >> 16),
				  (uint8_t)(addrs[i] >> 8),
				  (uint8_t)addrs[i]};
		memcpy(out + off, rr, sizeof(rr));
		off += sizeof(rr);
	}
	return off;
}

/* Which list allows `name` for a client: the egress list first, then
 * (for a sandbox installing) the install list; with `*`, any name, whose
 * addresses the firewall already allows (public ones only: `*` comes
 * after the always-denied ranges), so none is added to a set. */
enum { ALLOW_NONE = -1, ALLOW_EGRESS, ALLOW_INSTALL, ALLOW_ANY };

static int allowed(struct sbx_dns *d, const char *name, uint32_t src, uint16_t *port)
{
	for (unsigned i = 0; i < d->c.egress->n_names; i++)
		if (sbx_egress_name_match(&d->c.egress->names[i], name))
			return *port = d->c.egress->names[i].port, ALLOW_EGRESS;
	if (d->c.installing(d->c.arg, src))
		for (unsigned i = 0; i < d->c.install->n_names; i++)
			if (sbx_egress_name_match(&d->c.install->names[i], name))
				return *port = d->c.install->names[i].port, ALLOW_INSTALL;
	return d->c.egress->any_public ? ALLOW_ANY : ALLOW_NONE;
}

static void reply(struct sbx_dns *d, const struct sockaddr_in *to, const uint8_t *query,
		  const struct sbx_dns_question *q, int rcode, const uint32_t *a, unsigned n,
		  uint32_t ttl)
{
	uint8_t out[DNS_PACKET_MAX];

	if (q->end + (size_t)n * 16 > sizeof(out))
		return;
	size_t len = build_reply(out, query, q, rcode, a, n, ttl);
	sendto(d->c.fd, out, len, MSG_DONTWAIT, (const struct sockaddr *)to, sizeof(*to));
}

/* Ask the upstream for q with a fresh random id: SERVFAIL at once when
 * the table of pending questions is full. */
static void forward(struct sbx_dns *d, const struct sockaddr_in *from, const uint8_t *query,
		    const struct sbx_dns_question *q, int which, uint16_t port)
{
	struct pending *p = NULL;
	uint8_t out[DNS_PACKET_MAX];

	for (unsigned i = 0; !p && i < DNS_PENDING_MAX; i++)
		p = d->pend[i].used ? NULL : &d->pend[i];
	if (!p || getrandom(&p->up_id, sizeof(p->up_id), 0) != sizeof(p->up_id)) {
		reply(d, from, query, q, RCODE_SERVFAIL, NULL, 0, 0);
		return;
	}
	memcpy(out, query, q->end);
	out[0] = (uint8_t)(p->up_id >> 8), out[1] = (uint8_t)p->up_id;
	out[2] = 0x01, out[3] = 0; /* RD */
	if (send(d->up, out, q->end, MSG_DONTWAIT) != (ssize_t)q->end) {
		reply(d, from, query, q, RCODE_SERVFAIL, NULL, 0, 0);
		return;
	}
	*p = (struct pending){.used = true,
			      .up_id = p->up_id,
			      .client = *from,
			      .q = *q,
			      .which = which,
			      .port = port,
			      .deadline_ms = sbx_clock_mono_ms() + DNS_UPSTREAM_MS};
	memcpy(p->query, query, q->end);
}

/* A sandbox's question: A of an allowed name goes upstream; AAAA of one
 * is answered empty (IPv6 is off in sandboxes, so a program falls back to
 * A); anything else is REFUSED. Malformed packets get no answer. */
static void on_client(struct sbx_dns *d)
{
	uint8_t buf[DNS_PACKET_MAX];
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	struct sbx_dns_question q;
	uint16_t port = 0;

	ssize_t n =
		recvfrom(d->c.fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
	if (n <= 0 || flen != sizeof(from) || sbx_dns_parse_query(buf, (size_t)n, &q) < 0 ||
	    q.end > sizeof(((struct pending *)0)->query))
		return;
	int which = q.qclass == QCLASS_IN ? allowed(d, q.name, ntohl(from.sin_addr.s_addr), &port)
					  : ALLOW_NONE;
	if (which < 0)
		reply(d, &from, buf, &q, RCODE_REFUSED, NULL, 0, 0);
	else if (q.qtype == QTYPE_A)
		forward(d, &from, buf, &q, which, port);
	else
		reply(d, &from, buf, &q, RCODE_OK, NULL, 0, 0);
}

/* The upstream's answer: its A records allowed in the firewall first,
 * then told to the sandbox, so its connect never races the set. */
static void on_upstream(struct sbx_dns *d)
{
	uint8_t buf[DNS_PACKET_MAX];
	uint32_t addrs[DNS_ANSWERS_MAX], ttl;

	ssize_t n = recv(d->up, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 12)
		return;
	for (unsigned i = 0; i < DNS_PENDING_MAX; i++) {
		struct pending *p = &d->pend[i];
		if (!p->used || p->up_id != get16(buf))
			continue;
		int k = sbx_dns_parse_answer(buf, (size_t)n, p->up_id, addrs, DNS_ANSWERS_MAX,
					     &ttl);
		if (k == -EINVAL)
			return; /* not this question's answer: a late or forged one */
		ttl = ttl < DNS_TTL_MIN ? DNS_TTL_MIN : ttl > DNS_TTL_MAX ? DNS_TTL_MAX : ttl;
		for (int j = 0; j < k && p->which != ALLOW_ANY; j++)
			if (sbx_fw_allow_resolved(d->c.fw, p->which == ALLOW_INSTALL, addrs[j],
						  p->port, ttl) < 0)
				k = -EIO;
		reply(d, &p->client, p->query, &p->q,
		      k == -ENOENT ? RCODE_NXDOMAIN
		      : k < 0	   ? RCODE_SERVFAIL
				   : RCODE_OK,
		      addrs, k < 0 ? 0 : (unsigned)k, ttl);
		p->used = false;
		return;
	}
}

static int expire(struct sbx_dns *d)
{
	int64_t now = sbx_clock_mono_ms(), next = -1;

	for (unsigned i = 0; i < DNS_PENDING_MAX; i++) {
		struct pending *p = &d->pend[i];
		if (p->used && p->deadline_ms <= now) {
			reply(d, &p->client, p->query, &p->q, RCODE_SERVFAIL, NULL, 0, 0);
			p->used = false;
		} else if (p->used && (next < 0 || p->deadline_ms - now < next)) {
			next = p->deadline_ms - now;
		}
	}
	return (int)next;
}

static void *loop(void *arg)
{
	struct sbx_dns *d = arg;
	struct pollfd fds[3] = {{.fd = d->c.fd, .events = POLLIN},
				{.fd = d->up, .events = POLLIN},
				{.fd = d->stop[0], .events = POLLIN}};

	while (!(fds[2].revents & POLLIN)) {
		if (poll(fds, 3, expire(d)) < 0 && errno != EINTR)
			break;
		/* An error (an ICMP the upstream's host sent) is read, so cleared. */
		if (fds[0].revents & (POLLIN | POLLERR))
			on_client(d);
		if (fds[1].revents & (POLLIN | POLLERR))
			on_upstream(d);
	}
	return NULL;
}

static int upstream_socket(const struct sbx_dns_config *c)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(c->upstream_port),
				.sin_addr.s_addr = htonl(c->upstream)};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (s < 0)
		return -errno;
	/* Connected: the kernel drops datagrams from anyone else. */
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int r = -errno;
		close(s);
		return r;
	}
	return s;
}

int sbx_dns_start(const struct sbx_dns_config *c, struct sbx_dns **ret)
{
	struct sbx_dns *d = calloc(1, sizeof(*d));
	int r;

	if (!d) {
		close(c->fd);
		return -ENOMEM;
	}
	d->c = *c;
	d->stop[0] = d->stop[1] = -1;
	if ((d->up = upstream_socket(c)) < 0) {
		r = d->up;
		goto fail;
	}
	if (pipe2(d->stop, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	if ((r = -pthread_create(&d->thread, NULL, loop, d)) < 0)
		goto fail;
	*ret = d;
	return 0;
fail:
	if (d->up >= 0)
		close(d->up);
	if (d->stop[0] >= 0)
		close(d->stop[0]), close(d->stop[1]);
	close(d->c.fd);
	free(d);
	return r;
}

void sbx_dns_stop(struct sbx_dns *d)
{
	if (!d)
		return;
	if (write(d->stop[1], "x", 1) == 1)
		pthread_join(d->thread, NULL);
	close(d->stop[0]);
	close(d->stop[1]);
	close(d->up);
	close(d->c.fd);
	free(d);
}
