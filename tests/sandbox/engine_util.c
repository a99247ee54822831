#include "engine_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "testlib.h"

struct sbx_engine *tu_engine_try(enum sbx_cgroup_pref cg, int *ret_err)
{
	char *dir = tl_tmpdir("sbx-engine-test");
	struct sbx_engine_config cfg;
	sbx_engine_config_init(&cfg);
	cfg.state_dir = dir;
	cfg.cgroup = cg;
	cfg.max_concurrent = 8;
	/* The same tests run with pre-built sandboxes (warm.c) when asked. */
	const char *warm = getenv("SANDBOX_WARM_POOL");
	cfg.warm_pool = warm ? (unsigned)strtoul(warm, NULL, 10) : 0;
	warm = getenv("SANDBOX_WARM_POOL_PYTHON");
	cfg.warm_pool_python = warm ? (unsigned)strtoul(warm, NULL, 10) : 0;
	warm = getenv("SANDBOX_WARM_POOL_NODE");
	cfg.warm_pool_node = warm ? (unsigned)strtoul(warm, NULL, 10) : 0;
	cfg.trace = getenv("SBX_ENGINE_TRACE") != NULL; /* per-phase timings */
	warm = getenv("SANDBOX_NETNS_REUSE"); /* default on, as in the daemon */
	if (warm)
		cfg.netns_reuse = strcmp(warm, "false") != 0 && strcmp(warm, "0") != 0;
	struct sbx_engine *e = NULL;
	int r = sbx_engine_new(&cfg, &e);
	free(dir); /* the engine keeps its own copy */
	if (ret_err)
		*ret_err = r;
	return r < 0 ? NULL : e;
}

struct sbx_engine *tu_engine(enum sbx_cgroup_pref cg)
{
	int r;
	struct sbx_engine *e = tu_engine_try(cg, &r);
	if (!e) {
		if (r == -EPERM || r == -EACCES || r == -ENOSPC || r == -EINVAL || r == -ENOSYS)
			SKIP("cannot create the sandbox engine here (namespaces forbidden?): %s",
			     strerror(-r));
		fprintf(stderr, "sbx_engine_new: %s\n", strerror(-r));
		exit(1);
	}
	/* Probe: a kernel that forbids some namespace fails the first run
	 * with a set-up error. */
	struct tu_spec s;
	tu_spec_init(&s);
	s.argv[0] = "/bin/true";
	int rc;
	Sbx__ExecResult *res = tu_run(e, &s, &rc);
	if (res->status == ST(INTERNAL_ERROR) && strstr(res->error, "set-up"))
		SKIP("the kernel refuses the sandbox set-up here: %s", res->error);
	tu_free(res);
	return e;
}

void tu_spec_init(struct tu_spec *s)
{
	memset(s, 0, sizeof(*s));
	Sbx__Limits *l = &s->lim;
	sbx__limits__init(l);
	l->has_cpu_time_ms = l->has_wall_time_ms = l->has_memory_kb = l->has_pids = true;
	l->has_fsize_kb = l->has_nofile = l->has_stack_kb = l->has_output_bytes = true;
	l->cpu_time_ms = 2000;
	l->wall_time_ms = 5000;
	l->memory_kb = 256 * 1024;
	l->pids = 32;
	l->fsize_kb = 10240;
	l->nofile = 64;
	l->stack_kb = 8192;
	l->output_bytes = 1 << 20;
}

void tu_add_file(struct tu_spec *s, const char *path, const char *content, bool exec)
{
	Sbx__File *f = &s->file_store[s->n_files];
	sbx__file__init(f);
	f->path = (char *)path;
	f->content.data = (uint8_t *)content;
	f->content.len = strlen(content);
	f->is_executable = exec;
	s->files[s->n_files] = f;
	s->n_files++;
}

Sbx__ExecResult *tu_run(struct sbx_engine *e, struct tu_spec *s, int *ret_rc)
{
	return tu_run_stream(e, s, NULL, ret_rc);
}

