/* NETWORK_MODE=bridge in the spawner (net_bridge.c): one sandbox's veth
 * pair, addresses and route, over rtnetlink (no fork/exec of `ip`). The
 * daemon chose the names and addresses (SpawnRequest.bridge) and its
 * firewall governs what passes; this file only plumbs. */
#ifndef SBX_NET_BRIDGE_H
#define SBX_NET_BRIDGE_H

#include "engine.pb-c.h"

struct sbx_ctx;

/* Join the fresh namespace `netns_fd` (lo up, IPv6 off) to the host:
 * the veth b->ifname on the host with host_ip/31 and forwarding on, its
 * peer eth0 inside with sandbox_ip/31 and a default route via host_ip.
 * The calling thread ends in the host's namespace. On failure what was
 * made is removed. 0 with the host end's index, or -errno with a
 * sentence in err. */
int sbx_net_bridge_up(const struct sbx_ctx *ctx, const Sbx__BridgeNet *b, int netns_fd,
		      unsigned *ret_ifindex, char *err, size_t errlen);

/* Delete the host end *ret_ifindex gave (the kernel deletes its peer with
 * it), so that the name and addresses are free at once rather than when
 * the namespace's asynchronous cleanup runs. 0 is a no-op. */
void sbx_net_bridge_down(unsigned ifindex);

/* A new namespace's sysctl: IPv6 off on every interface it will have.
 * Call from inside it. 0 or -errno (-ENOENT: no IPv6 in the kernel is 0). */
int sbx_net_ipv6_off(void);

#endif
