#include "objects.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "api.pb-c.h"
#include "cleanup.h"
#include "clock.h"
#include "daemon_config.h"
#include "envelope.h"
#include "executor.h"
#include "files.h"
#include "log.h"
#include "kind.h"
#include "registry.h"
#include "store.h"
#include "volume.h"

char *sbx_iso8601(int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[64];

	gmtime_r(&t, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return strdup(buf);
}

int sbx_iso8601_parse(const char *s, int64_t *ret_ms)
{
	struct tm tm = {0};
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	int64_t ms = 0;
	int digits = 0;

	if (!p || tm.tm_year < 70)
		return -EINVAL;
	if (*p == '.') {
		/* Milliseconds: a shorter fraction is scaled up, a longer one
		 * cut (started_at has three digits). */
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*p - '0');
		if (!digits)
			return -EINVAL;
		for (; digits < 3; digits++)
			ms *= 10;
	}
	if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
		return -EINVAL;
	*ret_ms = (int64_t)timegm(&tm) * 1000 + ms;
	return 0;
}

/* Paths of an object's files: <base>/<id>, and in it either a volume
 * (disk.img mounted on vol/, workspace/ and tmp/ inside) or, without a
 * disk limit, workspace/ and tmp/ themselves. */
static int dir_paths(const char *base, const char *id, bool volume, char **dir, char **ws,
		     char **tmp)
{
	const char *in = volume ? "/vol" : "";

	if (asprintf(dir, "%s/%s", base, id) < 0 || asprintf(ws, "%s%s/workspace", *dir, in) < 0 ||
	    (tmp && asprintf(tmp, "%s%s/tmp", *dir, in) < 0))
		return -ENOMEM;
	return 0;
}

