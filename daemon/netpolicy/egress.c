/* SANDBOX_EGRESS_ALLOW and SANDBOX_INSTALL_ALLOW into a policy. IPv4
 * only: a sandbox's namespace has IPv6 off, so an IPv6 entry could never
 * be used and is refused rather than ignored. */
#include "egress.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sbx_egress_parse_cidr(const char *s, uint32_t *ret_addr, uint8_t *ret_prefix)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long prefix = 32;
	struct in_addr a;

	if (n == 0 || n >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, n);
	ip[n] = 0;
	if (inet_pton(AF_INET, ip, &a) != 1)
		return -EINVAL;
	if (slash) {
		char *end;

		if (!isdigit((unsigned char)slash[1]))
			return -EINVAL;
		prefix = strtoul(slash + 1, &end, 10);
		if (*end || prefix > 32)
			return -EINVAL;
	}
	uint32_t mask = prefix ? ~UINT32_C(0) << (32 - prefix) : 0;
	*ret_addr = ntohl(a.s_addr) & mask;
	*ret_prefix = (uint8_t)prefix;
	return 0;
}

static int parse_port(const char *s, uint16_t *ret)
{
	char *end;
	unsigned long p;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	p = strtoul(s, &end, 10);
	if (*end || p < 1 || p > 65535)
		return -EINVAL;
	*ret = (uint16_t)p;
	return 0;
}

int sbx_egress_parse_hostport(const char *s, uint32_t *ret_addr, uint16_t *ret_port)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	uint16_t port = 0;
	uint8_t prefix;
	uint32_t addr;

	if (n == 0 || n >= sizeof(host) || memchr(s, '/', n))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = 0;
	if (sbx_egress_parse_cidr(host, &addr, &prefix) < 0 ||
	    (colon && parse_port(colon + 1, &port) < 0))
		return -EINVAL;
	*ret_addr = addr;
	*ret_port = port;
	return 0;
}

/* A host name (RFC 1123 labels, at least two of them), optionally `*.`
 * first; lower-cased into out (SBX_EGRESS_NAME_MAX + 1 bytes). */
static bool valid_name(const char *s, char *out)
{
	size_t n = strlen(s), label = 0, labels = 1, star = strncmp(s, "*.", 2) == 0 ? 2 : 0;

	if (n == star || n > SBX_EGRESS_NAME_MAX)
		return false;
	memcpy(out, s, star);
	for (size_t i = star; i <= n; i++) {
		char c = s[i];

		if (c == '.' || c == 0) {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			labels += c == '.';
			label = 0;
		} else if (isalnum((unsigned char)c) || (c == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
		out[i] = (char)tolower((unsigned char)c);
	}
	/* A name of digits and dots only is a mistyped address, not a name. */
	return labels >= 2 && strspn(s + star, "0123456789.") != n - star;
}

static int add_entry(struct sbx_egress_policy *p, const char *e, char *err, size_t errlen)
{
	const char *colon = strrchr(e, ':');
	char host[SBX_EGRESS_NAME_MAX + 1];
	size_t n = colon ? (size_t)(colon - e) : strlen(e);
	uint16_t port = 0;

	if (strcmp(e, "*") == 0) {
		p->any_public = true;
		return 0;
	}
	if (strchr(e, ':') != colon || (colon && parse_port(colon + 1, &port) < 0) || n == 0 ||
	    n >= sizeof(host)) {
		snprintf(err, errlen,
			 "'%.80s' is not an address, CIDR or domain name with an optional :port "
			 "(1-65535; IPv6 is not supported)",
			 e);
		return -EINVAL;
	}
	memcpy(host, e, n);
	host[n] = 0;
	if (p->n_cidrs >= SBX_EGRESS_MAX || p->n_names >= SBX_EGRESS_MAX) {
		snprintf(err, errlen, "more than %d entries", SBX_EGRESS_MAX);
		return -EINVAL;
	}
	struct sbx_egress_cidr *c = &p->cidrs[p->n_cidrs];
	if (sbx_egress_parse_cidr(host, &c->addr, &c->prefix) == 0) {
		c->port = port;
		p->n_cidrs++;
		return 0;
	}
	struct sbx_egress_name *d = &p->names[p->n_names];
	if (!strchr(host, '/') && valid_name(host, d->name)) {
		d->port = port;
		p->n_names++;
		return 0;
	}
	snprintf(err, errlen, "'%.80s' is neither an IPv4 address, a CIDR nor a domain name", e);
	return -EINVAL;
}

int sbx_egress_parse(const char *list, struct sbx_egress_policy *ret, char *err, size_t errlen)
{
	memset(ret, 0, sizeof(*ret));
	for (const char *s = list ? list : ""; *s;) {
		size_t n = strcspn(s, ", \t\n");
		char e[SBX_EGRESS_NAME_MAX + 8];

		if (n >= sizeof(e)) {
			snprintf(err, errlen, "entry '%.40s...' is too long", s);
			return -EINVAL;
		}
		if (n) {
			memcpy(e, s, n);
			e[n] = 0;
			int r = add_entry(ret, e, err, errlen);
			if (r < 0)
				return r;
		}
		s += n + (s[n] != 0);
	}
	return 0;
}

bool sbx_egress_name_match(const struct sbx_egress_name *e, const char *name)
{
	if (strncmp(e->name, "*.", 2) != 0)
		return strcmp(e->name, name) == 0;
	size_t n = strlen(name), m = strlen(e->name + 1); /* ".suffix" */
	return n > m && strcmp(name + n - m, e->name + 1) == 0;
}
