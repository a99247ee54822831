/* The checks of a SpawnRequest (engine.h, sbx_engine_check): run by the
 * daemon side before it sends a request and by the spawner again on what
 * it reads, so both sbx-spawner and the engine library link this file. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "cleanup.h"
#include "engine.h"
#include "workspace.h"

/* Bounds on one request, so a caller cannot make the spawner allocate
 * without limit (the packed size is bounded separately). */
#define MAX_ARGV 4096
#define MAX_ENV 4096
#define MAX_FILES 1024
#define MAX_BINDS 64
#define MAX_PATH_LEN 1024

static bool abs_path_ok(const char *p)
{
	if (!p || p[0] != '/' || strlen(p) > MAX_PATH_LEN)
		return false;
	/* ".." in a bind target or cwd could climb out of what we mount. */
	for (const char *s = p; (s = strstr(s, "..")); s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '/' || s[2] == 0))
			return false;
	return true;
}

/* The directory an absolute path names, spelled one way: no empty or "."
 * component, no trailing '/' ("//proc/./" is "/proc", "/." is "/"). out
 * has room for strlen(p) + 2 bytes. */
static void path_normalize(const char *p, char *out)
{
	size_t o = 0;

	for (const char *c = p;; c++) {
		const char *e = strchrnul(c, '/');
		size_t len = (size_t)(e - c);
		if (len && !(len == 1 && c[0] == '.')) {
			out[o++] = '/';
			memcpy(out + o, c, len);
			o += len;
		}
		if (!*e)
			break;
		c = e;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = 0;
}

/* Bind targets must not cover what the engine itself mounts, however the
 * target is spelled (the kernel reads "//proc" and "/./proc" as /proc). */
static bool bind_target_ok(const char *target)
{
	static const char *const reserved[] = {"/proc", "/dev", "/tmp", SBX_WORKSPACE};
	char t[MAX_PATH_LEN + 2];
	if (!abs_path_ok(target))
		return false;
	path_normalize(target, t);
	if (strcmp(t, "/") == 0)
		return false;
	for (size_t i = 0; i < SBX_ARRAY_SIZE(reserved); i++) {
		size_t n = strlen(reserved[i]);
		if (strncmp(t, reserved[i], n) == 0 && (t[n] == 0 || t[n] == '/'))
			return false;
	}
	return true;
}

int sbx_engine_check(const Sbx__SpawnRequest *req, const char **ret_why)
{
#define BAD(why)                   \
	do {                       \
		*ret_why = (why);  \
		return -EINVAL;    \
	} while (0)
	if (!req)
		BAD("no request");
	if (req->n_argv == 0 || !req->argv[0] || !req->argv[0][0])
		BAD("argv is empty");
	if (req->n_argv > MAX_ARGV)
		BAD("too many arguments");
	if (req->n_env > MAX_ENV)
		BAD("too many environment variables");
	for (size_t i = 0; i < req->n_env; i++)
		if (!strchr(req->env[i], '=') || req->env[i][0] == '=')
			BAD("environment entries must be KEY=value");
	if (req->cwd[0] && !abs_path_ok(req->cwd))
		BAD("cwd must be an absolute path without '..'");
	if (req->workspace[0] && !abs_path_ok(req->workspace))
		BAD("workspace must be an absolute host path without '..'");
	if (req->tmp_dir[0] && !abs_path_ok(req->tmp_dir))
		BAD("tmp_dir must be an absolute host path without '..'");
	if (req->n_files > MAX_FILES)
		BAD("too many files");
	for (size_t i = 0; i < req->n_files; i++)
		if (!req->files[i] || !sbx_file_path_ok(req->files[i]->path))
			BAD("file paths must be relative to the workspace, without '..'");
	if (req->n_binds > MAX_BINDS)
		BAD("too many bind mounts");
	for (size_t i = 0; i < req->n_binds; i++) {
		const Sbx__BindMount *b = req->binds[i];
		if (!b || !abs_path_ok(b->source))
			BAD("bind sources must be absolute host paths");
		if (!bind_target_ok(b->target[0] ? b->target : b->source))
			BAD("bind target is reserved or invalid");
	}
	const Sbx__Limits *l = req->limits;
	if (!l || !l->has_cpu_time_ms || !l->has_wall_time_ms || !l->has_memory_kb ||
	    !l->has_pids || !l->has_fsize_kb || !l->has_nofile || !l->has_stack_kb ||
	    !l->has_output_bytes)
		BAD("every limit must be set");
	if (l->cpu_time_ms == 0 || l->wall_time_ms == 0)
		BAD("time limits must be positive");
	if (l->cpu_time_ms > 24 * 3600 * 1000ull || l->wall_time_ms > 24 * 3600 * 1000ull)
		BAD("time limits are too large");
	if (l->memory_kb < 1024)
		BAD("memory limit must be at least 1024 KB");
	if (l->pids == 0)
		BAD("pids limit must be at least 1");
	if (l->nofile < 4)
		BAD("nofile limit must be at least 4");
	if (l->stack_kb < 64)
		BAD("stack limit must be at least 64 KB");
	if (l->output_bytes > (1ull << 30))
		BAD("output limit is too large");
	return 0;
#undef BAD
}
