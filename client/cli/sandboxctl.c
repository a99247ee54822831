/* sandboxctl: the command line over libsandbox. Each subcommand is a table
 * row naming its RPC; requests and replies go through the one JSON mapper,
 * so `sandboxctl call METHOD JSON` reaches every method of the table. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json_pb.h"
#include "methods.h"
#include "options.h"
#include "sandbox.h"
#include "status.h"

#include "sandboxctl.h"

struct command {
	const char *name;
	/* Commands with a method print its reply as JSON; the others have a
	 * function of their own. */
	const char *method;
	int (*fn)(const struct globals *g, int argc, char **argv);
	const char *args;
	const char *help;
};

static int cmd_call(const struct globals *g, int argc, char **argv);
static int cmd_methods(const struct globals *g, int argc, char **argv);
static int cmd_object(const struct globals *g, int argc, char **argv);

static const struct command commands[] = {
	{ "health", "Health", NULL, "", "print the daemon's health" },
	{ "config", "GetConfig", NULL, "", "print the daemon's effective limits and settings" },
	{ "languages", "ListLanguages", NULL, "", "list the installed languages and versions" },
	{ "run", NULL, cmd_run, "[LIMITS] -- CMD [ARG...]", "run a command in a fresh sandbox" },
	{ "exec", NULL, cmd_exec, "--lang LANG [LIMITS] [FILE]", "run source code (FILE or stdin)" },
	{ "sandbox", NULL, cmd_object, "create|list|get|exec|upload|files|download|rm ...",
	  "sandboxes (sandboxctl sandbox --help)" },
	{ "session", NULL, cmd_object, "create|list|get|run|env|cwd|files|download|rm ...",
	  "sessions (sandboxctl session --help)" },
	{ "deploy", NULL, cmd_object, "create|list|get|files|rm|open ...", "deployments (sandboxctl deploy --help)" },
	{ "executions", NULL, cmd_object, "list|get ...", "the execution history" },
	{ "stats", "GetStats", NULL, "", "print execution statistics" },
	{ "admin", NULL, cmd_object, "status|sandboxes|sandbox|stop|resources|logs|output ...",
	  "the admin API" },
	{ "logs", NULL, cmd_logs, "[-f] [-n N] [--events URL] ID",
	  "print an object's output lines (following a running execution; -f: forever)" },
	{ "nodes", NULL, cmd_nodes, "[--json]", "list the nodes: id, address, up, load" },
	{ "call", NULL, cmd_call, "METHOD [JSON]", "call any RPC method with a JSON request" },
	{ "methods", NULL, cmd_methods, "", "list the RPC methods" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: sandboxctl [OPTIONS] COMMAND [ARGS]\n\n"
		   "Talks to sandboxd over its RPC socket and prints replies as JSON.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < SBX_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-9s %-28s %s\n", commands[i].name, commands[i].args, commands[i].help);
	fprintf(f, "\nOptions (environment in parentheses):\n"
		   "  --rpc URL         a daemon's RPC URL (SANDBOXD_RPC, default %s);\n"
		   "                    repeat it or separate URLs with commas for a cluster\n"
		   "  --rpc-dns tcp://NAME:PORT  every address of NAME is a node (SANDBOXD_RPC_DNS)\n"
		   "  --events URL      a daemon's events URL, repeatable or comma-separated\n"
		   "                    (SANDBOXD_EVENTS, default %s)\n"
		   "  --events-dns tcp://NAME:PORT  every address of NAME publishes (SANDBOXD_EVENTS_DNS)\n"
		   "  --cluster-key KEY the cluster's key, sent with every call (SANDBOX_CLUSTER_KEY)\n"
		   "  --cluster-key-file PATH  the key from a file (SANDBOX_CLUSTER_KEY_FILE)\n"
		   "  --token KEY       API key (SANDBOX_API_KEY)\n"
		   "  --timeout MS      per-call timeout (default 30000)\n"
		   "  --wait MS         wait this long for the daemon to come up (default 2000)\n"
		   "  -h, --help        this text\n"
		   "  -V, --version     print the version\n\n"
		   "LIMITS of run and exec: --time MS (CPU), --wall MS, --mem KB, --fsize KB,\n"
		   "--nofile N, --pids N; -e KEY=VALUE adds to the environment; --json prints\n"
		   "the whole result instead of the program's output. Without --json, run and\n"
		   "exec print the program's stdout and stderr and exit with its exit code\n"
		   "(128+N when killed by signal N, 124 when a limit stopped it).\n\n"
		   "Exit status: 0 success; 1 the daemon answered with an error; 2 usage error;\n"
		   "3 the daemon (or the node holding the object) is unavailable; 4 timeout.\n",
		SBX_DEFAULT_RPC_URL, SBX_DEFAULT_EVENTS_URL);
}

