/* The daemon's half of NETWORK_MODE=bridge: hands out one /31 of the
 * subnet per sandbox, and owns the firewall and the resolver for as long
 * as the daemon runs. The subnet's first /31 is never handed out: its
 * second address is the nameserver of the sandboxes' resolv.conf, which
 * the firewall redirects (as any DNS a sandbox sends) to the resolver. */
#include "bridge.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "daemon_config.h"
#include "dns.h"
#include "egress.h"
#include "firewall.h"
#include "log.h"

/* Links at once at most, whatever the subnet: "sbx" + 4 + "." + 5 digits
 * fits IFNAMSIZ. */
#define BRIDGE_SLOTS_MAX 65536

struct sbx_bridge {
	struct sbx_egress_policy egress, install;
	struct sbx_fw *fw;
	struct sbx_dns *dns;
	uint32_t subnet;
	uint8_t prefix;
	char ifprefix[16];
	char resolv[4096];

	pthread_mutex_t lock; /* guards the slots */
	uint8_t *used;	      /* per slot: 0 free, 1 in use, 2 installing */
	unsigned n_slots, next;
};

/* The resolver's upstream: the setting, else the first IPv4 nameserver
 * of the host's resolv.conf. */
static int upstream(const struct sbx_config *cfg, uint32_t *addr, uint16_t *port, char *err,
		    size_t errlen)
{
	char line[256];

	*port = 53;
	if (*cfg->dns_upstream) {
		sbx_egress_parse_hostport(cfg->dns_upstream, addr, port);
		*port = *port ? *port : 53;
		return 0;
	}
	FILE *f = fopen("/etc/resolv.conf", "re");
	while (f && fgets(line, sizeof(line), f)) {
		char ns[64];
		uint16_t p;

		if (sscanf(line, " nameserver %63s", ns) == 1 &&
		    sbx_egress_parse_hostport(ns, addr, &p) == 0) {
			fclose(f);
			return 0;
		}
	}
	if (f)
		fclose(f);
	snprintf(err, errlen,
		 "NETWORK_MODE=bridge needs SANDBOX_DNS_UPSTREAM: /etc/resolv.conf names no IPv4 "
		 "nameserver");
	return -EINVAL;
}

/* The resolver's socket: every address, a port the kernel picks; the
 * firewall lets only redirected DNS from sandboxes reach it. */
static int dns_socket(uint16_t *ret_port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (s < 0)
		return -errno;
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &len) < 0) {
		int r = -errno;
		close(s);
		return r;
	}
	*ret_port = ntohs(a.sin_port);
	return s;
}

static int write_resolv(struct sbx_bridge *b, const char *state_dir)
{
	uint32_t ns = b->subnet + 1;

	snprintf(b->resolv, sizeof(b->resolv), "%s/bridge-resolv.conf", state_dir);
	FILE *f = fopen(b->resolv, "we");
	if (!f)
		return -errno;
	fprintf(f,
		"# sandboxd: the daemon's resolver (NETWORK_MODE=bridge)\nnameserver %u.%u.%u.%u\n",
		ns >> 24, (ns >> 16) & 255, (ns >> 8) & 255, ns & 255);
	return fclose(f) == 0 ? 0 : -EIO;
}

static bool installing(void *arg, uint32_t src)
{
	struct sbx_bridge *b = arg;
	uint32_t slot = (src - b->subnet) / 2;

	if (src < b->subnet || slot >= b->n_slots)
		return false;
	pthread_mutex_lock(&b->lock);
	bool on = b->used[slot] == 2;
	pthread_mutex_unlock(&b->lock);
	return on;
}

static int start(struct sbx_bridge *b, const struct sbx_config *cfg, char *err, size_t errlen)
{
	struct sbx_dns_config dc = {
		.egress = &b->egress, .install = &b->install, .installing = installing, .arg = b};
	uint16_t dns_port = 0;
	int r;

	if ((r = upstream(cfg, &dc.upstream, &dc.upstream_port, err, errlen)) < 0)
		return r;
	if ((r = write_resolv(b, cfg->state_dir)) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", b->resolv, strerror(-r));
		return r;
	}
	if ((dc.fd = dns_socket(&dns_port)) < 0) {
		snprintf(err, errlen, "cannot open the resolver's socket: %s", strerror(-dc.fd));
		return dc.fd;
	}
	struct sbx_fw_config fc = {.instance = cfg->net_instance,
				   .subnet = b->subnet,
				   .prefix = b->prefix,
				   .dns_port = dns_port,
				   .max_connections = cfg->egress_max_connections,
				   .egress = &b->egress,
				   .install = &b->install};
	if ((r = sbx_fw_open(&fc, &b->fw, err, errlen)) < 0) {
		close(dc.fd);
		return r;
	}
	dc.fw = b->fw;
	if ((r = sbx_dns_start(&dc, &b->dns)) < 0)
		snprintf(err, errlen, "cannot start the resolver: %s", strerror(-r));
	return r;
}

