/* Configuration text: the TOML subset (common/toml.h), the daemon's config
 * (daemon/daemon_config.h: config.toml, then environment, then flags, validated)
 * and the gateway's (gateway/gw_config.h: environment, then flags).
 *
 * Input: byte 0 % 3 picks the reader, the rest is text:
 *   0  TOML text -> sbx_toml_parse
 *   1  config.toml text, then optionally a line "%%" and lines that are
 *      environment entries ("$NAME=value") or arguments -> sbx_config_load
 *   2  the same lines (no file) -> gw_config_load */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon_config.h"
#include "gw_config.h"
#include "toml.h"

#define MAX_ARGS 64

static int config_fd = -1;
static char config_path[64];
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	config_fd = memfd_create("fuzz-config.toml", MFD_CLOEXEC);
	if (config_fd < 0)
		abort();
	snprintf(config_path, sizeof(config_path), "/proc/self/fd/%d", config_fd);
	devnull = fopen("/dev/null", "we");
	if (!devnull)
		abort();
	return 0;
}

static int toml_cb(void *arg, const char *key, const struct sbx_toml_value *v, char *err,
		   size_t errlen)
{
	if (!key[0] || v->line < 1)
		abort();
	if (v->type == SBX_TOML_STRING && !v->str)
		abort();
	if (v->type == SBX_TOML_BOOL && v->num != 0 && v->num != 1)
		abort();
	/* A callback's refusal ends the parse with its error. */
	if (strcmp(key, "stop") == 0) {
		snprintf(err, errlen, "stopped");
		return -ECANCELED;
	}
	return 0;
}

/* Split text into argv (after argv[0] = prog) and envp, in place. */
static void split_lines(char *text, const char *prog, char **argv, int *argc, char **envp)
{
	int na = 0, ne = 0;
	char *save = NULL;

	argv[na++] = (char *)prog;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (l[0] == '$' && ne < MAX_ARGS)
			envp[ne++] = l + 1;
		else if (l[0] != '$' && na < MAX_ARGS)
			argv[na++] = l;
	}
	argv[na] = NULL;
	envp[ne] = NULL;
	*argc = na;
}

static void daemon_config(char *text)
{
	char *argv[MAX_ARGS + 4], *envp[MAX_ARGS + 1], *lines = strstr(text, "\n%%\n"), err[512];
	enum sbx_config_action action;
	struct sbx_config c;
	int argc, r;

	if (lines) {
		*lines = 0;
		lines += 4;
	}
	if (ftruncate(config_fd, 0) < 0 || pwrite(config_fd, text, strlen(text), 0) < 0)
		abort();
	split_lines(lines ? lines : (char *)"", "sandboxd", argv, &argc, envp);
	/* The file goes first; a --config among the lines wins. */
	if (argc + 2 <= MAX_ARGS + 2) {
		memmove(argv + 3, argv + 1, (size_t)argc * sizeof(*argv));
		argv[1] = (char *)"--config";
		argv[2] = config_path;
		argc += 2;
	}
	err[0] = 0;
	r = sbx_config_load(&c, argc, argv, envp, &action, err, sizeof(err));
	if (r < 0 && r != -ENOMEM && !err[0])
		abort(); /* a refusal must say why */
	if (r == 0 && action == SBX_ACTION_HELP) {
		/* Only this call's arguments may ask for help: "-h" in a cluster
		 * of short options, or "--help" (abbreviated or not). */
		bool asked = false;
		for (int i = 1; i < argc && !asked; i++)
			asked = (argv[i][0] == '-' && argv[i][1] != '-' && strchr(argv[i], 'h')) ||
				strncmp(argv[i], "--h", 3) == 0;
		if (!asked)
			abort();
	}
	if (r == 0)
		sbx_config_print(&c, devnull);
	sbx_config_fini(&c);
}

static void gateway_config(char *text)
{
	char *argv[MAX_ARGS + 1], *envp[MAX_ARGS + 1], err[512];
	enum gw_config_action action;
	struct gw_config cfg;
	int argc, r;

	split_lines(text, "sandbox-gateway", argv, &argc, envp);
	err[0] = 0;
	r = gw_config_load(&cfg, argc, argv, envp, &action, err, sizeof(err));
	if (r < 0 && !err[0])
		abort();
	if (r == 0)
		gw_config_fini(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, err[512];

	if (size < 1)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	switch (data[0] % 3) {
	case 0:
		err[0] = 0;
		if (sbx_toml_parse(text, toml_cb, NULL, err, sizeof(err)) < 0 && !err[0])
			abort();
		break;
	case 1:
		daemon_config(text);
		break;
	case 2:
		gateway_config(text);
		break;
	}
	free(text);
	return 0;
}
