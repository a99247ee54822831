/* The veth pair of a bridge-mode sandbox. Routed, not bridged: each
 * sandbox is alone on its /31 with the host, so whatever it sends passes
 * the host's forward hook (the daemon's firewall); on a Linux bridge two
 * sandboxes would talk at layer 2 past it. The sandbox holds no
 * capability in its namespace (it belongs to the host's user namespace),
 * so it cannot change address, route or sysctl. */
#include "net_bridge.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "net.h"
#include "sentence.h"

/* One request: a header and attributes, never near this size. */
struct nlreq {
	struct nlmsghdr h;
	union {
		struct ifinfomsg ifi;
		struct ifaddrmsg ifa;
		struct rtmsg rt;
	};
	char attrs[256];
};

static void nl_init(struct nlreq *q, uint16_t type, uint16_t flags, size_t body)
{
	memset(q, 0, sizeof(*q));
	q->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(body);
	q->h.nlmsg_type = type;
	q->h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
}

static struct rtattr *nl_attr(struct nlreq *q, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)q + NLMSG_ALIGN(q->h.nlmsg_len));
	size_t need = NLMSG_ALIGN(q->h.nlmsg_len) + RTA_ALIGN(RTA_LENGTH(len));

	if (need > sizeof(*q))
		abort(); /* the requests below are fixed and small */
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (data)
		memcpy(RTA_DATA(a), data, len);
	else
		memset(RTA_DATA(a), 0, len);
	q->h.nlmsg_len = (uint32_t)need;
	return a;
}

/* Close a nested attribute opened by nl_attr(q, type, NULL, 0). */
static void nl_nest_end(struct nlreq *q, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)((char *)q + q->h.nlmsg_len - (char *)nest);
}

/* Send one request on a fresh socket of the calling thread's namespace
 * and read its ack. 0 or the kernel's -errno. */
static int nl_talk(struct nlreq *q)
{
	_cleanup_close_ int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	char buf[1024];

	if (s < 0)
		return -errno;
	if (send(s, q, q->h.nlmsg_len, 0) < 0)
		return -errno;
	ssize_t n = recv(s, buf, sizeof(buf), 0);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)))
		return n < 0 ? -errno : -EIO;
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	if (h->nlmsg_type != NLMSG_ERROR)
		return -EIO;
	return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
}

/* The host end `name` and its peer eth0, created directly in netns_fd. */
static int veth_add(const char *name, int netns_fd)
{
	struct nlreq q;
	uint32_t fd = (uint32_t)netns_fd;

	nl_init(&q, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
	nl_attr(&q, IFLA_IFNAME, name, strlen(name) + 1);
	struct rtattr *info = nl_attr(&q, IFLA_LINKINFO, NULL, 0);
	nl_attr(&q, IFLA_INFO_KIND, "veth", 4);
	struct rtattr *data = nl_attr(&q, IFLA_INFO_DATA, NULL, 0);
	struct rtattr *peer = nl_attr(&q, VETH_INFO_PEER, NULL, sizeof(struct ifinfomsg));
	nl_attr(&q, IFLA_IFNAME, "eth0", 5);
	nl_attr(&q, IFLA_NET_NS_FD, &fd, sizeof(fd));
	nl_nest_end(&q, peer);
	nl_nest_end(&q, data);
	nl_nest_end(&q, info);
	return nl_talk(&q);
}

static int link_up(unsigned ifindex)
{
	struct nlreq q;

	nl_init(&q, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
	q.ifi.ifi_index = (int)ifindex;
	q.ifi.ifi_flags = q.ifi.ifi_change = IFF_UP;
	return nl_talk(&q);
}

/* addr/31 on ifindex; both addresses host order. */
static int addr_add(unsigned ifindex, uint32_t addr)
{
	struct nlreq q;
	uint32_t a = htonl(addr);

	nl_init(&q, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifaddrmsg));
	q.ifa.ifa_family = AF_INET;
	q.ifa.ifa_prefixlen = 31;
	q.ifa.ifa_index = ifindex;
	nl_attr(&q, IFA_LOCAL, &a, sizeof(a));
	nl_attr(&q, IFA_ADDRESS, &a, sizeof(a));
	return nl_talk(&q);
}

static int default_route(unsigned ifindex, uint32_t gw)
{
	struct nlreq q;
	uint32_t g = htonl(gw);

	nl_init(&q, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct rtmsg));
	q.rt.rtm_family = AF_INET;
	q.rt.rtm_table = RT_TABLE_MAIN;
	q.rt.rtm_protocol = RTPROT_BOOT;
	q.rt.rtm_scope = RT_SCOPE_UNIVERSE;
	q.rt.rtm_type = RTN_UNICAST;
	nl_attr(&q, RTA_GATEWAY, &g, sizeof(g));
	nl_attr(&q, RTA_OIF, &ifindex, sizeof(ifindex));
	return nl_talk(&q);
}