/* What the client was pointed at, for messages. */
static const char *where(const struct globals *g)
{
	return g->rpc_url ? g->rpc_url : g->rpc_dns;
}

int ctl_open(const struct globals *g, struct sbx_client **ret)
{
	struct sbx_client_opts o = { .rpc_url = g->rpc_url, .rpc_dns = g->rpc_dns,
				     .cluster_key = g->cluster_key, .auth_token = g->token,
				     .timeout_ms = g->timeout_ms, .connect_wait_ms = g->connect_ms };
	int r = sbx_client_open(&o, ret);

	if (r < 0) {
		fprintf(stderr, "sandboxctl: cannot use %s: %s\n", where(g),
			r == -EINVAL ? "not an ipc:// or tcp:// URL (and --rpc-dns wants tcp://NAME:PORT)"
				     : strerror(-r));
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int ctl_call_error(const struct globals *g, int err, const char *node)
{
	if (err == -EHOSTDOWN)
		fprintf(stderr, "sandboxctl: node %s that holds this object is down; retry when it is back\n",
			node && *node ? node : "?");
	else if (err == -ECONNRESET)
		fprintf(stderr, "sandboxctl: node %s went away while running this request; it was not retried\n",
			node && *node ? node : "?");
	else
		fprintf(stderr, "sandboxctl: %s: %s\n", where(g),
			err == -ECONNREFUSED ? "the daemon is not running or not reachable" : strerror(-err));
	return err == -ETIMEDOUT ? EXIT_TIMEOUT : EXIT_UNAVAILABLE;
}

int ctl_call(const struct globals *g, const char *method, const ProtobufCMessage *req,
	     ProtobufCMessage **ret)
{
	struct sbx_client *c = NULL;
	struct sbx_reply reply;
	char node[SBX_NODE_NAME_MAX] = "";
	struct sbx_call_opts co = { .node = node };
	int r;

	r = ctl_open(g, &c);
	if (r != EXIT_OK)
		return r;
	r = sbx_call_opts(c, method, req, &co, &reply);
	sbx_client_close(c);
	if (r < 0)
		return ctl_call_error(g, r, node);
	if (reply.status != SBX_OK) {
		fprintf(stderr, "sandboxctl: %s: %s\n", sbx_status_name(reply.status), reply.message);
		sbx_reply_fini(&reply);
		return EXIT_RPC_ERROR;
	}
	*ret = TAKE_PTR(reply.msg);
	sbx_reply_fini(&reply);
	return EXIT_OK;
}

static int call_and_print(const struct globals *g, const char *method, const char *json_text)
{
	const sbx_method *m = sbx_method_find(method);
	ProtobufCMessage *req = NULL, *rep = NULL;
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
	r = ctl_call(g, method, req, &rep);
	protobuf_c_message_free_unpacked(req, NULL);
	if (r != EXIT_OK)
		return r;
	out = jpb_to_json(rep, NULL);
	protobuf_c_message_free_unpacked(rep, NULL);
	if (!out)
		return EXIT_RPC_ERROR;
	json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(out);
	return EXIT_OK;
}

static int cmd_call(const struct globals *g, int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "sandboxctl: usage: call METHOD [JSON]\n");
		return EXIT_USAGE;
	}
	return call_and_print(g, argv[1], argc == 3 ? argv[2] : NULL);
}

/* `sandboxctl NOUN VERB [ID] [REST...]`: each row builds the JSON request
 * of its method from the arguments, which then goes through the mapper
 * like any `call`. */
enum rest_kind {
	REST_NONE,
	REST_JSON,    /* one optional JSON object: the request's other fields */
	REST_ARGV,    /* [--] ARG...: a string array field */
	REST_KV,      /* KEY=VALUE...: a map field */
	REST_STRING,  /* one string field */
	REST_DOWNLOAD, /* PATH [-o FILE]: the reply's bytes, raw (files.c) */
};

struct object_command {
	const char *noun, *verb, *method;
	const char *id_field;  /* the first argument goes here; NULL: no id */
	enum rest_kind rest;
	const char *rest_field;
	const char *usage;
};

