/* The bridge's firewall (firewall.c): one nftables table per daemon
 * instance, `inet sandboxd_<instance>`, written through libnftables (no
 * fork/exec of nft). Created at start after deleting a stale table of the
 * same name (what a killed daemon left), deleted by sbx_fw_close. */
#ifndef SBX_FIREWALL_H
#define SBX_FIREWALL_H

#include <stdbool.h>
#include <stdint.h>

#include "egress.h"

struct sbx_fw;

struct sbx_fw_config {
	const char *instance; /* 1-4 of [a-z0-9] */
	uint32_t subnet;      /* host order */
	uint8_t prefix;
	uint16_t dns_port;			 /* the resolver's UDP port on the host */
	uint32_t max_connections;		 /* per sandbox address */
	const struct sbx_egress_policy *egress;	 /* for every sandbox with network */
	const struct sbx_egress_policy *install; /* added for sandboxes installing */
};

/* Build the table. 0 with *ret, or a negative errno with libnftables'
 * message (its first line) in err. */
int sbx_fw_open(const struct sbx_fw_config *cfg, struct sbx_fw **ret, char *err, size_t errlen);

/* Delete the table and free. NULL is a no-op. */
void sbx_fw_close(struct sbx_fw *fw);

/* Allow addr (host order) for `timeout_s` seconds, on `port` (0 = every
 * port), to every sandbox (install false) or to installing ones.
 * Thread-safe. 0 or -EIO. */
int sbx_fw_allow_resolved(struct sbx_fw *fw, bool install, uint32_t addr, uint16_t port,
			  uint32_t timeout_s);

/* Add or remove a sandbox address of the installing set. Thread-safe. */
int sbx_fw_installing(struct sbx_fw *fw, uint32_t addr, bool on);

/* The interface name prefix of this instance's sandboxes: "sbx<instance>." */
void sbx_fw_ifprefix(const char *instance, char out[16]);

#endif
