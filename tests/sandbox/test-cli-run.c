/* `sandboxd --run` (through sbx-run, which is sbx_cli_run()): exit codes,
 * output passthrough, limits flags, --help. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testlib.h"

static int run(const char *args, char *out, size_t size)
{
	char *bin = tl_bin("sbx-run");
	char *dir = tl_tmpdir("sbx-cli-state");
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "%s --state-dir %s %s </dev/null 2>&1", bin, dir, args);
	FILE *p = popen(cmd, "r");
	size_t n = p ? fread(out, 1, size - 1, p) : 0;
	out[n] = 0;
	int st = p ? pclose(p) : -1;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
	free(bin);
	free(dir);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
	char buf[8192], *out = buf;
	int rc = run("-- /bin/echo hi", out, sizeof(buf));
	if (rc == 125 && strstr(out, "engine"))
		SKIP("%s", out);
	CHECK_INT(rc, 0);
	CHECK_STR(out, "hi\n");
	CHECK_INT(run("-- /bin/sh -c 'exit 7'", out, sizeof(buf)), 7);
	CHECK_INT(run("-- /bin/sh -c 'kill -9 $$'", out, sizeof(buf)), 128 + 9);
	CHECK_INT(run("--time 200 --wall 10000 -- /bin/sh -c 'while :; do :; done'", out,
		      sizeof(buf)),
		  128 + 9);
	CHECKF(strstr(out, "CPU time limit") != NULL, "%s", out);
	CHECK_INT(run("--wall 300 -- /bin/sleep 5", out, sizeof(buf)), 128 + 9);
	CHECKF(strstr(out, "wall time limit") != NULL, "%s", out);
	CHECK_INT(run("--nofile 5 -- /bin/sh -c 'ulimit -n'", out, sizeof(buf)), 0);
	CHECK_STR(out, "5\n");
	CHECK_INT(run("--env FOO=bar -- /usr/bin/env", out, sizeof(buf)), 0);
	CHECKF(strstr(out, "FOO=bar\n") != NULL && strstr(out, "SBX_BIN_DIR") == NULL, "%s", out);
	CHECK_INT(run("-- /no/such/thing", out, sizeof(buf)), 127);
	CHECK_INT(run("--help", out, sizeof(buf)), 0);
	CHECK(strstr(out, "Usage: sandboxd --run") != NULL);
	CHECK_INT(run("--time abc -- true", out, sizeof(buf)), 2);

	/* --bind and --workspace below a directory others cannot search
	 * (mkdtemp's 0700): the spawner hands them over as mount trees. */
	char *priv = tl_tmpdir("sbx-cli-private"), args[1024], path[512];
	snprintf(args, sizeof(args),
		 "mkdir %s/data %s/ws && echo from-host > %s/data/f && chmod 0700 %s", priv, priv,
		 priv, priv);
	CHECK(system(args) == 0);
	snprintf(args, sizeof(args),
		 "--bind %s/data:/opt/data --workspace %s/ws -- /bin/sh -c 'cat /opt/data/f; echo "
		 "w > /workspace/o; echo x > /opt/data/g || echo read-only'",
		 priv, priv);
	CHECK_INT(run(args, out, sizeof(buf)), 0);
	CHECKF(strstr(out, "from-host\n") && strstr(out, "read-only\n"), "%s", out);
	snprintf(path, sizeof(path), "%s/ws/o", priv);
	FILE *f = fopen(path, "r");
	CHECKF(f != NULL, "%s was not written", path);
	if (f)
		fclose(f);
	snprintf(args, sizeof(args), "rm -rf %s", priv);
	if (system(args) != 0)
		fprintf(stderr, "cleanup failed\n");
	free(priv);
	TEST_DONE();
}
