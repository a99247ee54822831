/* See node.h. */
#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/host.h"
#include "daemon.h"
#include "engine.h"
#include "envelope.h"
#include "executor.h"
#include "fdio.h"
#include "log.h"
#include "nodeid.h"
#include "objects/objects.h"
#include "objects/registry.h"
#include "tunnel/tunnel.h"

#define ID_FILE "node-id"

struct sbx_node {
	/* The memory limit and usage files of sandboxd's own cgroup; ""
	 * when it has none (or they are not visible). */
	char limit[PATH_MAX], usage[PATH_MAX];
};

/* <state_dir>/node-id: 0 with the id (trailing newline dropped), -ENOENT,
 * or -EINVAL with err set. */
static int read_id(const char *path, char *id, size_t idlen, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(id, 1, idlen - 1, f);
	fclose(f);
	id[n] = 0;
	id[strcspn(id, "\r\n")] = 0;
	if (!sbx_node_id_valid(id)) {
		snprintf(err, errlen,
			 "%s does not hold a valid node id ('%.80s'): fix it, or remove it to make a "
			 "new one (ids this node made before then no longer name it)",
			 path, id);
		return -EINVAL;
	}
	return 0;
}

/* Write id to path through a temporary file and rename, so that a crash
 * leaves either no file or the whole id, never half of one. */
static int write_id(const char *path, const char *id)
{
	char tmp[PATH_MAX], line[SBX_NODE_ID_MAX + 2];
	int fd, r = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	snprintf(line, sizeof(line), "%.*s\n", SBX_NODE_ID_MAX, id); /* valid ids fit */
	if (fchmod(fd, 0644) < 0 || (r = sbx_write_full(fd, line, strlen(line))) < 0 ||
	    fsync(fd) < 0)
		r = r < 0 ? r : -errno;
	close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int sbx_node_identity(struct sbx_config *c, char *err, size_t errlen)
{
	char path[PATH_MAX], id[SBX_NODE_ID_MAX + 2];
	int r = 0;

	if (!*c->node_id) {
		if ((size_t)snprintf(path, sizeof(path), "%s/" ID_FILE, c->state_dir) >=
		    sizeof(path)) {
			snprintf(err, errlen, "the state directory's path is too long");
			return -ENAMETOOLONG;
		}
		r = read_id(path, id, sizeof(id), err, errlen);
		if (r == -ENOENT) {
			sbx_tagged_uuid(NULL, id);
			r = write_id(path, id);
			if (r < 0)
				snprintf(err, errlen, "cannot keep the new node id in %s: %s", path,
					 strerror(-r));
			else
				log_info("made node id %s, kept in %s", id, path);
		} else if (r < 0 && r != -EINVAL) {
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(-r));
		}
		if (r < 0)
			return r;
		free(c->node_id);
		if (!(c->node_id = strdup(id)))
			return -ENOMEM;
	}
	sbx_node_tag(c->node_id, c->node_tag);
	return 0;
}

bool sbx_node_url_local(const char *url)
{
	const char *h = strstr(url, "://"), *end;
	size_t n;

	if (!h || strncmp(url, "ipc://", 6) == 0 || strncmp(url, "inproc://", 9) == 0 ||
	    strncmp(url, "abstract://", 11) == 0)
		return true;
	h += 3;
	if (*h == '[') {
		end = strchr(++h, ']');
		n = end ? (size_t)(end - h) : 0;
		return n == 3 && strncmp(h, "::1", 3) == 0;
	}
	end = strrchr(h, ':');
	n = end ? (size_t)(end - h) : strlen(h);
	return (n == 9 && strncmp(h, "localhost", 9) == 0) ||
	       (n > 4 && strncmp(h, "127.", 4) == 0);
}

void sbx_node_warn_exposure(const struct sbx_config *c)
{
	const char *fix = "set --cluster-key (SANDBOX_CLUSTER_KEY) or --cluster-key-file "
			  "(SANDBOX_CLUSTER_KEY_FILE), or listen on loopback only";

	/* Said with or without a key: the key does not cover events. */
	if (!sbx_node_url_local(c->events_url))
		log_info("events are published on %s, beyond loopback: they carry programs' output "
			 "and nng pub has no authentication, so keep that address on the internal "
			 "network",
			 c->events_url);
	if (*c->cluster_key)
		return;
	if (!sbx_node_url_local(c->rpc_url))
		log_warn("RPC listens on %s, beyond loopback, without a cluster key: RPC runs code, "
			 "so anyone who reaches that address can run code on this host; %s",
			 c->rpc_url, fix);
	if (*c->tunnel_url && !sbx_node_url_local(c->tunnel_url))
		log_warn("the proxy tunnel listens on %s, beyond loopback, without a cluster key: "
			 "anyone who reaches it reaches this node's deployments and dev servers; %s",
			 c->tunnel_url, fix);
}