Sbx__ExecResult *tu_run_stream(struct sbx_engine *e, struct tu_spec *s,
			       struct sbx_engine_stream *st, int *ret_rc)
{
	static const char *const defenv[] = {"PATH=/usr/local/bin:/usr/bin:/bin",
					     "HOME=/workspace", "LANG=C.UTF-8", NULL};
	Sbx__SpawnRequest req = SBX__SPAWN_REQUEST__INIT;
	size_t n = 0;
	while (s->argv[n])
		n++;
	req.argv = (char **)s->argv;
	req.n_argv = n;
	const char *const *env = s->env[0] ? s->env : defenv;
	n = 0;
	while (env[n])
		n++;
	req.env = (char **)env;
	req.n_env = n;
	if (s->stdin_data) {
		req.stdin.data = (uint8_t *)s->stdin_data;
		req.stdin.len = strlen(s->stdin_data);
	}
	req.limits = &s->lim;
	req.workspace = (char *)(s->workspace ? s->workspace : "");
	req.tmp_dir = (char *)(s->tmp_dir ? s->tmp_dir : "");
	req.cwd = (char *)(s->cwd ? s->cwd : "");
	req.network = s->network;
	req.files = s->files;
	req.n_files = s->n_files;
	Sbx__ExecResult *res = NULL;
	int r = st ? sbx_engine_run_stream(e, &req, NULL, st, &res) : sbx_engine_run(e, &req, &res);
	if (ret_rc)
		*ret_rc = r;
	if (!res) {
		fprintf(stderr, "sbx_engine_run: %s\n", strerror(-r));
		exit(1);
	}
	return res;
}

Sbx__ExecResult *tu_sh(struct sbx_engine *e, const char *script, const struct tu_spec *base)
{
	struct tu_spec s;
	if (base)
		s = *base;
	else
		tu_spec_init(&s);
	for (unsigned i = 0; i < s.n_files; i++)
		s.files[i] = &s.file_store[i];
	memset(s.argv, 0, sizeof(s.argv));
	s.argv[0] = "/bin/sh";
	s.argv[1] = "-c";
	s.argv[2] = script;
	return tu_run(e, &s, NULL);
}

Sbx__ExecResult *tu_py(struct sbx_engine *e, const char *code, const struct tu_spec *base)
{
	struct tu_spec s;
	if (base)
		s = *base;
	else
		tu_spec_init(&s);
	for (unsigned i = 0; i < s.n_files; i++)
		s.files[i] = &s.file_store[i];
	memset(s.argv, 0, sizeof(s.argv));
	/* With warm interpreters asked for, as the python runtime runs code
	 * (so that it takes one): the code as main.py. */
	const char *warm = getenv("SANDBOX_WARM_POOL_PYTHON");
	if (warm && atoi(warm) > 0 && s.n_files < SBX_ARRAY_SIZE(s.files) && !s.cwd) {
		tu_add_file(&s, "main.py", code, false);
		s.argv[0] = "/usr/bin/python3";
		s.argv[1] = "-u";
		s.argv[2] = "main.py";
		return tu_run(e, &s, NULL);
	}
	s.argv[0] = "python3";
	s.argv[1] = "-c";
	s.argv[2] = code;
	return tu_run(e, &s, NULL);
}

static const char *copy_out(const ProtobufCBinaryData *d, char *buf, size_t size)
{
	size_t n = d->len < size - 1 ? d->len : size - 1;
	if (n)
		memcpy(buf, d->data, n);
	buf[n] = 0;
	return buf;
}

const char *tu_out(const Sbx__ExecResult *r)
{
	static char buf[65536];
	return copy_out(&r->stdout, buf, sizeof(buf));
}

const char *tu_err(const Sbx__ExecResult *r)
{
	static char buf[65536];
	return copy_out(&r->stderr, buf, sizeof(buf));
}

void tu_free(Sbx__ExecResult *r)
{
	if (r)
		sbx__exec_result__free_unpacked(r, NULL);
}

void tu_dump(const char *what, const Sbx__ExecResult *r)
{
	fprintf(stderr,
		"[%s] status=%d exit=%d signal=%d cpu=%llums wall=%llums mem=%lluKB error='%s'\n"
		"  stdout(%zu)='%.300s'\n  stderr(%zu)='%.300s'\n",
		what, r->status, r->exit_code, r->signal, (unsigned long long)r->cpu_time_ms,
		(unsigned long long)r->wall_time_ms, (unsigned long long)r->memory_peak_kb,
		r->error, r->stdout.len, tu_out(r), r->stderr.len, tu_err(r));
}