int sbx_bridge_new(const struct sbx_config *cfg, struct sbx_bridge **ret, char *err, size_t errlen)
{
	struct sbx_bridge *b = calloc(1, sizeof(*b));
	int r;

	if (!b)
		return -ENOMEM;
	pthread_mutex_init(&b->lock, NULL);
	/* validate() checked these: they parse. */
	if (sbx_egress_parse(cfg->egress_allow, &b->egress, err, errlen) < 0 ||
	    sbx_egress_parse(cfg->install_allow, &b->install, err, errlen) < 0 ||
	    sbx_egress_parse_cidr(cfg->bridge_subnet, &b->subnet, &b->prefix) < 0) {
		sbx_bridge_free(b);
		return -EINVAL;
	}
	sbx_fw_ifprefix(cfg->net_instance, b->ifprefix);
	uint64_t n = (UINT64_C(1) << (32 - b->prefix)) / 2;
	b->n_slots = n > BRIDGE_SLOTS_MAX ? BRIDGE_SLOTS_MAX : (unsigned)n;
	b->next = 1;
	b->used = calloc(b->n_slots, 1);
	if (!b->used) {
		sbx_bridge_free(b);
		return -ENOMEM;
	}
	b->used[0] = 1; /* the resolver's address */
	if ((r = start(b, cfg, err, errlen)) < 0) {
		sbx_bridge_free(b);
		return r;
	}
	*ret = b;
	return 0;
}

void sbx_bridge_free(struct sbx_bridge *b)
{
	if (!b)
		return;
	sbx_dns_stop(b->dns);
	sbx_fw_close(b->fw);
	pthread_mutex_destroy(&b->lock);
	free(b->used);
	free(b);
}

static int take_slot(struct sbx_bridge *b, bool install, unsigned *ret)
{
	pthread_mutex_lock(&b->lock);
	for (unsigned i = 0; i < b->n_slots; i++) {
		unsigned s = (b->next + i) % b->n_slots;

		/* Round robin: a /31 just given back is the last to be reused. */
		if (!b->used[s]) {
			b->used[s] = install ? 2 : 1;
			b->next = s + 1;
			*ret = s;
			pthread_mutex_unlock(&b->lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return -EAGAIN;
}

int sbx_bridge_acquire(struct sbx_bridge *b, bool install, Sbx__BridgeNet **ret,
		       const char **ret_resolv)
{
	Sbx__BridgeNet *n = malloc(sizeof(*n));
	unsigned slot;
	int r;

	if (!n)
		return -ENOMEM;
	sbx__bridge_net__init(n);
	if ((r = take_slot(b, install, &slot)) < 0) {
		free(n);
		return r;
	}
	n->host_ip = b->subnet + 2 * slot;
	n->sandbox_ip = n->host_ip + 1;
	if (asprintf(&n->ifname, "%s%u", b->ifprefix, slot) < 0) {
		n->ifname = NULL;
		r = -ENOMEM;
	} else if (install && sbx_fw_installing(b->fw, n->sandbox_ip, true) < 0) {
		r = -EIO;
	}
	if (r < 0) {
		sbx_bridge_release(b, n, false);
		sbx__bridge_net__free_unpacked(n, NULL);
		return r;
	}
	*ret = n;
	*ret_resolv = b->resolv;
	return 0;
}

void sbx_bridge_release(struct sbx_bridge *b, const Sbx__BridgeNet *net, bool install)
{
	if (!net)
		return;
	if (install)
		sbx_fw_installing(b->fw, net->sandbox_ip, false);
	pthread_mutex_lock(&b->lock);
	b->used[(net->host_ip - b->subnet) / 2] = 0;
	pthread_mutex_unlock(&b->lock);
}
