/* sandboxctl run / exec: build a RunRequest or ExecuteRequest from flags
 * (through the JSON mapper's dialect machinery, so flag -> field is data),
 * call the daemon, and behave like the program: its output on ours, its
 * exit code as ours. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.pb-c.h"
#include "cleanup.h"
#include "json_pb.h"
#include "methods.h"
#include "sandboxctl.h"

#define CTL_MAX_INPUT (16u << 20)

/* Flag -> request field; the same rows serve RunRequest and ExecuteRequest. */
static const struct jpb_field_map flag_fields[] = {
	{ .json = "time", .path = "limits.cpu_time_ms" },
	{ .json = "wall", .path = "limits.wall_time_ms" },
	{ .json = "mem", .path = "limits.memory_kb" },
	{ .json = "fsize", .path = "limits.fsize_kb" },
	{ .json = "nofile", .path = "limits.nofile" },
	{ .json = "pids", .path = "limits.pids" },
	{ .json = "lang", .path = "language" },
	{ .json = "cwd", .path = "cwd" },
	{ 0 },
};

static const struct jpb_dialect flags_dialect = { .name = "sandboxctl", .in = flag_fields };

/* Read all of fd up to CTL_MAX_INPUT. */
static int read_all(int fd, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap + 1), *p;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	while ((n = read(fd, buf + len, cap - len)) > 0) {
		len += (size_t)n;
		if (len == cap) {
			if (cap >= CTL_MAX_INPUT) {
				free(buf);
				return -E2BIG;
			}
			cap *= 2;
			p = realloc(buf, cap + 1);
			if (!p) {
				free(buf);
				return -ENOMEM;
			}
			buf = p;
		}
	}
	if (n < 0) {
		free(buf);
		return -errno;
	}
	buf[len] = 0;
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int add_env(ProtobufCMessage *req, const char *kv)
{
	const char *eq = strchr(kv, '=');
	_cleanup_free_ char *key = NULL;
	json_t *obj;
	ProtobufCMessage *tmp = NULL;
	char err[256];
	int r;

	if (!eq || eq == kv) {
		fprintf(stderr, "sandboxctl: -e needs KEY=VALUE, not '%s'\n", kv);
		return -EINVAL;
	}
	key = strndup(kv, (size_t)(eq - kv));
	/* Maps cannot be set from one string: map the entry through JSON and
	 * move it over. */
	obj = json_pack("{s:{s:s}}", "env", key, eq + 1);
	r = jpb_from_json(req->descriptor, obj, NULL, &tmp, err, sizeof(err));
	json_decref(obj);
	if (r < 0)
		return r;
	{
		const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(req->descriptor, "env");
		size_t *n_dst = (size_t *)((char *)req + f->quantifier_offset);
		void ***dst = (void ***)((char *)req + f->offset);
		size_t *n_src = (size_t *)((char *)tmp + f->quantifier_offset);
		void ***src = (void ***)((char *)tmp + f->offset);
		void **grown = realloc(*dst, (*n_dst + 1) * sizeof(void *));

		if (!grown) {
			protobuf_c_message_free_unpacked(tmp, NULL);
			return -ENOMEM;
		}
		*dst = grown;
		(*dst)[(*n_dst)++] = (*src)[0];
		*n_src = 0;
	}
	protobuf_c_message_free_unpacked(tmp, NULL);
	return 0;
}

/* Print the program's output and map its fate to our exit code. */
static int finish(const Sbx__ExecResult *res, int json)
{
	if (json) {
		json_t *out = jpb_to_json(&res->base, NULL);

		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(out);
		return res->status == SBX__EXEC_STATUS__EXEC_STATUS_OK ? EXIT_OK : EXIT_RPC_ERROR;
	}
	if (res->stdout.len)
		fwrite(res->stdout.data, 1, res->stdout.len, stdout);
	fflush(stdout);
	if (res->stderr.len)
		fwrite(res->stderr.data, 1, res->stderr.len, stderr);
	switch (res->status) {
	case SBX__EXEC_STATUS__EXEC_STATUS_OK:
	case SBX__EXEC_STATUS__EXEC_STATUS_RUNTIME_ERROR:
		return res->exit_code & 0xff;
	case SBX__EXEC_STATUS__EXEC_STATUS_SIGNALED:
		return 128 + (res->signal & 0x7f);
	case SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR:
		fprintf(stderr, "sandboxctl: the sandbox failed: %s\n", res->error);
		return 125;
	default:
		fprintf(stderr, "sandboxctl: %s%s%s\n",
			protobuf_c_enum_descriptor_get_value(&sbx__exec_status__descriptor, res->status)->name +
				strlen("EXEC_STATUS_"),
			*res->error ? ": " : "", res->error);
		return 124;
	}
}

/* Shared by run and exec: parse flags into a request of `method`'s input
 * type; positional arguments are left in argv[optind..]. */
