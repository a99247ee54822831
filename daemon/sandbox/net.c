/* Network namespace: unless the request asks for the network, the sandbox
 * gets a namespace of its own whose only interface is loopback, up. With
 * SpawnRequest.bridge (NETWORK_MODE=bridge) it gets a fresh one, never
 * pooled, joined to the host by a veth pair (net_bridge.c); with
 * `network` alone (an install phase in mode none) the host's.
 *
 * Creating a network namespace, and the kernel's destroying it, are among
 * the costly parts of an execution, so the spawner keeps a few ready, made
 * while it is idle. A pooled namespace belongs to the host's user
 * namespace: the sandbox holds no capability over it at all, so it cannot
 * add interfaces, addresses, routes or firewall rules, bring lo down or
 * write its sysctls. What one execution can leave in such a namespace is
 * sockets (a TCP connection in TIME_WAIT, a socket still in flight), so
 * with netns_reuse a namespace goes back to the pool after its execution
 * only when its sandbox is reaped (every process of it gone) and the
 * kernel counts no socket in it (of any family, TIME_WAIT and fragments
 * included: /proc/net/sockstat{,6}) with lo still up; any doubt drops it. The counters
 * of lo (and /proc/net/snmp's) do carry over: a next execution can see
 * how much loopback traffic earlier ones made, never what it was. A
 * namespace the clone made (CLONE_NEWNET, owned by the sandbox's user
 * namespace, where the sandbox did hold capabilities) is never reused.
 * A service (engine.h) runs in a namespace the daemon made and passed
 * along instead, with the same properties, so the daemon can connect to
 * the port it listens on; the daemon closes it. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "module.h"
#include "net.h"
#include "net_bridge.h"
#include "sentence.h"
#include "spawner_state.h"

/* Namespaces kept at most with netns_reuse (each ~100-200 KB). */
#define NETNS_KEEP 16

struct sbx_net {
	int host; /* the spawner's own namespace */
	int *pool;
	unsigned pool_len, pool_cap;
};

/* lo's flags in the calling thread's namespace: read them, or with `up`
 * set IFF_UP and IFF_RUNNING too. 0 or -errno. */
static int lo_flags(bool up, short *flags)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ifr.ifr_flags |= up ? IFF_UP | IFF_RUNNING : 0;
	if (up && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return -errno;
	*flags = ifr.ifr_flags;
	return 0;
}

static int lo_up(void)
{
	short flags;
	return lo_flags(true, &flags);
}

/* Make one namespace: the spawner steps into a new one, sets lo up, keeps
 * a handle on it and steps back. */
static int netns_make(struct sbx_ctx *ctx, bool ipv6_off, int *ret_fd)
{
	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	int r = lo_up();
	if (r == 0 && ipv6_off)
		r = sbx_net_ipv6_off();
	int fd = r < 0 ? -1 : open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (r == 0 && fd < 0)
		r = -errno;
	if (sbx_net_enter_host(ctx) < 0)
		abort(); /* the spawner cannot stay in a sandbox's namespace */
	if (r < 0)
		return r;
	*ret_fd = fd;
	return 0;
}

/* Called by the spawner when it has nothing else to do. Returns true if
 * it did some work. */
bool sbx_net_refill(struct sbx_ctx *ctx)
{
	struct sbx_net *n = ctx->net;
	if (ctx->cfg.no_netns_pool || n->pool_len >= ctx->cfg.netns_pool)
		return false;
	int fd = -1;
	if (netns_make(ctx, false, &fd) < 0)
		return false;
	n->pool[n->pool_len++] = fd;
	return true;
}

int sbx_net_enter_host(const struct sbx_ctx *ctx)
{
	return setns(ctx->net->host, CLONE_NEWNET) < 0 ? -errno : 0;
}

static int net_init(struct sbx_ctx *ctx)
{
	struct sbx_net *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	ctx->net = n;
	n->host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (n->host < 0)
		return -errno;
	if (ctx->cfg.no_netns_pool)
		return 0;
	n->pool_cap = ctx->cfg.netns_reuse && ctx->cfg.netns_pool < NETNS_KEEP
			      ? NETNS_KEEP
			      : ctx->cfg.netns_pool;
	n->pool = calloc(n->pool_cap, sizeof(int));
	return n->pool ? 0 : -ENOMEM;
}

static void net_fini(struct sbx_ctx *ctx)
{
	struct sbx_net *n = ctx->net;
	if (!n)
		return;
	for (unsigned i = 0; i < n->pool_len; i++)
		close(n->pool[i]);
	free(n->pool);
	if (n->host >= 0)
		close(n->host);
	free(n);
	ctx->net = NULL;
}

