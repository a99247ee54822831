/* The daemon's configuration: defaults, then config.toml, then environment,
 * then flags; every bad value refused with a sentence naming it. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon_config.h"
#include "runtimes.h"
#include "testlib.h"

static int load(struct sbx_config *c, char **argv, char **envp, enum sbx_config_action *a, char *err)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return sbx_config_load(c, argc, argv, envp, a, err, 512);
}

static char *write_file(const char *text)
{
	char *dir = tl_tmpdir("sbx-config"), *path;
	FILE *f;

	if (!dir || asprintf(&path, "%s/config.toml", dir) < 0)
		return NULL;
	free(dir);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

int main(void)
{
	struct sbx_config c;
	enum sbx_config_action a;
	char err[512];

	{
		char *argv[] = { "sandboxd", NULL }, *envp[] = { NULL };
		CHECK_INT(load(&c, argv, envp, &a, err), 0);
		CHECK_INT(a, SBX_ACTION_SERVE);
		CHECK_STR(c.rpc_url, "ipc:///run/sandboxd/rpc.sock");
		CHECK_STR(c.backend, "native");
		CHECK_INT(c.default_timeout_ms, 30000);
		CHECK_INT(c.default_memory_limit_mb, 256);
		CHECK_INT(c.max_concurrent, 10);
		CHECK(c.enable_audit_log);
		sbx_config_fini(&c);
	}
	{
		char *path = write_file("# seed's config.toml\n[server]\nhost = \"0.0.0.0\"\nport = 8070\n\n"
					"[sandbox]\nbackend = \"native\"\ndefault_timeout_ms = 20000\n"
					"max_concurrent_sandboxes = 4\n[logging]\nlevel = \"debug\"\nformat = \"json\"\n"
					"[audit]\nenabled = false\n");
		char *argv[] = { "sandboxd", "--config", path, "--max-concurrent", "7", NULL };
		char *envp[] = { "SANDBOX_TIMEOUT_MS=25000", "MAX_CONCURRENT_EXECUTIONS=5", NULL };

		CHECKF(load(&c, argv, envp, &a, err) == 0, "%s", err);
		CHECK_INT(c.default_timeout_ms, 25000);  /* env over file */
		CHECK_INT(c.max_concurrent, 7);          /* flag over env */
		CHECK_STR(c.log_level, "debug");         /* file over default */
		CHECK_STR(c.log_format, "json");
		CHECK(!c.enable_audit_log);
		CHECK_STR(c.config_file, path);
		sbx_config_fini(&c);
		free(path);
	}
	{
		char *argv[] = { "sandboxd", "--max-concurrent", "0", NULL }, *envp[] = { NULL };
		CHECK(load(&c, argv, envp, &a, err) < 0);
		CHECKF(strstr(err, "max_concurrent_sandboxes must be an integer from 1") != NULL, "%s", err);
		sbx_config_fini(&c);
	}
	{
		char *argv[] = { "sandboxd", NULL }, *envp[] = { "SANDBOX_TIMEOUT_MS=abc", NULL };
		CHECK(load(&c, argv, envp, &a, err) < 0);
		CHECKF(strstr(err, "SANDBOX_TIMEOUT_MS") && strstr(err, "'abc'"), "%s", err);
		sbx_config_fini(&c);
	}
	{
		char *argv[] = { "sandboxd", NULL }, *envp[] = { "SANDBOX_BACKEND=firecracker", NULL };
		CHECK(load(&c, argv, envp, &a, err) < 0);
		CHECKF(strstr(err, "backend 'firecracker' is not available") != NULL, "%s", err);
		sbx_config_fini(&c);
	}
	{
		char *argv[] = { "sandboxd", "--cgroup", "v3", NULL }, *envp[] = { NULL };
		CHECK(load(&c, argv, envp, &a, err) < 0);
		CHECKF(strstr(err, "cgroup must be auto, v1, v2 or none, not 'v3'") != NULL, "%s", err);
		sbx_config_fini(&c);
	}
	{
		char *argv[] = { "sandboxd", "--cgroup", "none", "--socket-group", "0", NULL };
		char *envp[] = { NULL };
		CHECKF(load(&c, argv, envp, &a, err) == 0, "%s", err);
		CHECK_INT(sbx_config_cgroup_pref(&c), 3);
		CHECK_INT(c.socket_gid, 0);
		CHECK(!c.allow_unlimited_memory);
		sbx_config_fini(&c);
	}
	{
		char *argv[] = { "sandboxd", NULL };
		char *envp[] = { "SANDBOXD_SOCKET_GROUP=no-such-group-sbx", NULL };
		CHECK(load(&c, argv, envp, &a, err) < 0);
		CHECKF(strstr(err, "socket group 'no-such-group-sbx' (SANDBOXD_SOCKET_GROUP) does not "
				   "exist") != NULL,
		       "%s", err);
		sbx_config_fini(&c);
	}
	{
		char *argv[] = { "sandboxd", "--bogus", NULL }, *envp[] = { NULL };
		CHECK(load(&c, argv, envp, &a, err) < 0);
		CHECKF(strstr(err, "--bogus") != NULL, "%s", err);
		sbx_config_fini(&c);
	}
	{
		/* Unknown keys are named and ignored, not fatal; the seed's
		 * [server] host and port are the gateway's. */
		char *path = write_file("[server]\nhost = \"0.0.0.0\"\nport = 8070\n[sandbox]\n"
					"foo = 1\nmax_queued = 3\n[nope]\nbar = \"x\"\n");
		char *argv[] = { "sandboxd", "--config", path, NULL }, *envp[] = { NULL };
		CHECKF(load(&c, argv, envp, &a, err) == 0, "%s", err);
		CHECK_INT(c.max_queued, 3);
		CHECK_INT(c.n_warnings, 2);
		if (c.n_warnings == 2) {
			CHECK_STR(c.warnings[0], "config.toml: unknown key \"sandbox.foo\" ignored (line 5)");
			CHECK_STR(c.warnings[1], "config.toml: unknown key \"nope.bar\" ignored (line 8)");
		}
		sbx_config_fini(&c);
		free(path);
	}
	{
		/* ENABLE_<LANGUAGE>, one per runtime row: the executor seed's
		 * four, JAVASCRIPT being node's alias; env over the file;
		 * languages past the 32nd (the set is 64 bits wide). */
		char *path = write_file(
			"[languages]\nrust = false\nbun = false\npython = false\nsql = false\n");
		char *argv[] = { "sandboxd", "--config", path, NULL };
		char *envp[] = { "ENABLE_PYTHON=true", "ENABLE_JAVASCRIPT=false", "ENABLE_SHELL=no",
				 "ENABLE_CODE_EXECUTION=true", "ENABLE_SQLITE=true",
				 "ENABLE_COMMONLISP=false", NULL };
		int py = sbx_runtime_language_index("python"), node = sbx_runtime_language_index("node");
		int sh = sbx_runtime_language_index("bash"), rs = sbx_runtime_language_index("rust");
		int bun = sbx_runtime_language_index("bun"), ts = sbx_runtime_language_index("ts");

		CHECK(py >= 0 && node >= 0 && sh >= 0 && rs >= 0 && bun >= 0 && ts >= 0);
		CHECK_INT(sbx_runtime_language_index("javascript"), node);
		int sql = sbx_runtime_language_index("sql"), lisp = sbx_runtime_language_index("lisp");

		CHECK(sql >= 32 && lisp >= 0);
		CHECK_INT(sbx_runtime_language_index("brainfuck"), -1);
		CHECKF(load(&c, argv, envp, &a, err) == 0, "%s", err);
		CHECK(!(c.languages_off & (UINT64_C(1) << py)));
		CHECK(c.languages_off & (UINT64_C(1) << node));
		CHECK(c.languages_off & (UINT64_C(1) << sh));
		CHECK(c.languages_off & (UINT64_C(1) << rs));
		CHECK(c.languages_off & (UINT64_C(1) << bun));
		CHECK(!(c.languages_off & (UINT64_C(1) << ts)));
		CHECK(!(c.languages_off & (UINT64_C(1) << sql)));
		CHECK(c.languages_off & (UINT64_C(1) << lisp));
		CHECK_INT(c.n_warnings, 0);
		sbx_config_fini(&c);
		free(path);
	}
	{
		/* A state dir below a private directory works for sandboxes;
		 * only a gateway of another user would not reach its sockets. */
		char *priv = tl_tmpdir("sbx-config-private"), state[300];
		char *argv[] = { "sandboxd", "--state-dir", state, NULL }, *envp[] = { NULL };

		snprintf(state, sizeof(state), "%s/state", priv);
		CHECKF(load(&c, argv, envp, &a, err) == 0, "%s", err);
		CHECK_INT(c.n_warnings, 1);
		if (c.n_warnings == 1)
			CHECKF(strstr(c.warnings[0], priv) && strstr(c.warnings[0], "not searchable by others"),
			       "%s", c.warnings[0]);
		sbx_config_fini(&c);
		rmdir(priv);
		free(priv);
	}
	{
		char *argv[] = { "sandboxd", NULL }, *envp[] = { "ENABLE_RUST=maybe", NULL };
		CHECK(load(&c, argv, envp, &a, err) < 0);
		CHECKF(strstr(err, "ENABLE_RUST must be true or false, not 'maybe'"), "%s", err);
		sbx_config_fini(&c);
	}
	{
		/* A disabled language is left out of the runtimes table. */
		char *argv[] = { "sandboxd", NULL };
		char *envp[] = { "ENABLE_PYTHON=false", NULL };
		struct sbx_runtimes *rts = NULL;

		CHECKF(load(&c, argv, envp, &a, err) == 0, "%s", err);
		CHECK_INT(sbx_runtimes_new(c.languages_off, &rts), 0);
		CHECK(sbx_runtimes_find(rts, "python") == NULL);
		CHECK(sbx_runtimes_find(rts, "python3") == NULL);
		CHECK_STR(sbx_runtimes_disabled(rts, "py"), "python");
		CHECK_STR(sbx_runtimes_disabled_argv0(rts, "/usr/bin/python3"), "python");
		CHECK(sbx_runtimes_disabled_argv0(rts, "/bin/sh") == NULL);
		CHECK(sbx_runtimes_disabled(rts, "node") == NULL);
		CHECK(strstr(sbx_runtimes_names(rts), "python") == NULL);
		sbx_runtimes_free(rts);
		sbx_config_fini(&c);
	}
	{
		/* READ_ONLY_ROOT / DROP_ALL_CAPABILITIES: true is what we do
		 * anyway; false is refused with a sentence. */
		char *argv[] = { "sandboxd", NULL };
		char *ok[] = { "READ_ONLY_ROOT=true", "DROP_ALL_CAPABILITIES=true", NULL };
		char *ro[] = { "READ_ONLY_ROOT=false", NULL };
		char *caps[] = { "DROP_ALL_CAPABILITIES=false", NULL };

		CHECKF(load(&c, argv, ok, &a, err) == 0, "%s", err);
		sbx_config_fini(&c);
		CHECK(load(&c, argv, ro, &a, err) < 0);
		CHECKF(strstr(err, "READ_ONLY_ROOT") && strstr(err, "cannot be false"), "%s", err);
		sbx_config_fini(&c);
		CHECK(load(&c, argv, caps, &a, err) < 0);
		CHECKF(strstr(err, "DROP_ALL_CAPABILITIES") && strstr(err, "cannot be false"), "%s", err);
		sbx_config_fini(&c);
	}
	{
		char *path = write_file("[sandbox]\nread_only_root = false\n");
		char *argv[] = { "sandboxd", "--config", path, NULL }, *envp[] = { NULL };
		CHECK(load(&c, argv, envp, &a, err) < 0);
		CHECKF(strstr(err, "READ_ONLY_ROOT (sandbox.read_only_root) cannot be false"), "%s", err);
		sbx_config_fini(&c);
		free(path);
	}
	{
		/* A proxy dir too long for unix sockets is refused at start. */
		char long_dir[120], *argv[] = { "sandboxd", "--proxy-dir", long_dir, NULL }, *envp[] = { NULL };

		memset(long_dir, 'p', sizeof(long_dir) - 1);
		long_dir[0] = '/';
		long_dir[sizeof(long_dir) - 1] = 0;
		CHECK(load(&c, argv, envp, &a, err) < 0);
		CHECKF(strstr(err, "too long for unix socket paths") && strstr(err, "--proxy-dir"), "%s",
		       err);
		sbx_config_fini(&c);
	}
	{
		char *path = write_file("[sandbox\nx = 1\n");
		char *argv[] = { "sandboxd", "--config", path, NULL }, *envp[] = { NULL };
		CHECK(load(&c, argv, envp, &a, err) < 0);
		CHECKF(strstr(err, "line 1:") != NULL, "%s", err);
		sbx_config_fini(&c);
		free(path);
	}
	{
		char *argv[] = { "sandboxd", "--config", "/nonexistent/config.toml", NULL }, *envp[] = { NULL };
		CHECK(load(&c, argv, envp, &a, err) < 0);
		CHECKF(strstr(err, "cannot open config file /nonexistent/config.toml") != NULL, "%s", err);
		sbx_config_fini(&c);
	}
	{
		char *argv[] = { "sandboxd", "--timeout-ms", "9999999", "--max-execution-time", "60", NULL };
		char *envp[] = { NULL };
		CHECK(load(&c, argv, envp, &a, err) < 0);
		CHECKF(strstr(err, "above the maximum execution time") != NULL, "%s", err);
		sbx_config_fini(&c);
	}
	{
		/* Refused inside a cluster of short options: the error names the
		 * letter, and the next load starts afresh (it once went on with the
		 * "h" left over from this argv). */
		char *argv[] = { "sandboxd", "-Xh", NULL }, *envp[] = { NULL };
		char *argv2[] = { "sandboxd", "--rpc", "ipc:///tmp/x", NULL };
		CHECK(load(&c, argv, envp, &a, err) < 0);
		CHECKF(strstr(err, "'-X'") != NULL, "%s", err);
		sbx_config_fini(&c);
		CHECK_INT(load(&c, argv2, envp, &a, err), 0);
		CHECK_INT(a, SBX_ACTION_SERVE);
		sbx_config_fini(&c);
	}
	{
		/* Disk limits: 512 MB by default, from the environment too; below
		 * the smallest volume or above the maximum is refused; 0 is off. */
		char *argv[] = { "sandboxd", NULL }, *envp[] = { "MIN_FREE_DISK_MB=5", NULL };
		char *small[] = { "sandboxd", "--disk-limit-mb", "8", NULL };
		char *big[] = { "sandboxd", "--disk-limit-mb", "900", "--max-disk-limit-mb", "800", NULL };
		char *off[] = { "sandboxd", "--disk-limit-mb", "0", NULL };

		CHECK_INT(load(&c, argv, envp, &a, err), 0);
		CHECK_INT(c.default_disk_limit_mb, 512);
		CHECK_INT(c.max_disk_limit_mb, 4096);
		CHECK_INT(c.min_free_disk_mb, 5);
		sbx_config_fini(&c);
		CHECK(load(&c, small, envp, &a, err) < 0);
		CHECKF(strstr(err, "below the smallest, 16 MB") != NULL, "%s", err);
		sbx_config_fini(&c);
		CHECK(load(&c, big, envp, &a, err) < 0);
		CHECKF(strstr(err, "default disk limit 900 MB is above the maximum 800 MB") != NULL, "%s",
		       err);
		sbx_config_fini(&c);
		CHECK_INT(load(&c, off, envp, &a, err), 0);
		CHECK_INT(c.default_disk_limit_mb, 0);
		sbx_config_fini(&c);
	}
	{
		char *argv[] = { "sandboxd", "--print-config", "--api-key", "s3cret", NULL }, *envp[] = { NULL };
		char *out = NULL;
		size_t len = 0;
		FILE *f;

		CHECK_INT(load(&c, argv, envp, &a, err), 0);
		CHECK_INT(a, SBX_ACTION_PRINT);
		f = open_memstream(&out, &len);
		sbx_config_print(&c, f);
		fclose(f);
		CHECK(strstr(out, "sandbox.default_timeout_ms = 30000\n") != NULL);
		CHECK(strstr(out, "s3cret") == NULL);
		CHECK(strstr(out, "daemon.api_key = \"********\"") != NULL);
		CHECK(strstr(out, "languages.python = true\n") != NULL);
		CHECK(strstr(out, "sandbox.read_only_root = true\n") != NULL);
		free(out);
		sbx_config_fini(&c);
	}
	tl_check_readme(sbx_config_markdown, "<!-- sandboxd --help-markdown", "<!-- end of sandboxd --help-markdown");
	TEST_DONE();
}
