/* nftables rules of NETWORK_MODE=bridge. Every sandbox interface of this
 * daemon is named sbx<instance>.<n>, so the rules match them with one
 * wildcard and stay the same whatever sandboxes come and go: only the
 * resolver's answers (timeouts) and the installing set change at run time.
 *
 * What is always refused comes from the kernel's view, not from the
 * sandbox: a source is checked against the route back (fib: only the
 * address of the /31 on that very interface passes), the host's own
 * addresses are reached through the input hook where only DNS to the
 * resolver is let in, IPv6 is dropped. Refusals are ICMP
 * admin-prohibited, so a program sees EHOSTUNREACH at once instead of
 * waiting for a timeout; spoofed packets are dropped silently. */
#include "firewall.h"

#include <arpa/inet.h>
#include <errno.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

struct sbx_fw {
	pthread_mutex_t lock; /* one libnftables context, not thread-safe */
	struct nft_ctx *nft;
	char table[32];
};

/* Ranges a sandbox never reaches unless a listed CIDR or address covers
 * them: "this network", private, carrier-grade NAT, loopback, link-local
 * (cloud metadata), multicast, reserved and broadcast. */
static const char *const denied[] = {
	"0.0.0.0/8",	 "10.0.0.0/8",	   "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
	"172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4",   "240.0.0.0/4",
};

#define REJECT "reject with icmpx type admin-prohibited"

void sbx_fw_ifprefix(const char *instance, char out[16])
{
	snprintf(out, 16, "sbx%.4s.", instance);
}

