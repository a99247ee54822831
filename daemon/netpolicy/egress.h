/* The egress policy of NETWORK_MODE=bridge (README "Network"): what a
 * sandbox that asked for the network may reach. Parsing only (egress.c);
 * the firewall (firewall.c) and the DNS responder (dns.c) act on it. */
#ifndef SBX_EGRESS_H
#define SBX_EGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Entries one list may hold: each becomes a set element or a name the
 * DNS responder answers for. */
#define SBX_EGRESS_MAX 256
#define SBX_EGRESS_NAME_MAX 253

/* An address range (a /32 for an IP) and one port, or every port. */
struct sbx_egress_cidr {
	uint32_t addr; /* host order, host bits zero */
	uint8_t prefix;
	uint16_t port; /* 0 = every port */
};

/* A domain name, lower case, without the final dot; `*.` in front matches
 * the name's subdomains (not the name itself). */
struct sbx_egress_name {
	char name[SBX_EGRESS_NAME_MAX + 1];
	uint16_t port; /* 0 = every port */
};

struct sbx_egress_policy {
	bool any_public; /* `*`: every address the always-denied ranges leave */
	struct sbx_egress_cidr cidrs[SBX_EGRESS_MAX];
	struct sbx_egress_name names[SBX_EGRESS_MAX];
	unsigned n_cidrs, n_names;
};

/* Parse a comma- or blank-separated list of CIDR, IP, IP:port, CIDR:port,
 * name, name:port and `*` into *ret (zeroed first). "" is the empty
 * policy. 0, or -EINVAL with one sentence naming the entry in err. */
int sbx_egress_parse(const char *list, struct sbx_egress_policy *ret, char *err, size_t errlen);

/* "a.b.c.d/n" (or "a.b.c.d" = /32) into host-order address and prefix,
 * host bits zero. 0 or -EINVAL. */
int sbx_egress_parse_cidr(const char *s, uint32_t *ret_addr, uint8_t *ret_prefix);

/* "IP" or "IP:port" into a host-order address and port (0 when absent).
 * 0 or -EINVAL. */
int sbx_egress_parse_hostport(const char *s, uint32_t *ret_addr, uint16_t *ret_port);

/* Does `name` (lower case, no final dot) match entry e? */
bool sbx_egress_name_match(const struct sbx_egress_name *e, const char *name);

#endif
