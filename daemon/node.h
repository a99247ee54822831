/* This node in a cluster (README "Cluster"): its identity (the node id,
 * given or kept in state_dir/node-id, and the tag every id it makes starts
 * with), its load as the Node message of Health, GetStats and AdminStatus,
 * and the start-up warnings about what it exposes. */
#ifndef SBX_NODE_H
#define SBX_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.pb-c.h"

struct sbx_config;
struct sbx_daemon;
struct sbx_node;

/* Settle c->node_id and c->node_tag: the id given (--node-id), else the
 * one in <state_dir>/node-id, else a new UUID written there (atomically,
 * 0644) and kept from then on. Call once, before any thread reads c. 0,
 * or -errno with one sentence in err (an unreadable or invalid file, a
 * state directory that cannot be written). */
int sbx_node_identity(struct sbx_config *c, char *err, size_t errlen);

/* Whether an nng or tcp:// URL listens on loopback or a local socket
 * only (ipc://, inproc://, tcp://127.x, tcp://[::1], tcp://localhost). */
bool sbx_node_url_local(const char *url);
/* Log a warning for RPC or the tunnel listening beyond loopback without a
 * cluster key, and a note for events published beyond loopback. */
void sbx_node_warn_exposure(const struct sbx_config *c);

/* What Health asks often: the cgroup memory files of sandboxd, found once
 * (no walk at each call). NULL on -ENOMEM; free with sbx_node_free. */
struct sbx_node *sbx_node_new(void);
void sbx_node_free(struct sbx_node *n);

/* MemTotal and MemAvailable of `meminfo` in MB, lowered to the cgroup's
 * limit and to what is left under it when limit_file (memory.max or
 * memory.limit_in_bytes) holds a lower limit than MemTotal and usage_file
 * (memory.current or memory.usage_in_bytes) is readable; "" or "max": no
 * limit. Paths are parameters so that tests can feed files. 0 or -errno
 * (no meminfo). */
int sbx_node_memory(const char *meminfo, const char *limit_file, const char *usage_file,
		    uint64_t *ret_total_mb, uint64_t *ret_avail_mb);

/* This node's Node message (id, tag, load; up = true, address left for
 * the client to fill), cheap enough for Health every 500 ms per gateway:
 * counters under short locks and two or three small /proc and cgroup
 * reads. NULL on -ENOMEM. */
Sbx__Node *sbx_node_load(struct sbx_daemon *d);

/* `*ret_nodes` as a list of one: this node (StatsReply.nodes,
 * AdminStatusReply.nodes). 0 or -ENOMEM. */
int sbx_node_list(struct sbx_daemon *d, Sbx__Node ***ret_nodes, size_t *ret_n);

#endif
