/* The bridge resolver's packet parsers and the egress list's parser
 * (daemon/netpolicy/dns.h, egress.h). Input: a selector byte, then a
 * packet (0: a sandbox's query, 1: an upstream's answer) or a list (2).
 * Checks what must hold for any input: a parsed question lies inside the
 * packet and its name is a bounded string of no NUL; answers are at most
 * as many as asked; a parsed list's entries are within their bounds and
 * a name matches itself, a `*.` one only below it. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "egress.h"

static void query(const uint8_t *p, size_t n)
{
	struct sbx_dns_question q;

	if (sbx_dns_parse_query(p, n, &q) < 0)
		return;
	if (q.end > n || q.end < 17 || strlen(q.name) >= sizeof(q.name))
		abort();
}

static void answer(const uint8_t *p, size_t n)
{
	uint32_t a[4], ttl;
	uint16_t id = n >= 2 ? (uint16_t)(p[0] << 8 | p[1]) : 0;
	int k = sbx_dns_parse_answer(p, n, id, a, 4, &ttl);

	if (k > 4)
		abort();
}

static void list(const uint8_t *p, size_t n)
{
	static struct sbx_egress_policy pol;
	char err[256], *s = malloc(n + 1);

	if (!s)
		return;
	memcpy(s, p, n);
	s[n] = 0;
	if (sbx_egress_parse(s, &pol, err, sizeof(err)) == 0) {
		for (unsigned i = 0; i < pol.n_cidrs; i++)
			if (pol.cidrs[i].prefix > 32)
				abort();
		for (unsigned i = 0; i < pol.n_names; i++) {
			const struct sbx_egress_name *e = &pol.names[i];
			bool star = e->name[0] == '*';

			/* A name matches itself; `*.name` only its subdomains. */
			if (strlen(e->name) > SBX_EGRESS_NAME_MAX ||
			    sbx_egress_name_match(e, e->name + (star ? 2 : 0)) == star)
				abort();
		}
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		query(data + 1, size - 1);
		break;
	case 1:
		answer(data + 1, size - 1);
		break;
	default:
		list(data + 1, size - 1);
	}
	return 0;
}