static const struct object_command object_commands[] = {
	{ "sandbox", "create", "CreateSandbox", NULL, REST_JSON, NULL,
	  "sandbox create JSON   e.g. '{\"runtime\":\"node\",\"code\":\"console.log(1)\"}'" },
	{ "sandbox", "list", "ListSandboxes", NULL, REST_NONE, NULL, "sandbox list" },
	{ "sandbox", "get", "GetSandbox", "id", REST_NONE, NULL, "sandbox get ID" },
	{ "sandbox", "exec", "ExecuteSandbox", "id", REST_NONE, NULL, "sandbox exec ID" },
	{ "sandbox", "upload", "UploadFiles", "id", REST_JSON, NULL,
	  "sandbox upload ID '{\"files\":[{\"path\":\"a.js\",\"content\":\"...\"}]}'" },
	{ "sandbox", "files", "ListSandboxFiles", "id", REST_STRING, "path",
	  "sandbox files ID [DIR]   list the workspace (or DIR in it) as JSON" },
	{ "sandbox", "download", "DownloadSandboxFile", "id", REST_DOWNLOAD, "path",
	  "sandbox download ID PATH [-o FILE]   a workspace file's bytes to FILE or stdout" },
	{ "sandbox", "rm", "DeleteSandbox", "id", REST_NONE, NULL, "sandbox rm ID" },
	{ "session", "create", "CreateSession", NULL, REST_JSON, NULL, "session create ['{\"env\":{\"K\":\"v\"}}']" },
	{ "session", "list", "ListSessions", NULL, REST_NONE, NULL, "session list" },
	{ "session", "get", "GetSession", "session_id", REST_NONE, NULL, "session get ID" },
	{ "session", "run", "SessionRun", "session_id", REST_ARGV, "command", "session run ID -- CMD [ARG...]" },
	{ "session", "env", "SetSessionEnv", "session_id", REST_KV, "env", "session env ID KEY=VALUE..." },
	{ "session", "cwd", "SetSessionCwd", "session_id", REST_STRING, "cwd", "session cwd ID PATH" },
	{ "session", "files", "ListSessionFiles", "session_id", REST_STRING, "path",
	  "session files ID [DIR]   list the workspace (or DIR in it) as JSON" },
	{ "session", "download", "DownloadSessionFile", "session_id", REST_DOWNLOAD, "path",
	  "session download ID PATH [-o FILE]   a workspace file's bytes to FILE or stdout" },
	{ "session", "rm", "DeleteSession", "session_id", REST_NONE, NULL, "session rm ID" },
	{ "deploy", "create", "Deploy", NULL, REST_JSON, NULL,
	  "deploy create JSON   e.g. '{\"runtime\":\"node\",\"entry_point\":\"server.js\",\"code\":\"...\"}'" },
	{ "deploy", "list", "ListDeployments", NULL, REST_NONE, NULL, "deploy list" },
	{ "deploy", "get", "GetDeployment", "id", REST_NONE, NULL, "deploy get ID" },
	{ "deploy", "files", "UpdateDeploymentFiles", "id", REST_JSON, NULL,
	  "deploy files ID '{\"files\":[...],\"restart_dev_server\":true}'" },
	{ "deploy", "rm", "DeleteDeployment", "id", REST_NONE, NULL, "deploy rm ID" },
	{ "deploy", "open", "OpenProxy", "id", REST_JSON, NULL,
	  "deploy open ID ['{\"kind\":\"proxy\"}']   start it, print its forwarder socket" },
	{ "executions", "list", "ListExecutions", NULL, REST_JSON, NULL,
	  "executions list ['{\"limit\":10,\"before\":\"EXECUTION_ID\"}']" },
	{ "executions", "get", "GetExecution", "execution_id", REST_NONE, NULL, "executions get ID" },
	{ "admin", "status", "AdminStatus", NULL, REST_NONE, NULL, "admin status" },
	{ "admin", "sandboxes", "AdminListSandboxes", NULL, REST_NONE, NULL, "admin sandboxes" },
	{ "admin", "sandbox", "AdminGetSandbox", "id", REST_NONE, NULL, "admin sandbox ID" },
	{ "admin", "stop", "AdminForceStop", "id", REST_NONE, NULL, "admin stop ID" },
	{ "admin", "resources", "AdminSandboxResources", "id", REST_NONE, NULL, "admin resources ID" },
	{ "admin", "logs", "AdminLogs", NULL, REST_JSON, NULL, "admin logs ['{\"lines\":50}']" },
	{ "admin", "output", "AdminSandboxLogs", "id", REST_JSON, NULL,
	  "admin output ID ['{\"lines\":50}']" },
};

static void object_usage(FILE *f, const char *noun)
{
	fprintf(f, "%susage:\n", f == stderr ? "sandboxctl: " : "");
	for (size_t i = 0; i < SBX_ARRAY_SIZE(object_commands); i++)
		if (strcmp(object_commands[i].noun, noun) == 0)
			fprintf(f, "  sandboxctl %s\n", object_commands[i].usage);
}

