/* sandbox-gateway's configuration (gateway/config.c): defaults, the
 * environment, flags over the environment, and refusal of bad values. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_config.h"
#include "log.h"
#include "testlib.h"

static struct gw_config cfg;
static enum gw_config_action action;
static char err[512];

/* Each load frees the last one's lists (gw_config_load leaves cfg alone
 * when it refuses). */
static int load(char **env, int argc, char **argv)
{
	gw_config_fini(&cfg);
	memset(&cfg, 0, sizeof(cfg));
	err[0] = '\0';
	return gw_config_load(&cfg, argc, argv, env, &action, err, sizeof(err));
}

#define ARGV(...) ((char *[]){"sandbox-gateway", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"sandbox-gateway", __VA_ARGS__}) / sizeof(char *)))
#define LOAD(env, ...) load(env, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static void test_defaults(void)
{
	char *argv[] = {"sandbox-gateway", NULL};
	char *env[] = {NULL};

	CHECK_INT(load(env, 1, argv), 0);
	CHECK_INT(action, GW_ACTION_RUN);
	CHECK_STR(cfg.host, "127.0.0.1");
	CHECK_INT(cfg.port, 8070);
	CHECK_STR(cfg.rpc.joined, "ipc:///run/sandboxd/rpc.sock");
	CHECK_STR(cfg.events.joined, "ipc:///run/sandboxd/events.sock");
	CHECK_INT(cfg.max_body, 16 << 20);
	CHECK_INT(cfg.request_timeout_ms, 60000);
	CHECK_INT(cfg.threads, 4);
	CHECK_INT(cfg.log_level, SBX_LOG_INFO);
	CHECK_INT(cfg.log_format, SBX_LOG_TEXT);
}

static void test_env_and_flags(void)
{
	char *env[] = {"SANDBOX_HOST=0.0.0.0",	    "SANDBOX_PORT=9000",
		       "SANDBOXD_RPC=ipc:///tmp/r", "SANDBOXD_EVENTS=ipc:///tmp/e",
		       "LOG_LEVEL=debug",	    "LOG_FORMAT=json",
		       "SANDBOX_PORTX=1",	    NULL};

	CHECK_INT(LOAD(env, "--threads", "2"), 0);
	CHECK_STR(cfg.host, "0.0.0.0");
	CHECK_INT(cfg.port, 9000);
	CHECK_STR(cfg.rpc.joined, "ipc:///tmp/r");
	CHECK_STR(cfg.events.joined, "ipc:///tmp/e");
	CHECK_INT(cfg.log_level, SBX_LOG_DEBUG);
	CHECK_INT(cfg.log_format, SBX_LOG_JSON);
	CHECK_INT(cfg.threads, 2);

	/* Flags win over the environment; both spellings work. */
	CHECK_INT(LOAD(env, "--listen", "127.0.0.2:81", "--rpc=ipc:///tmp/x", "--max-body", "2k",
		       "--request-timeout=5", "--log-level", "error"),
		  0);
	CHECK_STR(cfg.host, "127.0.0.2");
	CHECK_INT(cfg.port, 81);
	CHECK_STR(cfg.rpc.joined, "ipc:///tmp/x");
	CHECK_INT(cfg.max_body, 2048);
	CHECK_INT(cfg.request_timeout_ms, 5);
	CHECK_INT(cfg.log_level, SBX_LOG_ERROR);

	CHECK_INT(LOAD(env, "--listen", ":8081"), 0);
	CHECK_STR(cfg.host, "0.0.0.0");
	CHECK_INT(cfg.port, 8081);
	CHECK_INT(LOAD(env, "--listen", "[::1]:0"), 0);
	CHECK_STR(cfg.host, "::1");
	CHECK_INT(cfg.port, 0);
	CHECK_INT(LOAD(env, "--max-body", "1m"), 0);
	CHECK_INT(cfg.max_body, 1 << 20);
}

static void test_actions(void)
{
	char *env[] = {NULL};

	CHECK_INT(LOAD(env, "--help"), 0);
	CHECK_INT(action, GW_ACTION_HELP);
	CHECK_INT(LOAD(env, "--version"), 0);
	CHECK_INT(action, GW_ACTION_VERSION);
}

