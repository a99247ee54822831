/* The daemon's configuration: defaults, then config.toml, then environment,
 * then flags; every bad value refused with a sentence naming it. */
#include <stdio.h>
#include <string.h>

#include "config.h"
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
		char *argv[] = { "sandboxd", "--bogus", NULL }, *envp[] = { NULL };
		CHECK(load(&c, argv, envp, &a, err) < 0);
		CHECKF(strstr(err, "--bogus") != NULL, "%s", err);
		sbx_config_fini(&c);
	}
	{
		char *path = write_file("[sandbox]\nunknown_key = 1\n");
		char *argv[] = { "sandboxd", "--config", path, NULL }, *envp[] = { NULL };
		CHECK(load(&c, argv, envp, &a, err) < 0);
		CHECKF(strstr(err, "line 2: unknown setting 'sandbox.unknown_key'") != NULL, "%s", err);
		sbx_config_fini(&c);
		free(path);
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
		free(out);
		sbx_config_fini(&c);
	}
	TEST_DONE();
}