/* Write "1" to /proc/sys/net/<path> of the calling thread's namespace. */
static int sysctl_on(const char *path)
{
	char p[128];

	snprintf(p, sizeof(p), "/proc/sys/net/%s", path);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return write(fd, "1", 1) == 1 ? 0 : -errno;
}

int sbx_net_ipv6_off(void)
{
	int r = sysctl_on("ipv6/conf/default/disable_ipv6");

	if (r == 0)
		r = sysctl_on("ipv6/conf/all/disable_ipv6");
	return r == -ENOENT ? 0 : r;
}

/* The host end: IPv6 off, forwarding on (only this interface's),
 * host_ip/31, up. */
static int host_end(const Sbx__BridgeNet *b, unsigned idx, const char **what)
{
	char p[96];
	int r;

	snprintf(p, sizeof(p), "ipv6/conf/%s/disable_ipv6", b->ifname);
	if ((r = sysctl_on(p)) < 0 && r != -ENOENT)
		return *what = "turn IPv6 off on the host end", r;
	snprintf(p, sizeof(p), "ipv4/conf/%s/forwarding", b->ifname);
	if ((r = sysctl_on(p)) < 0)
		return *what = "turn forwarding on", r;
	if ((r = addr_add(idx, b->host_ip)) < 0)
		return *what = "address the host end", r;
	if ((r = link_up(idx)) < 0)
		return *what = "bring the host end up", r;
	return 0;
}

/* Inside the namespace: eth0 addressed, up, the default route. */
static int inner_end(const struct sbx_ctx *ctx, const Sbx__BridgeNet *b, int netns_fd,
		     const char **what)
{
	int r;

	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return *what = "enter the namespace", -errno;
	unsigned idx = if_nametoindex("eth0");
	if (!idx)
		r = -errno, *what = "find eth0";
	else if ((r = addr_add(idx, b->sandbox_ip)) < 0)
		*what = "address eth0";
	else if ((r = link_up(idx)) < 0)
		*what = "bring eth0 up";
	else if ((r = default_route(idx, b->host_ip)) < 0)
		*what = "add the default route";
	if (sbx_net_enter_host(ctx) < 0)
		abort(); /* the spawner cannot stay in a sandbox's namespace */
	return r;
}

int sbx_net_bridge_up(const struct sbx_ctx *ctx, const Sbx__BridgeNet *b, int netns_fd,
		      unsigned *ret_ifindex, char *err, size_t errlen)
{
	const char *what = "create the veth pair";
	size_t n = strlen(b->ifname);
	unsigned idx = 0;
	int r;

	if (n < 4 || n >= IFNAMSIZ || strncmp(b->ifname, "sbx", 3) != 0 || strchr(b->ifname, '/') ||
	    (b->host_ip ^ 1) != b->sandbox_ip) {
		sbx_sentence(err, errlen, "bad bridge link %s", b->ifname);
		return -EINVAL;
	}
	r = veth_add(b->ifname, netns_fd);
	if (r == 0 && !(idx = if_nametoindex(b->ifname)))
		r = -errno, what = "find the host end";
	if (r == 0 && (r = host_end(b, idx, &what)) == 0)
		r = inner_end(ctx, b, netns_fd, &what);
	if (r < 0) {
		sbx_sentence(err, errlen, "cannot %s of %s: %s", what, b->ifname, strerror(-r));
		sbx_net_bridge_down(idx);
		return r;
	}
	*ret_ifindex = idx;
	return 0;
}

void sbx_net_bridge_down(unsigned ifindex)
{
	struct nlreq q;

	/* By index, not name: a name is free for another sandbox as soon as
	 * its link is gone, and this one may already be (the reply can go
	 * before the reap). 0 (a veth never made) is no link. */
	if (!ifindex)
		return;
	nl_init(&q, RTM_DELLINK, 0, sizeof(struct ifinfomsg));
	q.ifi.ifi_index = (int)ifindex;
	nl_talk(&q);
}