static void test_bad(void)
{
	char *env[] = {NULL};
	char *bad_env[] = {"SANDBOX_PORT=http", NULL};
	char *bad_log[] = {"LOG_LEVEL=loud", NULL};

#define REFUSE(...)                                                                                \
	do {                                                                                       \
		CHECKF(LOAD(env, __VA_ARGS__) == -EINVAL, "%s", #__VA_ARGS__);                     \
		CHECKF(err[0] != '\0', "no sentence for %s", #__VA_ARGS__);                        \
	} while (0)
	REFUSE("--threads", "0");
	REFUSE("--threads", "257");
	REFUSE("--threads", "-1");
	REFUSE("--threads", "4x");
	REFUSE("--threads", "");
	REFUSE("--threads");
	REFUSE("--max-body", "0");
	REFUSE("--max-body", "1t");
	REFUSE("--max-body", "99999999999999999999999");
	REFUSE("--request-timeout", " 5");
	REFUSE("--listen", "localhost");
	REFUSE("--listen", "host:99999");
	REFUSE("--listen", "::1:80");
	REFUSE("--listen", "[::1]80");
	REFUSE("--rpc", "");
	REFUSE("--rpc", "ipc:///a,,ipc:///b");
	REFUSE("--rpc", ",ipc:///a");
	REFUSE("--events", "ipc:///a,");
	REFUSE("--cluster-key", "k", "--cluster-key-file", "/dev/null");
	REFUSE("--log-format", "xml");
	REFUSE("--threads", "8", "--max-connections", "4");
	REFUSE("--bogus");
	REFUSE("positional");
	CHECKF(strstr(err, "positional") != NULL, "%s", err);
	CHECK_INT(load(bad_env, 1, ARGV(NULL)), -EINVAL);
	CHECKF(strstr(err, "SANDBOX_PORT") != NULL, "%s", err);
	CHECK_INT(load(bad_log, 1, ARGV(NULL)), -EINVAL);
}

/* --rpc and --events: repeated and comma-separated, joined with commas;
 * the environment's list is replaced by the flags, not added to. */
static void test_cluster_urls(void)
{
	char *none[] = {NULL};
	char *env[] = {"SANDBOXD_RPC=tcp://a:7000,tcp://b:7000", "SANDBOXD_EVENTS=tcp://a:7001",
		       NULL};
	char *dns_env[] = {"SANDBOXD_RPC_DNS=tcp://tasks.sandboxd:7000",
			   "SANDBOXD_EVENTS_DNS=tcp://tasks.sandboxd:7001", NULL};
	char *both_env[] = {"SANDBOXD_RPC=tcp://y:7000",
			    "SANDBOXD_RPC_DNS=tcp://tasks.sandboxd:7000",
			    "SANDBOXD_EVENTS_DNS=tcp://tasks.sandboxd:7001", NULL};

	CHECK_INT(LOAD(none, "--rpc", "tcp://a:7000", "--rpc=tcp://b:7000,tcp://c:7000", "--events",
		       "tcp://a:7001", "--events", "tcp://b:7001"),
		  0);
	CHECK_STR(cfg.rpc.joined, "tcp://a:7000,tcp://b:7000,tcp://c:7000");
	CHECK_STR(cfg.events.joined, "tcp://a:7001,tcp://b:7001");
	CHECK_STR(cfg.rpc_dns, "");
	CHECK_STR(cfg.events_dns, "");

	CHECK_INT(load(env, 1, ARGV(NULL)), 0);
	CHECK_STR(cfg.rpc.joined, "tcp://a:7000,tcp://b:7000");
	CHECK_STR(cfg.events.joined, "tcp://a:7001");
	CHECK_INT(LOAD(env, "--rpc", "tcp://c:7000", "--rpc", "tcp://d:7000"), 0);
	CHECK_STR(cfg.rpc.joined, "tcp://c:7000,tcp://d:7000");
	CHECK_STR(cfg.events.joined, "tcp://a:7001");

	/* The DNS form alone: no default socket joins the nodes it finds. */
	CHECK_INT(load(dns_env, 1, ARGV(NULL)), 0);
	CHECK(cfg.rpc.joined == NULL);
	CHECK(cfg.events.joined == NULL);
	CHECK_STR(cfg.rpc_dns, "tcp://tasks.sandboxd:7000");
	CHECK_STR(cfg.events_dns, "tcp://tasks.sandboxd:7001");
	/* ... and both together. */
	CHECK_INT(LOAD(dns_env, "--rpc", "tcp://x:7000", "--events-dns", "tcp://other:7001"), 0);
	CHECK_STR(cfg.rpc.joined, "tcp://x:7000");
	CHECK_STR(cfg.rpc_dns, "tcp://tasks.sandboxd:7000");
	CHECK_STR(cfg.events_dns, "tcp://other:7001");
	CHECK(cfg.events.joined == NULL);
	/* A URL from the environment stays beside the DNS form. */
	CHECK_INT(load(both_env, 1, ARGV(NULL)), 0);
	CHECK_STR(cfg.rpc.joined, "tcp://y:7000");
	CHECK(cfg.events.joined == NULL);
}

static char *write_file(const char *dir, const char *name, const char *text, size_t len)
{
	char *path = NULL;
	FILE *f;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return NULL;
	f = fopen(path, "w");
	if (!f || fwrite(text, 1, len, f) != len) {
		if (f)
			fclose(f);
		free(path);
		return NULL;
	}
	fclose(f);
	return path;
}

/* The cluster key: from a flag, the environment, or read once from a
 * file (Swarm and Kubernetes secrets) without its newline. */
static void test_cluster_key(void)
{
	char *none[] = {NULL}, *dir = tl_tmpdir("gw-config");
	char long_key[GW_CLUSTER_KEY_MAX + 8], env_entry[96];
	char *good, *crlf, *empty, *lines, *nul, *toolong;
	char *env[] = {"SANDBOX_CLUSTER_KEY=from-env", NULL};
	char *file_env[] = {env_entry, NULL};

	memset(long_key, 'k', sizeof(long_key));
	if (!dir)
		return;
	good = write_file(dir, "good", "s3cret\n", 7);
	crlf = write_file(dir, "crlf", "s3cret\r\n", 8);
	empty = write_file(dir, "empty", "\n", 1);
	lines = write_file(dir, "lines", "a\nb\n", 4);
	nul = write_file(dir, "nul", "a\0b", 3);
	toolong = write_file(dir, "toolong", long_key, sizeof(long_key));
	if (!good || !crlf || !empty || !lines || !nul || !toolong) {
		CHECKF(0, "cannot write the key files in %s", dir);
		return;
	}

	CHECK_INT(load(none, 1, ARGV(NULL)), 0);
	CHECK_STR(cfg.cluster_key, "");
	CHECK_INT(LOAD(none, "--cluster-key", "flag-key"), 0);
	CHECK_STR(cfg.cluster_key, "flag-key");
	CHECK_INT(load(env, 1, ARGV(NULL)), 0);
	CHECK_STR(cfg.cluster_key, "from-env");
	CHECK_INT(LOAD(none, "--cluster-key-file", good), 0);
	CHECK_STR(cfg.cluster_key, "s3cret");
	CHECK_INT(LOAD(none, "--cluster-key-file", crlf), 0);
	CHECK_STR(cfg.cluster_key, "s3cret");
	snprintf(env_entry, sizeof(env_entry), "SANDBOX_CLUSTER_KEY_FILE=%s", good);
	CHECK_INT(load(file_env, 1, ARGV(NULL)), 0);
	CHECK_STR(cfg.cluster_key, "s3cret");

	/* Refused, saying which file and why; never echoing a key. */
	CHECK_INT(LOAD(none, "--cluster-key-file", empty), -EINVAL);
	CHECKF(strstr(err, empty) && strstr(err, "not empty"), "%s", err);
	CHECK_INT(LOAD(none, "--cluster-key-file", lines), -EINVAL);
	CHECKF(strstr(err, "one line"), "%s", err);
	CHECK_INT(LOAD(none, "--cluster-key-file", nul), -EINVAL);
	CHECK_INT(LOAD(none, "--cluster-key-file", toolong), -EINVAL);
	CHECKF(strstr(err, "longer than") && !strstr(err, "kkkk"), "%s", err);
	CHECK_INT(LOAD(none, "--cluster-key-file", "/nonexistent/key"), -EINVAL);
	CHECKF(strstr(err, "/nonexistent/key") && strstr(err, "No such file"), "%s", err);
	CHECK_INT(LOAD(env, "--cluster-key-file", good), -EINVAL);
	CHECKF(strstr(err, "not both"), "%s", err);
	long_key[GW_CLUSTER_KEY_MAX] = '\0';
	CHECK_INT(LOAD(none, "--cluster-key", long_key), -EINVAL);
	CHECKF(!strstr(err, "kkkk"), "the refusal repeats the key: %s", err);
	long_key[GW_CLUSTER_KEY_MAX - 1] = '\0';
	CHECK_INT(LOAD(none, "--cluster-key", long_key), 0);

	for (char **p = (char *[]){good, crlf, empty, lines, nul, toolong, NULL}; *p; p++) {
		unlink(*p);
		free(*p);
	}
	rmdir(dir);
	free(dir);
}

int main(void)
{
	test_defaults();
	test_env_and_flags();
	test_actions();
	test_bad();
	test_cluster_urls();
	test_cluster_key();
	tl_check_readme(gw_config_markdown, "<!-- sandbox-gateway --help-markdown",
		     "<!-- end of sandbox-gateway --help-markdown");
	gw_config_fini(&cfg);
	TEST_DONE();
}
