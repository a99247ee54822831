/* sandboxctl: the command line over libsandbox. Each subcommand is a table
 * row naming its RPC; requests and replies go through the one JSON mapper,
 * so `sandboxctl call METHOD JSON` reaches every method of the table. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json_pb.h"
#include "methods.h"
#include "sandbox.h"
#include "status.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_RPC_ERROR = 1,    /* the daemon answered with an error status */
	EXIT_USAGE = 2,
	EXIT_UNAVAILABLE = 3,  /* the daemon could not be reached */
	EXIT_TIMEOUT = 4,
};

struct globals {
	const char *rpc_url;
	const char *token;
	unsigned timeout_ms;
	unsigned connect_ms;
};

struct command {
	const char *name;
	const char *method;    /* NULL: the method is the first argument (call) */
	const char *args;
	const char *help;
};

static const struct command commands[] = {
	{ "health", "Health", "", "print the daemon's health" },
	{ "config", "GetConfig", "", "print the daemon's effective limits and settings" },
	{ "call", NULL, "METHOD [JSON]", "call any RPC method with a JSON request" },
	{ "methods", NULL, "", "list the RPC methods" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: sandboxctl [OPTIONS] COMMAND [ARGS]\n\n"
		   "Talks to sandboxd over its RPC socket and prints replies as JSON.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < SBX_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %-16s %s\n", commands[i].name, commands[i].args, commands[i].help);
	fprintf(f, "\nOptions:\n"
		   "  --rpc URL        daemon RPC URL (env SANDBOXD_RPC, default %s)\n"
		   "  --token KEY      API key (env SANDBOX_API_KEY)\n"
		   "  --timeout MS     per-call timeout (default 30000)\n"
		   "  --wait MS        wait this long for the daemon to come up (default 2000)\n"
		   "  -h, --help       this text\n"
		   "  -V, --version    print the version\n\n"
		   "Exit status: 0 success; 1 the daemon answered with an error; 2 usage error;\n"
		   "3 the daemon is unavailable; 4 timeout.\n",
		SBX_DEFAULT_RPC_URL);
}

static int exit_for_errno(int err)
{
	return err == -ETIMEDOUT ? EXIT_TIMEOUT : EXIT_UNAVAILABLE;
}

static int call_and_print(const struct globals *g, const char *method, const char *json_text)
{
	const sbx_method *m = sbx_method_find(method);
	struct sbx_client_opts o = { .rpc_url = g->rpc_url, .auth_token = g->token,
				     .timeout_ms = g->timeout_ms, .connect_wait_ms = g->connect_ms };
	ProtobufCMessage *req = NULL;
	struct sbx_client *c = NULL;
	struct sbx_reply reply;
	json_error_t jerr;
	json_t *in, *out;
	char err[256];
	int r;

	if (!m) {
		fprintf(stderr, "sandboxctl: no method '%s' (see sandboxctl methods)\n", method);
		return EXIT_USAGE;
	}
	in = json_loads(json_text ? json_text : "{}", 0, &jerr);
	if (!in) {
		fprintf(stderr, "sandboxctl: request is not valid JSON: %s\n", jerr.text);
		return EXIT_USAGE;
	}
	r = jpb_from_json(m->input, in, NULL, &req, err, sizeof(err));
	json_decref(in);
	if (r < 0) {
		fprintf(stderr, "sandboxctl: %s\n", r == -EINVAL ? err : strerror(-r));
		return EXIT_USAGE;
	}
	r = sbx_client_open(&o, &c);
	if (r < 0) {
		fprintf(stderr, "sandboxctl: cannot use %s: %s\n", g->rpc_url, strerror(-r));
		protobuf_c_message_free_unpacked(req, NULL);
		return EXIT_USAGE;
	}
	r = sbx_call(c, method, req, 0, &reply);
	protobuf_c_message_free_unpacked(req, NULL);
	sbx_client_close(c);
	if (r < 0) {
		fprintf(stderr, "sandboxctl: %s: %s\n", g->rpc_url,
			r == -ECONNREFUSED ? "the daemon is not running or not reachable" : strerror(-r));
		return exit_for_errno(r);
	}
	if (reply.status != SBX_OK) {
		fprintf(stderr, "sandboxctl: %s: %s\n", sbx_status_name(reply.status), reply.message);
		sbx_reply_fini(&reply);
		return EXIT_RPC_ERROR;
	}
	out = jpb_to_json(reply.msg, NULL);
	sbx_reply_fini(&reply);
	if (!out)
		return EXIT_RPC_ERROR;
	json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(out);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "rpc", required_argument, NULL, 'r' },     { "token", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 'T' }, { "wait", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },          { "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct globals g = { .rpc_url = getenv("SANDBOXD_RPC"), .token = getenv("SANDBOX_API_KEY"),
			     .timeout_ms = 30000, .connect_ms = 2000 };
	const char *cmd;
	int ch;

	if (!g.rpc_url || !*g.rpc_url)
		g.rpc_url = SBX_DEFAULT_RPC_URL;
	while ((ch = getopt_long(argc, argv, "+hV", lopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			g.rpc_url = optarg;
			break;
		case 't':
			g.token = optarg;
			break;
		case 'T':
		case 'w': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (!*optarg || *end || v > 86400000) {
				fprintf(stderr, "sandboxctl: --%s needs milliseconds, not '%s'\n",
					ch == 'T' ? "timeout" : "wait", optarg);
				return EXIT_USAGE;
			}
			*(ch == 'T' ? &g.timeout_ms : &g.connect_ms) = (unsigned)v;
			break;
		}
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("sandboxctl %s\n", SBX_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind++];
	for (size_t i = 0; i < SBX_ARRAY_SIZE(commands); i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		if (commands[i].method)
			return call_and_print(&g, commands[i].method, NULL);
		if (strcmp(cmd, "methods") == 0) {
			for (size_t j = 0; j < sbx_method_count(); j++)
				printf("%s\t%s -> %s\n", sbx_method_at(j)->name,
				       sbx_method_at(j)->input->short_name,
				       sbx_method_at(j)->output->short_name);
			return EXIT_OK;
		}
		if (optind >= argc) {
			fprintf(stderr, "sandboxctl: call needs a METHOD\n");
			return EXIT_USAGE;
		}
		return call_and_print(&g, argv[optind], optind + 1 < argc ? argv[optind + 1] : NULL);
	}
	fprintf(stderr, "sandboxctl: unknown command '%s' (see --help)\n", cmd);
	return EXIT_USAGE;
}
