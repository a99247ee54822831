#include "admin_rpc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "admin.pb-c.h"
#include "api.pb-c.h"
#include "clock.h"
#include "daemon_config.h"
#include "daemon.h"
#include "envelope.h"
#include "executor.h"
#include "host.h"
#include "node.h"
#include "objects.h"
#include "registry.h"
#include "sandbox_obj.h"
#include "store.h"
#include "volume.h"

#define LINES_DEFAULT 100
#define LINES_MAX 1000
/* AdminForceStop waits this long for the stopped execution to end. */
#define STOP_WAIT_MS 2000
/* The workspace walk of AdminSandboxResources stops after this many
 * entries or this depth: the figure is then a lower bound. */
#define WALK_MAX_ENTRIES 100000
#define WALK_MAX_DEPTH 64

/* The objects, held open for the call. */
#define ENTER(d, call)                                                                             \
	sbx_objects_enter_call((d)->admin ? (d)->objects : NULL, (call),                           \
			       "the admin API is not available")

#define NEW(type, desc) ((type *)sbx_message_new(&(desc)))

/* The part of a handler that runs with the objects held open. */
typedef int held_fn(struct sbx_daemon *d, struct sbx_objects *o, struct sbx_rpc_call *call,
		    const ProtobufCMessage *req, ProtobufCMessage **ret);

/* Runs fn with the objects held open for the call. */
static int held(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
		ProtobufCMessage **ret, held_fn *fn)
{
	struct sbx_daemon *d = state;
	struct sbx_objects *o = ENTER(d, call);
	int rv;

	if (!o)
		return -ESHUTDOWN;
	rv = fn(d, o, call, req, ret);
	sbx_objects_leave(o);
	return rv;
}

static int done(ProtobufCMessage *m, ProtobufCMessage **ret)
{
	if (!m)
		return -ENOMEM;
	*ret = m;
	return 0;
}

static Sbx__AdminUsage *usage_new(double used, double total, double pct)
{
	Sbx__AdminUsage *u = NEW(Sbx__AdminUsage, sbx__admin_usage__descriptor);

	if (u) {
		u->used = used;
		u->total = total;
		u->percentage = pct;
	}
	return u;
}

/* "native" -> "Native": the document's spelling ("Docker|Nsjail"). */
static char *backend_word(const char *name)
{
	char *s = strdup(name ? name : "");

	if (s && *s)
		s[0] = (char)toupper((unsigned char)s[0]);
	return s;
}

SBX_ADMIN_HANDLER(sbx_rpc_admin_status)
{
	struct sbx_daemon *d = state;
	struct sbx_objects *o = ENTER(d, call);
	Sbx__AdminStatusReply *r;
	double used = 0, total = 0;
	int64_t created = 0;

	if (!o)
		return -ESHUTDOWN;
	r = NEW(Sbx__AdminStatusReply, sbx__admin_status_reply__descriptor);
	if (r) {
		r->uptime = (sbx_clock_mono_ms() - d->started_ms) / 1000;
		r->active_sandboxes = (uint32_t)sbx_registry_count(o->sandboxes);
		if (sbx_store_counter_add(o->store, "sandboxes_created", 0, &created) == 0 &&
		    created > 0)
			r->total_sandboxes_created = (uint64_t)created;
		r->backend_type = backend_word(d->cfg.backend);
		r->version = strdup(SBX_VERSION);
		/* A host without /proc/meminfo reports zeros rather than fail
		 * the whole status. */
		sbx_host_memory("/proc/meminfo", &used, &total);
		r->memory_usage = usage_new(used, total, total > 0 ? 100.0 * used / total : 0.0);
		double cpu = sbx_admin_cpu_percent(d->admin);
		r->cpu_usage = usage_new(cpu, 100.0, cpu);
		if (!r->backend_type || !r->version || !r->memory_usage || !r->cpu_usage ||
		    sbx_node_list(d, &r->nodes, &r->n_nodes) < 0 ||
		    sbx_executor_warm_pools(d->exec, &r->warm_pools, &r->n_warm_pools) < 0) {
			protobuf_c_message_free_unpacked(&r->base, NULL);
			r = NULL;
		}
	}
	sbx_objects_leave(o);
	return done(r ? &r->base : NULL, ret);
}

