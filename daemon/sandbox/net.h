/* The network namespace (net.c): a pool of fresh, never-used namespaces. */
#ifndef SBX_NET_H
#define SBX_NET_H

#include <stdbool.h>

struct sbx_ctx;

/* net.c's own state (struct sbx_ctx.net): the pool and a handle on the
 * host's namespace, to step back into. Private to net.c. */
struct sbx_net;

/* Idle-time work (spawner.c calls it when epoll has nothing): top up the
 * netns pool. Returns true if it did something. */
bool sbx_net_refill(struct sbx_ctx *ctx);

/* Step the calling thread back into the host's network namespace, after
 * entering a pooled one just for clone() (spawner_exec.c). 0 or -errno. */
int sbx_net_enter_host(const struct sbx_ctx *ctx);

#endif
