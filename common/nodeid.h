/* Node ids and the ids of what a node holds (cluster mode, README
 * "Cluster"). Every node has a stable id (state_dir/node-id, or --node-id)
 * and a tag: 8 hex digits derived from the id. Every id a node makes
 * (sandboxes, sessions, deployments, executions) is a lowercase UUID whose
 * first 8 hex digits are the node's tag, so any client that knows the
 * nodes' tags routes an id to its owner without shared state. */
#ifndef SBX_NODEID_H
#define SBX_NODEID_H

#include <stdbool.h>
#include <stddef.h>

/* Longest node id, without its NUL. */
#define SBX_NODE_ID_MAX 63
/* A tag's hex digits, without the NUL. */
#define SBX_NODE_TAG_LEN 8
/* A UUID's text, without the NUL. */
#define SBX_UUID_LEN 36

/* A node id is 1..SBX_NODE_ID_MAX of [A-Za-z0-9._-], not starting with
 * '.' or '-'. */
bool sbx_node_id_valid(const char *id);
/* The tag of a node id: FNV-1a 32 of its bytes, as 8 lowercase hex digits
 * and a NUL. */
void sbx_node_tag(const char *node_id, char tag[SBX_NODE_TAG_LEN + 1]);
/* A new random (version 4) UUID in lowercase whose first 8 hex digits are
 * tag; tag NULL or "": a plain random UUID. out: SBX_UUID_LEN + 1 bytes. */
void sbx_tagged_uuid(const char *tag, char out[SBX_UUID_LEN + 1]);
/* The tag an id names: its first 8 characters when id is a UUID's text,
 * else false (a "live-..." log id, a malformed id). */
bool sbx_id_tag(const char *id, char tag[SBX_NODE_TAG_LEN + 1]);

#endif
