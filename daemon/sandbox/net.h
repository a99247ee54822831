/* The network namespace (net.c): a pool of fresh, never-used namespaces. */
#ifndef SBX_NET_H
#define SBX_NET_H

#include <stdbool.h>

struct sbx_ctx;

/* Idle-time work (spawner.c calls it when epoll has nothing): top up the
 * netns pool. Returns true if it did something. */
bool sbx_net_refill(struct sbx_ctx *ctx);

#endif