/* The files of sandboxd's memory cgroup (v2, else v1) that exist. */
static void find_cgroup_files(struct sbx_node *n)
{
	char own[PATH_MAX / 2];
	bool v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
	const char *base = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";

	if (sbx_engine_own_cgroup(v2 ? NULL : "memory", own, sizeof(own)) < 0)
		return;
	snprintf(n->limit, sizeof(n->limit), "%s%s/%s", base, own,
		 v2 ? "memory.max" : "memory.limit_in_bytes");
	snprintf(n->usage, sizeof(n->usage), "%s%s/%s", base, own,
		 v2 ? "memory.current" : "memory.usage_in_bytes");
	if (access(n->limit, R_OK) == 0 && access(n->usage, R_OK) == 0)
		return;
	/* In a container with its own cgroup namespace the path read is
	 * not below the mount: the mount's root is the cgroup itself. */
	snprintf(n->limit, sizeof(n->limit), "%s/%s", base,
		 v2 ? "memory.max" : "memory.limit_in_bytes");
	snprintf(n->usage, sizeof(n->usage), "%s/%s", base,
		 v2 ? "memory.current" : "memory.usage_in_bytes");
	if (access(n->limit, R_OK) < 0 || access(n->usage, R_OK) < 0)
		n->limit[0] = n->usage[0] = 0;
}

struct sbx_node *sbx_node_new(void)
{
	struct sbx_node *n = calloc(1, sizeof(*n));

	if (n)
		find_cgroup_files(n);
	return n;
}

void sbx_node_free(struct sbx_node *n)
{
	free(n);
}

/* A cgroup file's number; false for "max" (no limit) or no file. */
static bool read_u64(const char *path, uint64_t *ret)
{
	char buf[64];
	FILE *f = *path ? fopen(path, "re") : NULL;
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, sizeof(buf), f) && sscanf(buf, "%" SCNu64, ret) == 1;
	fclose(f);
	return ok;
}

int sbx_node_memory(const char *meminfo, const char *limit_file, const char *usage_file,
		    uint64_t *ret_total_mb, uint64_t *ret_avail_mb)
{
	double used = 0, total = 0;
	uint64_t limit, usage, total_mb, avail_mb;
	int r = sbx_host_memory(meminfo, &used, &total);

	if (r < 0)
		return r;
	total_mb = (uint64_t)total;
	avail_mb = (uint64_t)(total - used);
	/* v1 says "no limit" as a huge number, v2 as "max" (not read). */
	if (read_u64(limit_file, &limit) && limit / (1024 * 1024) < total_mb &&
	    read_u64(usage_file, &usage)) {
		total_mb = limit / (1024 * 1024);
		usage = usage < limit ? (limit - usage) / (1024 * 1024) : 0;
		avail_mb = usage < avail_mb ? usage : avail_mb;
	}
	*ret_total_mb = total_mb;
	*ret_avail_mb = avail_mb;
	return 0;
}

Sbx__Node *sbx_node_load(struct sbx_daemon *d)
{
	Sbx__Node *m = (Sbx__Node *)sbx_message_new(&sbx__node__descriptor);
	struct sbx_executor_stats xs = {0};
	struct sbx_objects *o = d->objects;

	if (!m)
		return NULL;
	m->id = strdup(d->cfg.node_id ? d->cfg.node_id : "");
	m->tag = strdup(d->cfg.node_tag);
	if (!m->id || !m->tag) {
		protobuf_c_message_free_unpacked(&m->base, NULL);
		return NULL;
	}
	if (d->exec)
		sbx_executor_stats(d->exec, &xs);
	m->running = xs.running;
	m->queued = xs.queued;
	m->slots = d->cfg.max_concurrent;
	if (o && sbx_objects_enter(o) == 0) {
		m->objects = (uint32_t)(sbx_registry_count(o->sandboxes) +
					sbx_registry_count(o->sessions) +
					sbx_registry_count(o->deployments));
		sbx_objects_leave(o);
	}
	if (d->node)
		sbx_node_memory("/proc/meminfo", d->node->limit, d->node->usage,
				&m->memory_total_mb, &m->memory_available_mb);
	m->tunnel_port = sbx_tunnel_port(d->tunnel);
	return m;
}

int sbx_node_list(struct sbx_daemon *d, Sbx__Node ***ret_nodes, size_t *ret_n)
{
	Sbx__Node **v = calloc(1, sizeof(*v));

	if (!v || !(v[0] = sbx_node_load(d))) {
		free(v);
		return -ENOMEM;
	}
	v[0]->up = true;
	*ret_nodes = v;
	*ret_n = 1;
	return 0;
}