/* NOUN --help, NOUN VERB --help: only there, so that `session run ID --
 * CMD --help` still runs CMD. */
static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && i <= 2; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	return false;
}

/* The request of row c from args (after NOUN VERB), or NULL with the
 * reason printed. */
static json_t *object_request(const struct object_command *c, int argc, char **argv)
{
	json_t *req = NULL, *v;
	json_error_t jerr;
	int i = 0;

	if (c->id_field && argc < 1)
		return NULL;
	if (c->rest == REST_JSON && argc > i + (c->id_field != NULL)) {
		req = json_loads(argv[c->id_field ? 1 : 0], 0, &jerr);
		if (!req || !json_is_object(req)) {
			fprintf(stderr, "sandboxctl: the request must be a JSON object%s%s\n", req ? "" : ": ",
				req ? "" : jerr.text);
			json_decref(req);
			return NULL;
		}
	}
	if (!req)
		req = json_object();
	if (c->id_field)
		json_object_set_new(req, c->id_field, json_string(argv[i++]));
	if (c->rest == REST_JSON)
		i += i < argc;
	if (c->rest == REST_ARGV && i < argc && strcmp(argv[i], "--") == 0)
		i++;
	switch (c->rest) {
	case REST_ARGV:
		v = json_array();
		for (; i < argc; i++)
			json_array_append_new(v, json_string(argv[i]));
		if (json_array_size(v) == 0) {
			json_decref(v);
			break;
		}
		json_object_set_new(req, c->rest_field, v);
		break;
	case REST_KV:
		v = json_object();
		for (; i < argc; i++) {
			const char *eq = strchr(argv[i], '=');

			if (!eq || eq == argv[i]) {
				fprintf(stderr, "sandboxctl: '%s' is not KEY=VALUE\n", argv[i]);
				json_decref(v);
				json_decref(req);
				return NULL;
			}
			json_object_setn_new(v, argv[i], (size_t)(eq - argv[i]), json_string(eq + 1));
		}
		json_object_set_new(req, c->rest_field, v);
		break;
	case REST_STRING:
		if (i < argc)
			json_object_set_new(req, c->rest_field, json_string(argv[i++]));
		break;
	default:
		break;
	}
	if (i < argc && c->rest != REST_ARGV && c->rest != REST_KV) {
		fprintf(stderr, "sandboxctl: unexpected argument '%s'\n", argv[i]);
		json_decref(req);
		return NULL;
	}
	return req;
}

static int cmd_object(const struct globals *g, int argc, char **argv)
{
	if (wants_help(argc, argv)) {
		object_usage(stdout, argv[0]);
		return EXIT_OK;
	}
	for (size_t i = 0; argc >= 2 && i < SBX_ARRAY_SIZE(object_commands); i++) {
		const struct object_command *c = &object_commands[i];
		char *text;
		json_t *req;
		int r;

		if (strcmp(c->noun, argv[0]) != 0 || strcmp(c->verb, argv[1]) != 0)
			continue;
		if (c->rest == REST_DOWNLOAD) {
			r = cmd_download(g, c->method, c->id_field, argc - 2, argv + 2);
			if (r == EXIT_USAGE)
				object_usage(stderr, argv[0]);
			return r;
		}
		req = object_request(c, argc - 2, argv + 2);
		if (!req) {
			object_usage(stderr, argv[0]);
			return EXIT_USAGE;
		}
		text = json_dumps(req, 0);
		json_decref(req);
		if (!text)
			return EXIT_USAGE;
		r = call_and_print(g, c->method, text);
		free(text);
		return r;
	}
	object_usage(stderr, argv[0]);
	return EXIT_USAGE;
}

static int cmd_methods(const struct globals *g, int argc, char **argv)
{
	for (size_t j = 0; j < sbx_method_count(); j++)
		printf("%s\t%s -> %s\n", sbx_method_at(j)->name, sbx_method_at(j)->input->short_name,
		       sbx_method_at(j)->output->short_name);
	return EXIT_OK;
}

/* A list option: the first use replaces the environment's value, each
 * further one (repeated, or already comma-separated) is added. */
struct url_list {
	char buf[4096];
	bool from_flag;
};

static int list_add(struct url_list *l, const char *flag, const char *value)
{
	size_t used = l->from_flag ? strlen(l->buf) : 0;

	if (!*value || used + 1 + strlen(value) >= sizeof(l->buf)) {
		fprintf(stderr, "sandboxctl: --%s: '%s' is empty or makes the list too long\n", flag, value);
		return -EINVAL;
	}
	snprintf(l->buf + used, sizeof(l->buf) - used, "%s%s", used ? "," : "", value);
	l->from_flag = true;
	return 0;
}