static int volume_paths(const char *dir, char *img, char *vol, size_t len)
{
	if ((size_t)snprintf(img, len, "%s/disk.img", dir) >= len ||
	    (size_t)snprintf(vol, len, "%s/vol", dir) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Make dir's volume of disk_mb MB and mount it. */
static int make_volume(const char *dir, uint32_t disk_mb)
{
	char img[4096], vol[4096];
	int r = volume_paths(dir, img, vol, sizeof(img));

	if (r == 0)
		r = sbx_volume_create(img, disk_mb);
	if (r == 0)
		r = sbx_files_mkdir(vol, 0755);
	if (r == 0)
		r = sbx_volume_mount(img, vol);
	return r < 0 ? r : 0;
}

int sbx_objects_mkdirs(struct sbx_objects *o, const char *base, const char *id, uint32_t disk_mb,
		       char **ret_dir, char **ret_ws, char **ret_tmp)
{
	_cleanup_free_ char *dir = NULL, *ws = NULL, *tmp = NULL;
	const char *what = "its directory";
	int r;

	if (dir_paths(base, id, disk_mb > 0, &dir, &ws, ret_tmp ? &tmp : NULL) < 0)
		return -ENOMEM;
	/* Root's; the sandbox gets its workspace and /tmp as mount trees
	 * (daemon/sandbox/mnt.c), it walks no host path. */
	r = sbx_files_mkdir(dir, 0711);
	if (r == 0 && disk_mb > 0) {
		what = "its disk volume";
		r = make_volume(dir, disk_mb);
	}
	if (r == 0) {
		what = "its workspace";
		if ((r = sbx_files_mkdir(ws, 0755)) == 0)
			r = sbx_executor_own(o->exec, ws);
	}
	if (r == 0 && tmp && (r = sbx_files_mkdir(tmp, 0755)) == 0)
		r = sbx_executor_own(o->exec, tmp);
	if (r < 0) {
		sbx_log(SBX_LOG_ERROR, id, "cannot create %s in %s: %s", what, dir, strerror(-r));
		sbx_objects_dirs_release(id, dir, true);
		return r;
	}
	*ret_dir = TAKE_PTR(dir);
	*ret_ws = TAKE_PTR(ws);
	if (ret_tmp)
		*ret_tmp = TAKE_PTR(tmp);
	return 0;
}

int sbx_objects_opendirs(const char *base, const char *id, char **ret_dir, char **ret_ws,
			 char **ret_tmp)
{
	_cleanup_free_ char *dir = NULL, *ws = NULL, *tmp = NULL;
	char img[4096], vol[4096];
	struct stat st;
	bool volume;
	int r;

	if (asprintf(&dir, "%s/%s", base, id) < 0)
		return -ENOMEM;
	if ((r = volume_paths(dir, img, vol, sizeof(img))) < 0)
		return r;
	volume = lstat(img, &st) == 0;
	free(dir);
	dir = NULL;
	if (dir_paths(base, id, volume, &dir, &ws, ret_tmp ? &tmp : NULL) < 0)
		return -ENOMEM;
	if (!volume)
		sbx_log(SBX_LOG_WARN, id,
			"created before disk limits: its workspace has no size limit (create a "
			"new one to get one)");
	/* Not mounted, the workspace path does not exist: executions and
	 * uploads fail rather than write to the host's disk unlimited. */
	else if ((r = sbx_volume_mount(img, vol)) < 0)
		sbx_log(SBX_LOG_ERROR, id, "cannot mount its disk volume %s: %s", img,
			strerror(-r));
	else if (r == 1)
		sbx_log(SBX_LOG_INFO, id,
			"its disk volume was still attached (a sandbox of the previous daemon "
			"ending): mounted through the same loop device");
	*ret_dir = TAKE_PTR(dir);
	*ret_ws = TAKE_PTR(ws);
	if (ret_tmp)
		*ret_tmp = TAKE_PTR(tmp);
	return 0;
}

void sbx_objects_dirs_release(const char *id, const char *dir, bool remove)
{
	char img[4096], vol[4096];
	int r;

	if (!dir)
		return;
	if (volume_paths(dir, img, vol, sizeof(img)) == 0 && sbx_volume_mounted(vol) &&
	    (r = sbx_volume_umount(vol)) < 0)
		sbx_log(SBX_LOG_WARN, id, "cannot unmount %s: %s", vol, strerror(-r));
	/* The image goes with the directory; the loop device, and the
	 * space, with the last mount of it (sandboxes still ending). */
	if (remove && (r = sbx_files_rmtree(dir)) < 0)
		sbx_log(SBX_LOG_WARN, id, "cannot remove %s: %s", dir, strerror(-r));
}

int sbx_objects_check_network(struct sbx_objects *o, struct sbx_rpc_call *call, bool want)
{
	if (want && strcmp(o->cfg->network_mode, "bridge") != 0)
		return sbx_rpc_error(call, -EINVAL, "network access is off: NETWORK_MODE is %s",
				     o->cfg->network_mode);
	return 0;
}

int sbx_objects_disk_limit(struct sbx_objects *o, struct sbx_rpc_call *call, uint32_t req_mb,
			   uint32_t *ret_mb)
{
	const struct sbx_config *c = o->cfg;
	uint64_t avail = 0;

	if (req_mb && !c->default_disk_limit_mb)
		return sbx_rpc_error(
			call, -EINVAL,
			"field 'disk_limit_mb' cannot be honoured: disk limits are off "
			"on this server");
	if (req_mb > c->max_disk_limit_mb)
		return sbx_rpc_error(call, -EINVAL, "field 'disk_limit_mb' must be at most %u",
				     c->max_disk_limit_mb);
	if (req_mb && req_mb < SBX_VOLUME_MIN_MB)
		return sbx_rpc_error(call, -EINVAL, "field 'disk_limit_mb' must be at least %u",
				     SBX_VOLUME_MIN_MB);
	if (c->min_free_disk_mb && sbx_volume_host_free(c->state_dir, &avail) == 0 &&
	    avail < (uint64_t)c->min_free_disk_mb << 20) {
		log_warn("refusing a new object: %llu MB free in %s, below MIN_FREE_DISK_MB (%u)",
			 (unsigned long long)(avail >> 20), c->state_dir, c->min_free_disk_mb);
		return sbx_rpc_error(
			call, -ENOSPC,
			"the server is short of disk space: no new sandboxes, sessions "
			"or deployments until some is freed");
	}
	*ret_mb = req_mb ? req_mb : c->default_disk_limit_mb;
	return 0;
}

/* Remove <base>/<name> directories of no object: left by a crash between
 * mkdir and the first save, or between deleting a row and its files. */
static void clean_orphans(const char *base, struct sbx_registry *reg)
{
	DIR *d = opendir(base);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct sbx_obj *obj;
		char path[4096];

		if (e->d_name[0] == '.')
			continue;
		obj = sbx_registry_get(reg, e->d_name);
		if (obj) {
			sbx_obj_unref(obj);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", base, e->d_name);
		log_info("removing %s: no object of that id", path);
		sbx_objects_dirs_release(e->d_name, path, true);
	}
	closedir(d);
}

static void *sweeper_main(void *arg)
{
	struct sbx_objects *o = arg;
	struct timespec until;

	pthread_mutex_lock(&o->lock);
	while (!o->stopping) {
		until = sbx_clock_deadline(CLOCK_MONOTONIC,
					   (int64_t)o->cfg->cleanup_interval_s * 1000);
		while (!o->stopping && pthread_cond_timedwait(&o->cond, &o->lock, &until) == 0)
			;
		if (o->stopping)
			break;
		pthread_mutex_unlock(&o->lock);
		sbx_objects_sweep(o);
		pthread_mutex_lock(&o->lock);
	}
	pthread_mutex_unlock(&o->lock);
	return NULL;
}

static void objects_free(struct sbx_objects *o)
{
	/* Deployments first: they refer to their sandboxes. */
	sbx_registry_free(o->deployments);
	sbx_registry_free(o->sandboxes);
	sbx_registry_free(o->sessions);
	sbx_store_close(o->store);
	pthread_cond_destroy(&o->cond);
	pthread_mutex_destroy(&o->lock);
	free(o->sandboxes_dir);
	free(o->sessions_dir);
	free(o->proxy_dir);
	free(o);
}

int sbx_objects_open(const struct sbx_config *cfg, struct sbx_executor *exec,
		     struct sbx_objects **ret)
{
	_cleanup_free_ char *db = NULL;
	pthread_condattr_t ca;
	struct sbx_objects *o;
	int r;

	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->cfg = cfg;
	o->exec = exec;
	pthread_mutex_init(&o->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&o->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (asprintf(&o->sandboxes_dir, "%s/sandboxes", cfg->state_dir) < 0 ||
	    asprintf(&o->sessions_dir, "%s/sessions", cfg->state_dir) < 0 ||
	    asprintf(&db, "%s/sandboxd.db", cfg->state_dir) < 0 ||
	    (*cfg->proxy_dir ? !(o->proxy_dir = strdup(cfg->proxy_dir))
			     : asprintf(&o->proxy_dir, "%s/proxy", cfg->state_dir) < 0)) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = sbx_files_mkdir(o->sandboxes_dir, 0711)) < 0 ||
	    (r = sbx_files_mkdir(o->sessions_dir, 0711)) < 0 ||
	    (r = sbx_files_mkdir(o->proxy_dir, 0755)) < 0) {
		log_error("cannot create the object directories in %s: %s", cfg->state_dir,
			  strerror(-r));
		goto fail;
	}
	if ((r = sbx_registry_new(cfg->max_sandboxes, &o->sandboxes)) < 0 ||
	    (r = sbx_registry_new(cfg->max_sessions, &o->sessions)) < 0 ||
	    (r = sbx_registry_new(cfg->max_deployments, &o->deployments)) < 0)
		goto fail;
	r = sbx_store_open(db, cfg->history_max, &o->store);
	if (r == 0)
		sbx_store_history_max_age(o->store, cfg->history_max_age_s);
	if (r < 0) {
		log_error("cannot open the state store %s: %s", db, strerror(-r));
		goto fail;
	}
	if ((r = sbx_objects_load(o)) < 0) {
		log_error("cannot load the objects of %s: %s", db, strerror(-r));
		goto fail;
	}
	clean_orphans(o->sandboxes_dir, o->sandboxes);
	clean_orphans(o->sessions_dir, o->sessions);
	log_info("state store %s: %zu sandboxes, %zu sessions", db,
		 sbx_registry_count(o->sandboxes), sbx_registry_count(o->sessions));
	r = -pthread_create(&o->sweeper, NULL, sweeper_main, o);
	if (r < 0)
		goto fail;
	o->sweeper_started = true;
	*ret = o;
	return 0;
fail:
	objects_free(o);
	return r;
}

void sbx_objects_close(struct sbx_objects *o)
{
	bool busy;

	if (!o)
		return;
	pthread_mutex_lock(&o->lock);
	o->stopping = true;
	pthread_cond_broadcast(&o->cond);
	pthread_mutex_unlock(&o->lock);
	if (o->sweeper_started)
		pthread_join(o->sweeper, NULL);
	pthread_mutex_lock(&o->lock);
	busy = o->in_flight > 0;
	pthread_mutex_unlock(&o->lock);
	if (busy) {
		log_warn("objects still in use at shutdown: left to the process exit");
		return;
	}
	objects_free(o);
}

int sbx_objects_enter(struct sbx_objects *o)
{
	int r = 0;

	pthread_mutex_lock(&o->lock);
	if (o->stopping)
		r = -ESHUTDOWN;
	else
		o->in_flight++;
	pthread_mutex_unlock(&o->lock);
	return r;
}

void sbx_objects_leave(struct sbx_objects *o)
{
	pthread_mutex_lock(&o->lock);
	o->in_flight--;
	pthread_mutex_unlock(&o->lock);
}
