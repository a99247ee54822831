/* NETWORK_MODE=bridge's parsers (daemon/netpolicy/): the egress lists,
 * with the sentence a bad entry gets, and the resolver's packets. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "egress.h"
#include "testlib.h"

static struct sbx_egress_policy p;

static void lists(void)
{
	char err[256];

	CHECK(sbx_egress_parse("", &p, err, sizeof(err)) == 0);
	CHECK(p.n_cidrs == 0 && p.n_names == 0 && !p.any_public);
	CHECK(sbx_egress_parse("198.51.100.8:7, 10.214.0.0/24 ,Ok.Example.TEST:443,"
			       "*.pythonhosted.org,*,192.0.2.0/24:53",
			       &p, err, sizeof(err)) == 0);
	CHECK(p.any_public);
	CHECK_INT(p.n_cidrs, 3);
	CHECK(p.cidrs[0].addr == 0xc6336408 && p.cidrs[0].prefix == 32 && p.cidrs[0].port == 7);
	CHECK(p.cidrs[1].addr == 0x0ad60000 && p.cidrs[1].prefix == 24 && p.cidrs[1].port == 0);
	CHECK(p.cidrs[2].addr == 0xc0000200 && p.cidrs[2].port == 53);
	CHECK_INT(p.n_names, 2);
	CHECK_STR(p.names[0].name, "ok.example.test");
	CHECK_INT(p.names[0].port, 443);
	CHECK(sbx_egress_name_match(&p.names[0], "ok.example.test"));
	CHECK(!sbx_egress_name_match(&p.names[0], "a.ok.example.test"));
	CHECK(sbx_egress_name_match(&p.names[1], "files.pythonhosted.org"));
	CHECK(!sbx_egress_name_match(&p.names[1], "pythonhosted.org"));
	CHECK(!sbx_egress_name_match(&p.names[1], "evilpythonhosted.org"));

	/* Host bits are cleared: 10.1.2.3/8 is 10.0.0.0/8. */
	CHECK(sbx_egress_parse("10.1.2.3/8", &p, err, sizeof(err)) == 0 &&
	      p.cidrs[0].addr == 0x0a000000);
	static const char *const bad[][2] = {
		{"::1", "'::1' is not an address, CIDR or domain name with an optional :port"},
		{"1.2.3.4:0", "'1.2.3.4:0' is not an address"},
		{"1.2.3.4:70000", "'1.2.3.4:70000' is not an address"},
		{"1.2.3.4/33", "'1.2.3.4/33' is neither an IPv4 address, a CIDR nor a domain name"},
		{"1.2.3", "'1.2.3' is neither"},
		{"localhost", "'localhost' is neither"},
		{"a..b", "'a..b' is neither"},
		{"-a.b", "'-a.b' is neither"},
		{"a_b.c", "'a_b.c' is neither"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		err[0] = 0;
		CHECKF(sbx_egress_parse(bad[i][0], &p, err, sizeof(err)) == -EINVAL, "%s",
		       bad[i][0]);
		CHECKF(strncmp(err, bad[i][1], strlen(bad[i][1])) == 0, "%s: %s", bad[i][0], err);
	}
	/* Bounded: one entry more than SBX_EGRESS_MAX is refused. */
	char *many = malloc((SBX_EGRESS_MAX + 1) * 16);
	size_t off = 0;
	for (int i = 0; i <= SBX_EGRESS_MAX; i++)
		off += (size_t)sprintf(many + off, "10.0.%d.%d,", i / 256, i % 256);
	CHECK(sbx_egress_parse(many, &p, err, sizeof(err)) == -EINVAL);
	CHECKF(strstr(err, "more than 256 entries") != NULL, "%s", err);
	free(many);
}

static const uint8_t query[] = {0x12, 0x34, 0x01, 0x00, 0,   1,	  0,   0,   0,	 0,   0,
				0,    2,    'O',  'k',	7,   'e', 'x', 'a', 'm', 'p', 'l',
				'e',  4,    't',  'e',	's', 't', 0,   0,   1,	 0,   1};

static void packets(void)
{
	struct sbx_dns_question q;
	uint8_t b[128];

	CHECK(sbx_dns_parse_query(query, sizeof(query), &q) == 0);
	CHECK_STR(q.name, "ok.example.test");
	CHECK(q.id == 0x1234 && q.qtype == 1 && q.qclass == 1 && q.end == sizeof(query));
	/* A response, a compressed name, a truncated one: refused. */
	memcpy(b, query, sizeof(query));
	b[2] |= 0x80;
	CHECK(sbx_dns_parse_query(b, sizeof(query), &q) == -EINVAL);
	memcpy(b, query, sizeof(query));
	b[12] = 0xc0;
	CHECK(sbx_dns_parse_query(b, sizeof(query), &q) == -EINVAL);
	CHECK(sbx_dns_parse_query(query, sizeof(query) - 1, &q) == -EINVAL);

	/* An answer: a CNAME, then two A records (TTL 60 and 30). */
	static const uint8_t rr[] = {0xc0, 12, 0,    5,	 0,   1, 0,    0,  0,	60, 0, 2,
				     0xc0, 12, 0xc0, 12, 0,   1, 0,    1,  0,	0,  0, 60,
				     0,	   4,  198,  51, 100, 9, 0xc0, 12, 0,	1,  0, 1,
				     0,	   0,  0,    30, 0,   4, 198,  51, 100, 10};
	uint32_t a[4], ttl = 0;
	memcpy(b, query, sizeof(query));
	b[2] = 0x81, b[3] = 0x80, b[7] = 3;
	memcpy(b + sizeof(query), rr, sizeof(rr));
	size_t n = sizeof(query) + sizeof(rr);
	CHECK_INT(sbx_dns_parse_answer(b, n, 0x1234, a, 4, &ttl), 2);
	CHECK(a[0] == 0xc6336409 && a[1] == 0xc633640a && ttl == 30);
	CHECK_INT(sbx_dns_parse_answer(b, n, 0x1235, a, 4, &ttl), -EINVAL); /* another id */
	CHECK_INT(sbx_dns_parse_answer(b, n, 0x1234, a, 1, &ttl), 1);	    /* at most max */
	CHECK_INT(sbx_dns_parse_answer(b, n - 1, 0x1234, a, 4, &ttl), -EINVAL);
	b[3] = 0x83; /* NXDOMAIN */
	CHECK_INT(sbx_dns_parse_answer(b, n, 0x1234, a, 4, &ttl), -ENOENT);
}

int main(void)
{
	lists();
	packets();
	TEST_DONE();
}