static int parse_common(int argc, char **argv, const char *method, ProtobufCMessage **ret_req,
			int *ret_json)
{
	static const struct option lopts[] = {
		{ "time", required_argument, NULL, 1 },  { "wall", required_argument, NULL, 1 },
		{ "mem", required_argument, NULL, 1 },   { "fsize", required_argument, NULL, 1 },
		{ "nofile", required_argument, NULL, 1 }, { "pids", required_argument, NULL, 1 },
		{ "lang", required_argument, NULL, 1 },  { "cwd", required_argument, NULL, 1 },
		{ "env", required_argument, NULL, 'e' }, { "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	ProtobufCMessage *req = NULL;
	json_t *empty = json_object();
	char err[256];
	int ch, idx, r;

	r = jpb_from_json(sbx_method_find(method)->input, empty, NULL, &req, err, sizeof(err));
	json_decref(empty);
	if (r < 0)
		return r;
	*ret_json = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+e:", lopts, &idx)) != -1) {
		switch (ch) {
		case 1:
			r = jpb_set_from_string(req, lopts[idx].name, optarg, &flags_dialect, err, sizeof(err));
			if (r < 0) {
				fprintf(stderr, "sandboxctl: --%s: %s\n", lopts[idx].name,
					r == -ENOENT ? "not an option of this command" : err);
				goto fail;
			}
			break;
		case 'e':
			if (add_env(req, optarg) < 0)
				goto fail;
			break;
		case 'j':
			*ret_json = 1;
			break;
		default:
			fprintf(stderr, "sandboxctl: see sandboxctl --help for the options of %s\n", argv[0]);
			goto fail;
		}
	}
	*ret_req = req;
	return 0;
fail:
	protobuf_c_message_free_unpacked(req, NULL);
	return -EINVAL;
}

static int call_exec(const struct globals *g, const char *method, ProtobufCMessage *req, int json)
{
	ProtobufCMessage *res = NULL;
	int r = ctl_call(g, method, req, &res);

	protobuf_c_message_free_unpacked(req, NULL);
	if (r != EXIT_OK)
		return r;
	r = finish((Sbx__ExecResult *)res, json);
	protobuf_c_message_free_unpacked(res, NULL);
	return r;
}

int cmd_run(const struct globals *g, int argc, char **argv)
{
	ProtobufCMessage *req;
	Sbx__RunRequest *run;
	char *input = NULL;
	size_t len = 0;
	int json;

	if (parse_common(argc, argv, "Run", &req, &json) < 0)
		return EXIT_USAGE;
	run = (Sbx__RunRequest *)req;
	if (optind >= argc) {
		fprintf(stderr, "sandboxctl: run needs a command: sandboxctl run [LIMITS] -- CMD [ARG...]\n");
		protobuf_c_message_free_unpacked(req, NULL);
		return EXIT_USAGE;
	}
	run->n_argv = (size_t)(argc - optind);
	run->argv = calloc(run->n_argv, sizeof(char *));
	for (size_t i = 0; run->argv && i < run->n_argv; i++)
		run->argv[i] = strdup(argv[optind + (int)i]);
	/* The program reads our stdin when it is not a terminal. */
	if (!isatty(0) && read_all(0, &input, &len) == 0) {
		run->stdin.data = (uint8_t *)input;
		run->stdin.len = len;
	}
	return call_exec(g, "Run", req, json);
}

int cmd_exec(const struct globals *g, int argc, char **argv)
{
	ProtobufCMessage *req;
	Sbx__ExecuteRequest *ex;
	char *code = NULL;
	size_t len;
	int json, fd = 0, r;

	if (parse_common(argc, argv, "Execute", &req, &json) < 0)
		return EXIT_USAGE;
	ex = (Sbx__ExecuteRequest *)req;
	if (!ex->language || !*ex->language || argc - optind > 1) {
		fprintf(stderr, "sandboxctl: usage: exec --lang LANG [LIMITS] [FILE] (code from stdin without FILE)\n");
		protobuf_c_message_free_unpacked(req, NULL);
		return EXIT_USAGE;
	}
	if (optind < argc && (fd = open(argv[optind], O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "sandboxctl: cannot read %s: %s\n", argv[optind], strerror(errno));
		protobuf_c_message_free_unpacked(req, NULL);
		return EXIT_USAGE;
	}
	r = read_all(fd, &code, &len);
	if (fd > 0)
		close(fd);
	if (r < 0) {
		fprintf(stderr, "sandboxctl: cannot read the code: %s\n", strerror(-r));
		protobuf_c_message_free_unpacked(req, NULL);
		return EXIT_USAGE;
	}
	if (ex->code != protobuf_c_empty_string)
		free(ex->code);
	ex->code = code;
	return call_exec(g, "Execute", req, json);
}
