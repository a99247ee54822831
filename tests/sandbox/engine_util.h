/* Shared by the engine and security tests: an engine in a temporary state
 * dir (or SKIP when the kernel forbids namespaces), and a small request
 * builder with small default limits. */
#ifndef SBX_TEST_ENGINE_UTIL_H
#define SBX_TEST_ENGINE_UTIL_H

#include <stdbool.h>

#include "engine.h"

struct tu_spec {
	const char *argv[32];    /* NULL-terminated */
	const char *env[32];     /* NULL-terminated; default: PATH, HOME, LANG */
	const char *stdin_data;
	Sbx__Limits lim;         /* all set by tu_spec_init: small */
	const char *workspace;
	const char *tmp_dir;
	const char *cwd;
	bool network;
	Sbx__File *files[8];
	Sbx__File file_store[8];
	unsigned n_files;
};

/* Engine with its state in a fresh /tmp dir. Exits 77 (SKIP) with the
 * reason if user/pid/mount namespaces cannot be created here. */
struct sbx_engine *tu_engine(enum sbx_cgroup_pref cg);
/* Like tu_engine but returns NULL instead of skipping. */
struct sbx_engine *tu_engine_try(enum sbx_cgroup_pref cg, int *ret_err);

void tu_spec_init(struct tu_spec *s);
void tu_add_file(struct tu_spec *s, const char *path, const char *content, bool exec);
/* Run; returns the result (never NULL: aborts the test on transport
 * errors) and, through ret_rc, what sbx_engine_run returned. */
Sbx__ExecResult *tu_run(struct sbx_engine *e, struct tu_spec *s, int *ret_rc);
/* tu_run with live output to `st` (sbx_engine_run_stream). */
Sbx__ExecResult *tu_run_stream(struct sbx_engine *e, struct tu_spec *s,
			       struct sbx_engine_stream *st, int *ret_rc);
/* /bin/sh -c script with default limits (or *base when given). */
Sbx__ExecResult *tu_sh(struct sbx_engine *e, const char *script, const struct tu_spec *base);
/* python3 -c code. */
Sbx__ExecResult *tu_py(struct sbx_engine *e, const char *code, const struct tu_spec *base);
/* stdout/stderr as NUL-terminated copies (static buffers, per call). */
const char *tu_out(const Sbx__ExecResult *r);
const char *tu_err(const Sbx__ExecResult *r);
void tu_free(Sbx__ExecResult *r);
/* Print a result (for failure diagnostics). */
void tu_dump(const char *what, const Sbx__ExecResult *r);

#define ST(x) SBX__EXEC_STATUS__EXEC_STATUS_##x

#endif
