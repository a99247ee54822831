/* Network namespace: unless the request asks for the network, the sandbox
 * gets a namespace of its own whose only interface is loopback, up.
 *
 * Creating a network namespace is one of the costly parts of a clone, so
 * the spawner keeps a few ready, made while it is idle. Each is used by
 * exactly one execution and then dropped: a reused namespace would carry
 * sockets, abstract unix names and TIME_WAIT state from one run into the
 * next. A pooled namespace belongs to the host's user namespace, so the
 * sandbox holds no capability over it at all. A service (engine.h) runs in
 * a namespace the daemon made and passed along instead, with the same
 * properties, so the daemon can connect to the port it listens on. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "module.h"
#include "net.h"
#include "spawner_state.h"

struct sbx_net {
	int host; /* the spawner's own namespace */
	int *pool;
	unsigned pool_len;
};

static int lo_up(void)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return ioctl(s, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

/* Make one namespace: the spawner steps into a new one, sets lo up, keeps
 * a handle on it and steps back. */
static int netns_make(struct sbx_ctx *ctx, int *ret_fd)
{
	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	int r = lo_up();
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
	if (netns_make(ctx, &fd) < 0)
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
	n->pool = calloc(ctx->cfg.netns_pool, sizeof(int));
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
	 * can reach its port; a request for the network wins. */
	if (ex->caller_netns_fd >= 0 && !ex->req->network) {
		ex->netns_fd = ex->caller_netns_fd;
		ex->caller_netns_fd = -1;
		return 0;
	}
	struct sbx_net *n = ctx->net;
	if (ex->req->network || n->pool_len == 0)
		return 0;
	ex->netns_fd = n->pool[--n->pool_len];
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

static void net_teardown(struct sbx_ctx *ctx, struct sbx_exec *ex, Sbx__ExecResult *res)
{
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