static int net_prepare(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	ex->netns_fd = -1;
	/* A service runs in the namespace its daemon made, so that the daemon
	 * can reach its port; in bridge mode that namespace gets the link too
	 * (the daemon still reaches the port on its loopback). Otherwise a
	 * request for the network wins. */
	if (ex->caller_netns_fd >= 0 && (!ex->req->network || ex->req->bridge)) {
		ex->netns_fd = ex->caller_netns_fd;
		ex->caller_netns_fd = -1;
		if (!ex->req->bridge)
			return 0;
		return sbx_net_bridge_up(ctx, ex->req->bridge, ex->netns_fd, &ex->bridge_ifindex,
					 ex->error, sizeof(ex->error));
	}
	/* Bridge mode: a namespace of its own, never from the pool nor back
	 * to it (it had an interface the sandbox used). */
	if (ex->req->bridge) {
		int r = netns_make(ctx, true, &ex->netns_fd);
		if (r < 0) {
			sbx_sentence(ex->error, sizeof(ex->error),
				     "cannot make a network namespace: %s", strerror(-r));
			return r;
		}
		return sbx_net_bridge_up(ctx, ex->req->bridge, ex->netns_fd, &ex->bridge_ifindex,
					 ex->error, sizeof(ex->error));
	}
	struct sbx_net *n = ctx->net;
	if (ex->req->network || ctx->cfg.no_netns_pool)
		return 0;
	/* With reuse, an empty pool makes one now rather than let the clone
	 * make one the sandbox would own: this one comes back. */
	if (n->pool_len)
		ex->netns_fd = n->pool[--n->pool_len];
	else if (!ctx->cfg.netns_reuse || netns_make(ctx, false, &ex->netns_fd) < 0)
		return 0;
	ex->netns_ours = true;
	return 0;
}

static int net_child(const struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	/* Only a namespace cloned for this run needs lo brought up; a pooled
	 * one already has it (and we hold no capability there). */
	if (ex->req->network || ex->netns_fd >= 0)
		return 0;
	return lo_up();
}

/* Does /proc/thread-self/net/<file> (sockstat, sockstat6) count nothing
 * of the namespace the thread is in: every "used", "inuse" and "tw" 0?
 * These are per-namespace counters, read in O(1): "sockets: used" counts
 * every socket of any family a process made here (unix, packet, netlink,
 * ping included), "inuse" the hashed ones per protocol, "tw" TCP's
 * TIME_WAIT, "FRAG: inuse" fragments being reassembled. (Listing the
 * sockets in /proc/net/tcp instead walks the host's whole TCP hash: a
 * fifth of the spawner's time.) A file the kernel lacks (no IPv6) counts
 * nothing; any other failure is a doubt. */
static bool counts_nothing(const char *file)
{
	static const char *const counters[] = {" used ", " inuse ", " tw "};
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/thread-self/net/%s", file);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0 || n == (ssize_t)sizeof(buf) - 1)
		return false;
	buf[n] = '\0';
	for (size_t i = 0; i < SBX_ARRAY_SIZE(counters); i++)
		for (const char *p = strstr(buf, counters[i]); p; p = strstr(p + 1, counters[i]))
			if (p[strlen(counters[i])] != '0' ||
			    !strchr(" \n", p[strlen(counters[i]) + 1]))
				return false;
	return true;
}

/* Does the namespace hold nothing an execution left? Checked from inside
 * it (the spawner steps in and back). The check's own socket (lo_flags)
 * is closed before the counters are read. */
static bool netns_empty(struct sbx_ctx *ctx, int fd)
{
	if (setns(fd, CLONE_NEWNET) < 0)
		return false;
	short flags = 0;
	bool empty = lo_flags(false, &flags) == 0 && (flags & IFF_UP) &&
		     counts_nothing("sockstat") && counts_nothing("sockstat6");
	if (sbx_net_enter_host(ctx) < 0)
		abort(); /* the spawner cannot stay in a sandbox's namespace */
	return empty;
}

/* Reused only when every process of the sandbox is gone (its init was
 * reaped: the kernel had already killed the rest) and nothing is left. */
static void net_teardown(struct sbx_ctx *ctx, struct sbx_exec *ex, Sbx__ExecResult *res)
{
	struct sbx_net *n = ctx->net;
	sbx_net_bridge_down(ex->bridge_ifindex);
	ex->bridge_ifindex = 0;
	if (ex->netns_fd >= 0 && ex->netns_ours && ctx->cfg.netns_reuse && ex->reaped &&
	    n->pool_len < n->pool_cap && netns_empty(ctx, ex->netns_fd)) {
		n->pool[n->pool_len++] = ex->netns_fd;
		ex->netns_fd = -1;
		return;
	}
	if (ex->netns_fd >= 0)
		close(ex->netns_fd);
	ex->netns_fd = -1;
}

/* The daemon's side (engine.h): both run on the calling thread, which
 * steps into a namespace and back; a network namespace is per thread, so
 * the process's other threads never notice. */
static void netns_return(int home)
{
	if (setns(home, CLONE_NEWNET) < 0)
		abort(); /* this thread would go on inside a sandbox's netns */
	close(home);
}

int sbx_engine_netns_new(int *ret_fd)
{
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return -errno;
	if (unshare(CLONE_NEWNET) < 0) {
		int r = -errno;
		close(home);
		return r;
	}
	int r = lo_up();
	int fd = r < 0 ? -1 : open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (r == 0 && fd < 0)
		r = -errno;
	netns_return(home);
	if (r < 0)
		return r;
	*ret_fd = fd;
	return 0;
}

int sbx_engine_netns_socket(int netns_fd, int domain, int type)
{
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return -errno;
	if (setns(netns_fd, CLONE_NEWNET) < 0) {
		int r = -errno;
		close(home);
		return r;
	}
	int s = socket(domain, type | SOCK_CLOEXEC, 0);
	int r = s < 0 ? -errno : s;
	netns_return(home);
	return r;
}

const struct sbx_module sbx_net_module = {
	.name = "net",
	.init = net_init,
	.fini = net_fini,
	.prepare = net_prepare,
	.child = net_child,
	.teardown = net_teardown,
};