static void put_ip(FILE *f, uint32_t a)
{
	fprintf(f, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

/* The listed CIDRs with (ports true) or without a port, as one set. */
static void put_cidr_set(FILE *f, const char *name, const struct sbx_egress_policy *p, bool ports)
{
	unsigned n = 0;

	fprintf(f, "  set %s { type ipv4_addr%s; flags interval; auto-merge;", name,
		ports ? " . inet_service" : "");
	for (unsigned i = 0; i < p->n_cidrs; i++) {
		const struct sbx_egress_cidr *c = &p->cidrs[i];

		if ((c->port != 0) != ports)
			continue;
		fputs(n++ ? ", " : " elements = { ", f);
		put_ip(f, c->addr);
		fprintf(f, "/%u", c->prefix);
		if (ports)
			fprintf(f, " . %u", c->port);
	}
	fputs(n ? " } }\n" : " }\n", f);
}

static void put_sets(FILE *f, const struct sbx_fw_config *c)
{
	put_cidr_set(f, "allow_net", c->egress, false);
	put_cidr_set(f, "allow_port", c->egress, true);
	put_cidr_set(f, "inst_net", c->install, false);
	put_cidr_set(f, "inst_port", c->install, true);
	/* Addresses the resolver handed out, each for its answer's TTL. */
	fputs("  set dns_net { type ipv4_addr; flags timeout; size 65536; }\n"
	      "  set dns_port { type ipv4_addr . inet_service; flags timeout; size 65536; }\n"
	      "  set inst_dns_net { type ipv4_addr; flags timeout; size 65536; }\n"
	      "  set inst_dns_port { type ipv4_addr . inet_service; flags timeout; size 65536; }\n"
	      "  set inst_src { type ipv4_addr; size 65536; }\n"
	      "  set conns { type ipv4_addr; size 65536; flags dynamic; }\n"
	      "  set denied { type ipv4_addr; flags interval; auto-merge; elements = { ",
	      f);
	for (size_t i = 0; i < SBX_ARRAY_SIZE(denied); i++)
		fprintf(f, "%s, ", denied[i]);
	/* The sandboxes' own subnet: no sandbox reaches another. */
	put_ip(f, c->subnet);
	fprintf(f, "/%u } }\n", c->prefix);
}

/* What a sandbox sends through the host, in order: the kernel's checks,
 * the explicit list (which may open a denied range), the always-denied
 * ranges, then what names resolved to, `*`, and a refusal. What is
 * allowed goes to `allowed`, which counts it. */
static void put_from_sbx(FILE *f, const struct sbx_fw_config *c)
{
	fprintf(f,
		"  chain from_sbx {\n"
		"    meta nfproto ipv6 drop\n"
		"    fib saddr type local drop\n"
		"    fib saddr . iif oif missing drop\n"
		"    ct state established,related accept\n"
		"    ct state invalid drop\n"
		"    ip daddr @allow_net goto allowed\n"
		"    ip daddr . th dport @allow_port goto allowed\n"
		"    ip saddr @inst_src ip daddr @inst_net goto allowed\n"
		"    ip saddr @inst_src ip daddr . th dport @inst_port goto allowed\n"
		"    ip daddr @denied " REJECT "\n"
		"    ip daddr @dns_net goto allowed\n"
		"    ip daddr . th dport @dns_port goto allowed\n"
		"    ip saddr @inst_src ip daddr @inst_dns_net goto allowed\n"
		"    ip saddr @inst_src ip daddr . th dport @inst_dns_port goto allowed\n"
		"%s"
		"    " REJECT "\n"
		"  }\n",
		c->egress->any_public ? "    goto allowed\n" : "");
}

static void put_chains(FILE *f, const struct sbx_fw_config *c, const char *ifp)
{
	/* A new connection the policy allows, counted per sandbox: only
	 * allowed ones count, so refusals never use up the limit. */
	fprintf(f,
		"  chain allowed {\n"
		"    add @conns { ip saddr ct count over %u } " REJECT "\n"
		"    accept\n"
		"  }\n",
		c->max_connections);
	put_from_sbx(f, c);
	fprintf(f,
		"  chain forward {\n"
		"    type filter hook forward priority filter - 1; policy accept;\n"
		"    iifname \"%s*\" jump from_sbx\n"
		"    oifname \"%s*\" ct state established,related accept\n"
		"    oifname \"%s*\" drop\n"
		"  }\n",
		ifp, ifp, ifp);
	/* The host itself: only the resolver, reached through the redirect. */
	fprintf(f,
		"  chain in_sbx {\n"
		"    meta nfproto ipv6 drop\n"
		"    ct state established,related accept\n"
		"    udp dport %u ct status dnat accept\n"
		"    " REJECT "\n"
		"  }\n"
		"  chain input {\n"
		"    type filter hook input priority filter - 1; policy accept;\n"
		"    iifname \"%s*\" jump in_sbx\n"
		"    udp dport %u drop\n"
		"  }\n",
		c->dns_port, ifp, c->dns_port);
	fprintf(f,
		"  chain prerouting {\n"
		"    type nat hook prerouting priority dstnat - 1; policy accept;\n"
		"    iifname \"%s*\" udp dport 53 redirect to :%u\n"
		"  }\n"
		"  chain postrouting {\n"
		"    type nat hook postrouting priority srcnat + 1; policy accept;\n"
		"    ip saddr ",
		ifp, c->dns_port);
	put_ip(f, c->subnet);
	fprintf(f, "/%u oifname != \"%s*\" masquerade\n  }\n", c->prefix, ifp);
}

/* Docker's FORWARD chain (table ip filter, iptables-nft) drops what it
 * does not know, and an accept in our table does not bind another
 * table's chain. Docker's documented place for the host's own rules is
 * DOCKER-USER: two rules there let through what reached it from or to
 * our interfaces, which our chain (earlier on the hook) already refused
 * or allowed. Tagged with the table's name, they are found and removed
 * by handle: at start (a killed daemon's), at close. */
static bool docker_user_clean(struct sbx_fw *fw)
{
	char cmd[128];
	const char *out;

	nft_ctx_output_set_flags(fw->nft, NFT_CTX_OUTPUT_HANDLE);
	int r = nft_run_cmd_from_buffer(fw->nft, "list chain ip filter DOCKER-USER");
	nft_ctx_output_set_flags(fw->nft, 0);
	if (r != 0 || !(out = nft_ctx_get_output_buffer(fw->nft)))
		return false; /* no Docker chain: nothing to do */
	_cleanup_free_ char *text = strdup(out);
	char *save = NULL;
	for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char tag[48];
		const char *h = strstr(line, "# handle ");

		snprintf(tag, sizeof(tag), "comment \"%s\"", fw->table);
		if (!h || !strstr(line, tag))
			continue;
		snprintf(cmd, sizeof(cmd), "delete rule ip filter DOCKER-USER handle %ld",
			 strtol(h + 9, NULL, 10));
		nft_run_cmd_from_buffer(fw->nft, cmd);
	}
	return true;
}

static void docker_user_open(struct sbx_fw *fw, const char *ifp)
{
	char cmd[256];

	if (!docker_user_clean(fw))
		return;
	snprintf(cmd, sizeof(cmd),
		 "insert rule ip filter DOCKER-USER iifname \"%s*\" accept comment \"%s\"\n"
		 "insert rule ip filter DOCKER-USER oifname \"%s*\" accept comment \"%s\"\n",
		 ifp, fw->table, ifp, fw->table);
	nft_run_cmd_from_buffer(fw->nft, cmd);
}

/* Run one nft command batch; on failure the first line of its message. */
static int fw_run(struct sbx_fw *fw, const char *cmd, char *err, size_t errlen)
{
	int r = nft_run_cmd_from_buffer(fw->nft, cmd);
	const char *msg = nft_ctx_get_error_buffer(fw->nft);

	if (r != 0 && err)
		snprintf(err, errlen, "nftables: %.*s", (int)strcspn(msg ? msg : "", "\n"),
			 msg ? msg : "");
	return r != 0 ? -EIO : 0;
}

static char *ruleset(const struct sbx_fw_config *c, const char *table)
{
	char ifp[16], *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	sbx_fw_ifprefix(c->instance, ifp);
	/* add then delete: removes a stale table and is no error without one. */
	fprintf(f, "add table inet %s\ndelete table inet %s\ntable inet %s {\n", table, table,
		table);
	put_sets(f, c);
	put_chains(f, c, ifp);
	fputs("}\n", f);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

int sbx_fw_open(const struct sbx_fw_config *c, struct sbx_fw **ret, char *err, size_t errlen)
{
	struct sbx_fw *fw = calloc(1, sizeof(*fw));
	_cleanup_free_ char *text = NULL;

	if (!fw)
		return -ENOMEM;
	pthread_mutex_init(&fw->lock, NULL);
	snprintf(fw->table, sizeof(fw->table), "sandboxd_%.4s", c->instance);
	fw->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	text = ruleset(c, fw->table);
	if (!fw->nft || !text) {
		snprintf(err, errlen, "out of memory");
		sbx_fw_close(fw);
		return -ENOMEM;
	}
	nft_ctx_buffer_output(fw->nft);
	nft_ctx_buffer_error(fw->nft);
	int r = fw_run(fw, text, err, errlen);
	if (r == 0) {
		char ifp[16];

		sbx_fw_ifprefix(c->instance, ifp);
		docker_user_open(fw, ifp);
	}
	if (r < 0) {
		nft_ctx_free(fw->nft);
		fw->nft = NULL;
		sbx_fw_close(fw);
		return r;
	}
	*ret = fw;
	return 0;
}

void sbx_fw_close(struct sbx_fw *fw)
{
	char cmd[64];

	if (!fw)
		return;
	if (fw->nft) {
		docker_user_clean(fw);
		snprintf(cmd, sizeof(cmd), "delete table inet %s", fw->table);
		fw_run(fw, cmd, NULL, 0);
		nft_ctx_free(fw->nft);
	}
	pthread_mutex_destroy(&fw->lock);
	free(fw);
}

static int fw_locked(struct sbx_fw *fw, const char *cmd)
{
	pthread_mutex_lock(&fw->lock);
	int r = fw_run(fw, cmd, NULL, 0);
	pthread_mutex_unlock(&fw->lock);
	return r;
}

int sbx_fw_allow_resolved(struct sbx_fw *fw, bool install, uint32_t addr, uint16_t port,
			  uint32_t timeout_s)
{
	char el[96], cmd[400], p[16] = "";

	if (port)
		snprintf(p, sizeof(p), " . %u", port);
	snprintf(el, sizeof(el), "element inet %s %s%s { %u.%u.%u.%u%s", fw->table,
		 install ? "inst_dns_" : "dns_", port ? "port" : "net", addr >> 24,
		 (addr >> 16) & 255, (addr >> 8) & 255, addr & 255, p);
	/* An element already there keeps its old timeout: add (a no-op when
	 * present), delete and add again with the new one, as one batch so
	 * the address is never absent in between. */
	snprintf(cmd, sizeof(cmd), "add %s }\ndelete %s }\nadd %s timeout %us }\n", el, el, el,
		 timeout_s ? timeout_s : 1);
	return fw_locked(fw, cmd);
}

int sbx_fw_installing(struct sbx_fw *fw, uint32_t addr, bool on)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "%s element inet %s inst_src { %u.%u.%u.%u }",
		 on ? "add" : "delete", fw->table, addr >> 24, (addr >> 16) & 255,
		 (addr >> 8) & 255, addr & 255);
	return fw_locked(fw, cmd);
}
