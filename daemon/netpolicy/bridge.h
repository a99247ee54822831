/* NETWORK_MODE=bridge on the daemon's side (bridge.c): the sandboxes'
 * addresses (one /31 of SANDBOX_BRIDGE_SUBNET each), the firewall
 * (firewall.c) and the resolver (dns.c). The spawner plumbs each link
 * (daemon/sandbox/net_bridge.c) from what sbx_bridge_acquire hands out. */
#ifndef SBX_BRIDGE_H
#define SBX_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "engine.pb-c.h"

struct sbx_config;
struct sbx_bridge;

/* Parse the settings, write the sandboxes' resolv.conf under the state
 * dir, build the firewall (replacing a stale table of this instance) and
 * start the resolver thread. Call after the engine forked its spawner.
 * 0 with *ret, or a negative errno with one sentence in err. */
int sbx_bridge_new(const struct sbx_config *cfg, struct sbx_bridge **ret, char *err, size_t errlen);

/* Stop the resolver, delete the firewall table. NULL is a no-op. */
void sbx_bridge_free(struct sbx_bridge *b);

/* A link for one sandbox: *ret (to free with sbx__bridge_net__free_unpacked
 * after sbx_bridge_release) and in *ret_resolv the host file to bind at
 * /etc/resolv.conf (the bridge's, valid as long as it). An install phase
 * (install true) may also reach SANDBOX_INSTALL_ALLOW. 0, -EAGAIN when
 * every /31 of the subnet is in use, -ENOMEM, -EIO (firewall). */
int sbx_bridge_acquire(struct sbx_bridge *b, bool install, Sbx__BridgeNet **ret,
		       const char **ret_resolv);

/* Give the link's /31 back once its sandbox is gone (the engine's run
 * returned: the spawner deleted the veth). NULL is a no-op. */
void sbx_bridge_release(struct sbx_bridge *b, const Sbx__BridgeNet *net, bool install);

#endif