/* seconds since an ISO 8601 UTC time of sbx_iso8601. */
static uint64_t age_s(const char *iso)
{
	struct tm tm = {0};
	time_t t;

	if (!iso || !strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	t = timegm(&tm);
	return time(NULL) > t ? (uint64_t)(time(NULL) - t) : 0;
}

/* The admin view of a sandbox: its object plus its last execution's
 * figures. */
static Sbx__AdminSandbox *admin_sandbox(struct sbx_daemon *d, const Sbx__Sandbox *s)
{
	Sbx__AdminSandbox *a = NEW(Sbx__AdminSandbox, sbx__admin_sandbox__descriptor);
	struct sbx_output_figures fig;

	if (!a)
		return NULL;
	a->id = strdup(s->id);
	a->status = strdup(s->status);
	a->runtime = strdup(s->runtime);
	a->created_at = strdup(s->created_at);
	a->uptime = age_s(s->created_at);
	a->is_persistent = strcmp(s->mode, "persistent") == 0;
	/* A dev server is reached through the gateway's proxy, on port 3000
	 * of the sandbox's own loopback. No containers (native backend):
	 * container_id stays "", which the gateway prints as null. */
	char *url = NULL;

	if (s->dev_server && asprintf(&url, "/proxy/%s/", s->id) >= 0)
		a->dev_server_url = url;
	if (a->is_persistent)
		a->allocated_port = 3000;
	if (sbx_outputs_figures(sbx_admin_outputs(d->admin), s->id, &fig) == 0) {
		a->memory_mb = (double)fig.memory_peak_kb / 1024.0;
		a->cpu_percentage = fig.wall_time_ms ? 100.0 * (double)fig.cpu_time_ms /
							       (double)fig.wall_time_ms
						     : 0.0;
	}
	if (!a->id || !a->status || !a->runtime || !a->created_at) {
		protobuf_c_message_free_unpacked(&a->base, NULL);
		return NULL;
	}
	return a;
}

SBX_ADMIN_HANDLER(sbx_rpc_admin_list_sandboxes)
{
	struct sbx_daemon *d = state;
	struct sbx_objects *o = ENTER(d, call);
	Sbx__ListSandboxesReply *list = NULL;
	Sbx__AdminListSandboxesReply *r = NULL;
	int rv;

	if (!o)
		return -ESHUTDOWN;
	rv = sbx_sandbox_list(o, call, &list);
	if (rv == 0) {
		r = NEW(Sbx__AdminListSandboxesReply, sbx__admin_list_sandboxes_reply__descriptor);
		if (r)
			r->sandboxes = calloc(list->n_sandboxes + 1, sizeof(*r->sandboxes));
		for (size_t i = 0; r && r->sandboxes && i < list->n_sandboxes; i++) {
			r->sandboxes[i] = admin_sandbox(d, list->sandboxes[i]);
			if (!r->sandboxes[i])
				break;
			r->n_sandboxes++;
		}
		if (r && r->n_sandboxes < list->n_sandboxes) {
			protobuf_c_message_free_unpacked(&r->base, NULL);
			r = NULL;
		}
		protobuf_c_message_free_unpacked(&list->base, NULL);
		rv = done(r ? &r->base : NULL, ret);
	}
	sbx_objects_leave(o);
	return rv;
}

SBX_ADMIN_HANDLER(sbx_rpc_admin_get_sandbox)
{
	struct sbx_daemon *d = state;
	struct sbx_objects *o = ENTER(d, call);
	const Sbx__AdminSandboxRequest *q = (const Sbx__AdminSandboxRequest *)req;
	Sbx__Sandbox *s = NULL;
	int rv;

	if (!o)
		return -ESHUTDOWN;
	rv = sbx_sandbox_get(o, call, q->id, &s);
	if (rv == 0) {
		Sbx__AdminSandbox *a = admin_sandbox(d, s);

		protobuf_c_message_free_unpacked(&s->base, NULL);
		rv = done(a ? &a->base : NULL, ret);
	}
	sbx_objects_leave(o);
	return rv;
}

static bool is_running(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
		       int *ret_err)
{
	Sbx__SandboxState st;

	*ret_err = sbx_sandbox_state(o, call, id, &st);
	return *ret_err == 0 && st == SBX__SANDBOX_STATE__SANDBOX_RUNNING;
}

static int stop_reply(bool success, const char *msg, const char *id, ProtobufCMessage **ret)
{
	Sbx__AdminForceStopReply *r =
		NEW(Sbx__AdminForceStopReply, sbx__admin_force_stop_reply__descriptor);

	if (!r)
		return -ENOMEM;
	r->success = success;
	if (asprintf(&r->message, msg, id) < 0) {
		r->message = NULL;
		protobuf_c_message_free_unpacked(&r->base, NULL);
		return -ENOMEM;
	}
	*ret = &r->base;
	return 0;
}

/* Stop the sandbox's execution and wait (bounded) until the sandbox has
 * taken note. The cancel is repeated while waiting: a sandbox marked
 * running may not have reached the executor yet. */
static int force_stop(struct sbx_daemon *d, struct sbx_objects *o, struct sbx_rpc_call *call,
		      const ProtobufCMessage *req, ProtobufCMessage **ret)
{
	const char *id = ((const Sbx__AdminSandboxRequest *)req)->id;
	int64_t until = sbx_clock_mono_ms() + STOP_WAIT_MS;
	bool stopped = false;
	int err = 0, n;

	if (!is_running(o, call, id, &err))
		return err < 0 ? err
			       : stop_reply(true, "Sandbox %s is not running: nothing to stop", id,
					    ret);
	while (sbx_clock_mono_ms() < until) {
		n = sbx_executor_cancel(d->exec, id);
		if (n == -EOPNOTSUPP)
			return stop_reply(false, "The backend of sandbox %s cannot stop executions",
					  id, ret);
		stopped |= n > 0;
		if (!is_running(o, call, id, &err))
			break;
		nanosleep(&(struct timespec){.tv_nsec = 20 * 1000000}, NULL);
	}
	if (err == -ENOENT) /* deleted meanwhile: stopped all the same */
		return stop_reply(true, "Sandbox %s stopped and deleted", id, ret);
	if (is_running(o, call, id, &err))
		return stop_reply(false, "Sandbox %s is still stopping", id, ret);
	sbx_log(SBX_LOG_WARN, id, "force-stopped by an administrator");
	return stop_reply(true, stopped ? "Sandbox %s stopped" : "Sandbox %s had already finished",
			  id, ret);
}

SBX_ADMIN_HANDLER(sbx_rpc_admin_force_stop)
{
	return held(state, call, req, ret, force_stop);
}

struct walk {
	uint64_t bytes;
	unsigned entries;
};

/* Disk use below dirfd, without following symlinks (the workspace is
 * the sandbox user's: it may point anywhere). */
static void walk_dir(int dirfd, unsigned depth, struct walk *w)
{
	DIR *dir = fdopendir(dirfd);
	struct dirent *e;

	if (!dir) {
		close(dirfd);
		return;
	}
	while (w->entries < WALK_MAX_ENTRIES && (e = readdir(dir))) {
		struct stat st;
		int fd;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		w->entries++;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		w->bytes += (uint64_t)st.st_blocks * 512;
		if (!S_ISDIR(st.st_mode) || depth >= WALK_MAX_DEPTH)
			continue;
		fd = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			walk_dir(fd, depth + 1, w);
	}
	closedir(dir);
}

/* The sandbox's disk: its volume's file system (statvfs: used, limit and
 * percentage in MB), or, for a sandbox made before disk limits, its
 * workspace walked (no limit: 0). */
static void disk_figures(struct sbx_objects *o, const char *id, Sbx__AdminDisk *disk)
{
	struct sbx_volume_usage u;
	char img[4096], vol[4096], path[4096];
	struct walk w = {0};
	int fd;

	snprintf(img, sizeof(img), "%s/%s/disk.img", o->sandboxes_dir, id);
	snprintf(vol, sizeof(vol), "%s/%s/vol", o->sandboxes_dir, id);
	if (sbx_volume_usage(img, vol, &u) == 0) {
		disk->used = (double)u.used / (1024.0 * 1024.0);
		disk->limit = (double)u.limit / (1024.0 * 1024.0);
		disk->percentage = u.limit ? 100.0 * (double)u.used / (double)u.limit : 0.0;
		return;
	}
	snprintf(path, sizeof(path), "%s/%s/workspace", o->sandboxes_dir, id);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		walk_dir(fd, 0, &w);
	disk->used = (double)w.bytes / (1024.0 * 1024.0);
}

/* Real figures: memory used (the last execution's peak) and limit, CPU
 * share of the last execution, cores, disk used, limit and percentage
 * (the sandbox's volume). Zeros: disk read/write bytes (no per-sandbox
 * I/O accounting is kept), network (executions have no network: loopback
 * only). */
static int resources(struct sbx_daemon *d, struct sbx_objects *o, struct sbx_rpc_call *call,
		     const ProtobufCMessage *req, ProtobufCMessage **ret)
{
	const char *id = ((const Sbx__AdminSandboxRequest *)req)->id;
	Sbx__AdminResources *r;
	struct sbx_output_figures fig = {0};
	Sbx__Sandbox *s = NULL;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int rv = sbx_sandbox_get(o, call, id, &s);

	if (rv < 0)
		return rv;
	sbx_outputs_figures(sbx_admin_outputs(d->admin), id, &fig);
	r = NEW(Sbx__AdminResources, sbx__admin_resources__descriptor);
	if (r) {
		r->memory = NEW(Sbx__AdminMemory, sbx__admin_memory__descriptor);
		r->cpu = NEW(Sbx__AdminCpu, sbx__admin_cpu__descriptor);
		r->disk = NEW(Sbx__AdminDisk, sbx__admin_disk__descriptor);
		r->network = NEW(Sbx__AdminNetwork, sbx__admin_network__descriptor);
		if (!r->memory || !r->cpu || !r->disk || !r->network) {
			protobuf_c_message_free_unpacked(&r->base, NULL);
			r = NULL;
		}
	}
	if (r) {
		r->memory->used = (double)fig.memory_peak_kb / 1024.0;
		r->memory->limit = s->memory_limit_mb;
		r->memory->percentage =
			s->memory_limit_mb ? 100.0 * r->memory->used / s->memory_limit_mb : 0.0;
		r->cpu->percentage = fig.wall_time_ms ? 100.0 * (double)fig.cpu_time_ms /
								(double)fig.wall_time_ms
						      : 0.0;
		r->cpu->cores = cores > 0 ? (uint32_t)cores : 1;
		disk_figures(o, s->id, r->disk);
	}
	protobuf_c_message_free_unpacked(&s->base, NULL);
	return done(r ? &r->base : NULL, ret);
}

SBX_ADMIN_HANDLER(sbx_rpc_admin_sandbox_resources)
{
	return held(state, call, req, ret, resources);
}

/* 0 = the default; more than the maximum is cut to it (a page asking for
 * "everything" gets what there is). */
static size_t lines_wanted(uint32_t n)
{
	return n == 0 ? LINES_DEFAULT : n > LINES_MAX ? LINES_MAX : n;
}

static const char *level_word(enum sbx_log_level l)
{
	static const char *const words[] = {"ERROR", "WARN", "INFO", "DEBUG"};

	return (unsigned)l < sizeof(words) / sizeof(words[0]) ? words[l] : "INFO";
}

/* A line's id is shown as sandbox_id when it names a sandbox that exists
 * (ids of sessions and executions have the same shape). */
static bool is_sandbox(struct sbx_objects *o, const char *id)
{
	struct sbx_obj *obj;

	if (!*id || !sbx_id_valid(id))
		return false;
	obj = sbx_registry_get(o->sandboxes, id);
	sbx_obj_unref(obj);
	return obj != NULL;
}

static int system_logs(struct sbx_daemon *d, struct sbx_objects *o, struct sbx_rpc_call *call,
		       const ProtobufCMessage *req, ProtobufCMessage **ret)
{
	size_t n = lines_wanted(((const Sbx__AdminLogsRequest *)req)->lines);
	struct sbx_logring_line *lines = calloc(n, sizeof(*lines));
	Sbx__AdminLogsReply *r = NEW(Sbx__AdminLogsReply, sbx__admin_logs_reply__descriptor);
	size_t got;

	if (!lines || !r || !(r->lines = calloc(n, sizeof(*r->lines)))) {
		free(lines);
		if (r)
			protobuf_c_message_free_unpacked(&r->base, NULL);
		return -ENOMEM;
	}
	got = sbx_logring_tail(sbx_admin_logs(d->admin), n, lines);
	for (size_t i = 0; i < got; i++) {
		const struct sbx_logring_line *l = &lines[i];
		Sbx__AdminLogLine *m =
			sbx_log_line_new(l->ms, level_word(l->level), l->msg, strlen(l->msg),
					 is_sandbox(o, l->id) ? l->id : "");

		if (!m) {
			free(lines);
			protobuf_c_message_free_unpacked(&r->base, NULL);
			return -ENOMEM;
		}
		r->lines[r->n_lines++] = m;
	}
	free(lines);
	*ret = &r->base;
	return 0;
}

SBX_ADMIN_HANDLER(sbx_rpc_admin_logs)
{
	return held(state, call, req, ret, system_logs);
}

static int sandbox_logs(struct sbx_daemon *d, struct sbx_objects *o, struct sbx_rpc_call *call,
			const ProtobufCMessage *req, ProtobufCMessage **ret)
{
	const Sbx__AdminSandboxLogsRequest *q = (const Sbx__AdminSandboxLogsRequest *)req;
	Sbx__AdminLogsReply *r;
	Sbx__Sandbox *s = NULL;
	int rv = sbx_sandbox_get(o, call, q->id, &s);

	if (rv < 0)
		return rv;
	protobuf_c_message_free_unpacked(&s->base, NULL);
	r = NEW(Sbx__AdminLogsReply, sbx__admin_logs_reply__descriptor);
	if (!r)
		return -ENOMEM;
	rv = sbx_outputs_lines(sbx_admin_outputs(d->admin), q->id, lines_wanted(q->lines), r);
	if (rv < 0) {
		protobuf_c_message_free_unpacked(&r->base, NULL);
		return rv;
	}
	*ret = &r->base;
	return 0;
}

SBX_ADMIN_HANDLER(sbx_rpc_admin_sandbox_logs)
{
	return held(state, call, req, ret, sandbox_logs);
}
