/* sandbox-gateway's configuration (gateway/config.c): defaults, the
 * environment, flags over the environment, and refusal of bad values. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_config.h"
#include "log.h"
#include "testlib.h"

static struct gw_config cfg;
static enum gw_config_action action;
static char err[512];

static int load(char **env, int argc, char **argv)
{
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
	CHECK_STR(cfg.rpc_url, "ipc:///run/sandboxd/rpc.sock");
	CHECK_STR(cfg.events_url, "ipc:///run/sandboxd/events.sock");
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
	CHECK_STR(cfg.rpc_url, "ipc:///tmp/r");
	CHECK_STR(cfg.events_url, "ipc:///tmp/e");
	CHECK_INT(cfg.log_level, SBX_LOG_DEBUG);
	CHECK_INT(cfg.log_format, SBX_LOG_JSON);
	CHECK_INT(cfg.threads, 2);

	/* Flags win over the environment; both spellings work. */
	CHECK_INT(LOAD(env, "--listen", "127.0.0.2:81", "--rpc=ipc:///tmp/x", "--max-body", "2k",
		       "--request-timeout=5", "--log-level", "error"),
		  0);
	CHECK_STR(cfg.host, "127.0.0.2");
	CHECK_INT(cfg.port, 81);
	CHECK_STR(cfg.rpc_url, "ipc:///tmp/x");
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
	REFUSE("--log-format", "xml");
	REFUSE("--threads", "8", "--max-connections", "4");
	REFUSE("--bogus");
	REFUSE("positional");
	CHECKF(strstr(err, "positional") != NULL, "%s", err);
	CHECK_INT(load(bad_env, 1, ARGV(NULL)), -EINVAL);
	CHECKF(strstr(err, "SANDBOX_PORT") != NULL, "%s", err);
	CHECK_INT(load(bad_log, 1, ARGV(NULL)), -EINVAL);
}

int main(void)
{
	test_defaults();
	test_env_and_flags();
	test_actions();
	test_bad();
	tl_check_readme(gw_config_markdown, "<!-- sandbox-gateway --help-markdown",
		     "<!-- end of sandbox-gateway --help-markdown");
	TEST_DONE();
}