static const char *env_or_null(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static int parse_ms(int ch, const char *arg, unsigned *ret)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (!*arg || *end || v > 86400000) {
		fprintf(stderr, "sandboxctl: --%s needs milliseconds, not '%s'\n",
			ch == 'T' ? "timeout" : "wait", arg);
		return -EINVAL;
	}
	*ret = (unsigned)v;
	return 0;
}

/* Global options into g; the index of the command, or -1 (usage error,
 * printed) or -2 (done: help or version printed). */
/* The daemon's and the gateway's rules: one line, its newline dropped,
 * nothing else (a space is part of the key). */
static int read_key_file(const char *path, struct globals *g)
{
	static char key[4096];
	char err[512];

	if (sbx_opts_read_file(path, "--cluster-key-file", key, sizeof(key), err, sizeof(err)) < 0) {
		fprintf(stderr, "sandboxctl: %s\n", err);
		return -1;
	}
	g->cluster_key = key;
	return 0;
}

static int parse_globals(int argc, char **argv, struct globals *g)
{
	static const struct option lopts[] = {
		{ "rpc", required_argument, NULL, 'r' },         { "rpc-dns", required_argument, NULL, 'R' },
		{ "events", required_argument, NULL, 'e' },      { "events-dns", required_argument, NULL, 'E' },
		{ "cluster-key", required_argument, NULL, 'k' }, { "cluster-key-file", required_argument, NULL, 'K' },
		{ "token", required_argument, NULL, 't' },       { "timeout", required_argument, NULL, 'T' },
		{ "wait", required_argument, NULL, 'w' },        { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },           { 0 },
	};
	static struct url_list rpc, events;
	const char *key_file = env_or_null("SANDBOX_CLUSTER_KEY_FILE");
	int ch;

	while ((ch = getopt_long(argc, argv, "+hV", lopts, NULL)) != -1) {
		int r = 0;

		switch (ch) {
		case 'r':
			r = list_add(&rpc, "rpc", optarg);
			g->rpc_url = rpc.buf;
			break;
		case 'e':
			r = list_add(&events, "events", optarg);
			g->events_url = events.buf;
			break;
		case 'R':
			g->rpc_dns = optarg;
			break;
		case 'E':
			g->events_dns = optarg;
			break;
		case 'k':
			g->cluster_key = optarg;
			break;
		case 'K':
			/* A file named on the command line beats the environment's key. */
			key_file = optarg;
			g->cluster_key = NULL;
			break;
		case 't':
			g->token = optarg;
			break;
		case 'T':
			r = parse_ms(ch, optarg, &g->timeout_ms);
			break;
		case 'w':
			r = parse_ms(ch, optarg, &g->connect_ms);
			break;
		case 'h':
			usage(stdout);
			return -2;
		case 'V':
			printf("sandboxctl %s\n", SBX_VERSION);
			return -2;
		default:
			usage(stderr);
			return -1;
		}
		if (r < 0)
			return -1;
	}
	if (!g->cluster_key && key_file && read_key_file(key_file, g) < 0)
		return -1;
	/* A DNS name alone names the nodes: no default URL beside it. */
	if (!g->rpc_url && !g->rpc_dns)
		g->rpc_url = SBX_DEFAULT_RPC_URL;
	if (optind >= argc) {
		usage(stderr);
		return -1;
	}
	return optind;
}

int main(int argc, char **argv)
{
	struct globals g = { .rpc_url = env_or_null("SANDBOXD_RPC"),
			     .rpc_dns = env_or_null("SANDBOXD_RPC_DNS"),
			     .events_url = env_or_null("SANDBOXD_EVENTS"),
			     .events_dns = env_or_null("SANDBOXD_EVENTS_DNS"),
			     .cluster_key = env_or_null("SANDBOX_CLUSTER_KEY"),
			     .token = getenv("SANDBOX_API_KEY"), .timeout_ms = 30000, .connect_ms = 2000 };
	const char *cmd;
	int at = parse_globals(argc, argv, &g);

	if (at < 0)
		return at == -2 ? EXIT_OK : EXIT_USAGE;
	cmd = argv[at];
	for (size_t i = 0; i < SBX_ARRAY_SIZE(commands); i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		if (commands[i].method)
			return call_and_print(&g, commands[i].method, NULL);
		return commands[i].fn(&g, argc - at, argv + at);
	}
	fprintf(stderr, "sandboxctl: unknown command '%s' (see --help)\n", cmd);
	return EXIT_USAGE;
}
