/* GET /admin/api/docs: the route table described, with the seed's
 * examples where it has them (gateway/admin_page.h). */
#include "admin_page.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "admin_test.h"
#include "files_route.h"
#include "logstream.h"
#include "metrics.h"
#include "cleanup.h"
#include "json_pb.h"
#include "methods.h"
#include "gw_judge0.h"
#include "piston.h"
#include "respond.h"
#include "gw_server.h"

/* ---- GET /admin/api/docs ---- */

/* What the docs (this list and GET /openapi.json) say of hand-written
 * rows: they have no RPC to describe, so their body fields are listed
 * here, and the media type of their answer when it is not JSON. */
static const struct gw_handler_doc handler_docs[] = {
	{gw_admin_page_handler,
	 "The admin page: status, nodes, sandboxes, sessions, deployments, executions with their "
	 "output, live logs and load charts, refreshing itself from the JSON routes and /metrics",
	 {{0}},
	 "text/html"},
	{gw_admin_asset_handler,
	 "A script or style file of the admin and docs pages (admin.js, admin-objects.js, "
	 "admin-charts.js, admin.css, docs.js)",
	 {{0}},
	 "text/javascript"},
	{gw_docs_page_handler,
	 "The API documentation: swagger-ui rendering GET /openapi.json, offline (503 with a page "
	 "saying how to install the viewer when it is missing)",
	 {{0}},
	 "text/html"},
	{gw_docs_file_handler,
	 "A file of the docs viewer (swagger-ui-dist: .js, .css, .png, ...), served from "
	 "--docs-dir",
	 {{0}},
	 "application/octet-stream"},
	{gw_admin_docs_handler, "This list, generated from the gateway's route table", {{0}}, NULL},
	{gw_openapi_handler,
	 "This API as an OpenAPI 3.1 document, generated from the gateway's route table and the "
	 "seeds' dialects",
	 {{0}}, NULL},
	{gw_metrics_handler,
	 "Prometheus' text format: the gateway's counters and every node's GetMetrics",
	 {{0}},
	 "text/plain"},
	{gw_files_download_handler,
	 "One file of the sandbox's or session's directory, its raw bytes (README \"Files out\")",
	 {{0}},
	 "application/octet-stream"},
	{gw_logs_sandbox_handler,
	 "A sandbox's log lines: [{timestamp, level, message, sandbox_id}], the last `lines`; "
	 "with follow=true a live stream of them as Server-Sent Events",
	 {{"lines", "query", false, "integer, 100 unless given"},
	  {"follow", "query", false, "true: a live text/event-stream"}}, NULL},
	{gw_logs_deployment_handler,
	 "A deployment's log ring: its last `lines` as a JSON array, or with follow=true a live "
	 "stream as Server-Sent Events",
	 {{"lines", "query", false, "integer, 100 unless given"},
	  {"follow", "query", false, "true: a live text/event-stream"}}, NULL},
	{gw_logs_session_handler,
	 "A session's runs' output: its last `lines` as a JSON array, or with follow=true a live "
	 "stream as Server-Sent Events",
	 {{"lines", "query", false, "integer, 100 unless given"},
	  {"follow", "query", false, "true: a live text/event-stream"}}, NULL},
	{gw_execute_stream_handler,
	 "POST /api/v1/execute's body; the output as Server-Sent Events as it is printed, then "
	 "the same result object",
	 {{"language", "body", true, "string: a language name"},
	  {"code", "body", true, "string: the program"},
	  {"timeout", "body", false, "number, s of wall time"}},
	 "text/event-stream"},
	{gw_piston_execute_handler,
	 "Piston v2 execute (gateway/piston.h): ListLanguages picks the installed runtime whose "
	 "name or alias is `language` and whose version satisfies `version`, then Execute; "
	 "{language, version, run, compile?} with Piston's stage objects; errors {message}",
	 {{"language", "body", true, "string: a language name or alias"},
	  {"version", "body", true, "string: a semver selector (*, 3.x, ^3, 3.11.2)"},
	  {"files", "body", true,
	   "array of {name?, content, encoding?: utf8 | base64 | hex}; the first utf8 file is "
	   "the program"},
	  {"stdin", "body", false, "string (a trailing newline is added); args: array of string"},
	  {"run_timeout", "body", false,
	   "number, ms; also compile_timeout, run_cpu_time, compile_cpu_time (ms), "
	   "run_memory_limit, compile_memory_limit (bytes, -1: the server's maximum)"}}, NULL},
	/* Judge0 CE (gateway/gw_judge0.h, gateway/SEED-DIFFERENCES.md). */
	{gw_judge0_languages_handler,
	 "Judge0 languages: [{id, name}] of the installed ones, Judge0 CE's ids (ours from 1000)",
	 {{0}}, NULL},
	{gw_judge0_language_handler,
	 "One Judge0 language: {id, name, is_archived, source_file, compile_cmd, run_cmd}",
	 {{0}}, NULL},
	{gw_judge0_statuses_handler, "Judge0's 14 statuses: [{id, description}]", {{0}}, NULL},
	{gw_judge0_submit_handler,
	 "A Judge0 submission: validated as Judge0 does (422 {field: [messages]}); wait=true runs "
	 "it (Execute, number_of_runs times) and answers 201 with the fields asked for, else it "
	 "is queued on a daemon: 201 {token}, 503 queue is full",
	 {{"source_code", "body", true, "string (Base64 with base64_encoded=true)"},
	  {"language_id", "body", true, "integer: an id of GET /judge0/languages"},
	  {"stdin", "body", false, "string; also expected_output, compiler_options, "
				   "command_line_arguments, callback_url"},
	  {"cpu_time_limit", "body", false,
	   "number, s; also cpu_extra_time, wall_time_limit (s), memory_limit, stack_limit, "
	   "max_file_size (KB), max_processes_and_or_threads, number_of_runs, "
	   "redirect_stderr_to_stdout"},
	  {"wait", "query", false,
	   "true: run now and answer with the result; also fields (comma-separated, or *) and "
	   "base64_encoded"}}, NULL},
	{gw_judge0_batch_submit_handler,
	 "Queue up to 20 Judge0 submissions: [{token} or {field: [messages]}] in their order",
	 {{"submissions", "body", true, "array of submissions as POST /judge0/submissions takes"}}, NULL},
	{gw_judge0_get_handler, "A kept Judge0 submission by token, the fields asked for",
	 {{"fields", "query", false, "comma-separated attributes, or *"},
	  {"base64_encoded", "query", false, "true: text attributes in Base64"}}, NULL},
	{gw_judge0_list_handler,
	 "Kept Judge0 submissions, newest first: {submissions, meta}",
	 {{"page", "query", false, "integer from 1"},
	  {"per_page", "query", false, "integer, 20 unless given, at most 100"},
	  {"fields", "query", false, "comma-separated attributes, or *"}}, NULL},
	{gw_judge0_delete_handler,
	 "Delete a finished Judge0 submission; answers with it, Base64-encoded", {{0}}, NULL},
	{gw_judge0_batch_get_handler, "Up to 20 kept Judge0 submissions: {submissions: [...]}",
	 {{"tokens", "query", true, "comma-separated tokens (null for one not found)"},
	  {"fields", "query", false, "comma-separated attributes, or *"}}, NULL},
	{gw_admin_test_handler,
	 "Send a request to this gateway and see its answer: {status, headers, body, "
	 "duration_ms}, and truncated: true when the body was cut at 1 MiB",
	 {{"method", "body", true, "string: GET, POST, PUT, DELETE or PATCH"},
	  {"path", "body", true, "string: a path on this gateway, '/' first, query allowed"},
	  {"headers", "body", false, "object of string: request headers"},
	  {"body", "body", false, "string: the request body"}}, NULL},
};

/* ---- Examples (sandbox-service-API.md) ----
 *
 * Keyed by method and pattern; a `{parameter}` matches whatever the route
 * table calls its parameter, and a NULL method any method (the proxy
 * rows). Rows the table does not have are not used. Requests are the
 * seed's curl commands, responses what the gateway answers. */
#define SB_ID "fab81d7c-f665-432b-85c4-f9d380019709"
#define DEP_ID "4a5fded3-e704-40fa-84a5-fda2bc7ea548"
#define BASE "http://localhost:8070"
/* The node that holds or ran it: the last key of object replies. */
#define NODE_JSON ",\"node\":\"node-a\""
#define JSON_CT "-H \"Content-Type: application/json\" "
#define SANDBOX_JSON                                                                               \
	"{\"id\":\"" SB_ID "\",\"status\":\"created\",\"runtime\":\"node\","                       \
	"\"created_at\":\"2024-01-15T10:30:00Z\",\"timeout_ms\":30000,"                            \
	"\"memory_limit_mb\":256" NODE_JSON "}"
#define ADMIN_SANDBOX_JSON                                                                         \
	"{\"id\":\"" SB_ID "\",\"status\":\"running\",\"runtime\":\"node\","                       \
	"\"created_at\":\"2024-01-15T10:30:00Z\",\"uptime\":120.5,\"memory_mb\":45.2,"             \
	"\"cpu_percentage\":1.5,\"dev_server_url\":null,\"allocated_port\":null,"                  \
	"\"is_persistent\":false,\"container_id\":null" NODE_JSON "}"
#define USAGE_JSON                                                                                 \
	"\"memory_usage\":{\"used\":2048.0,\"total\":8192.0,\"percentage\":25.0},"                 \
	"\"cpu_usage\":{\"used\":12.5,\"total\":100.0,\"percentage\":12.5}"
#define DEPLOYMENT_JSON                                                                            \
	"{\"deployment_id\":\"" DEP_ID "\",\"url\":\"" BASE "/faas/" DEP_ID "/\","                 \
	"\"sandbox_id\":\"" SB_ID "\",\"status\":\"Running\","                                     \
	"\"created_at\":\"2024-01-15T10:30:00Z\",\"runtime\":\"bun\","                             \
	"\"memory_mb\":256" NODE_JSON "}"
#define LOG_JSON(msg, id)                                                                          \
	"{\"timestamp\":\"2024-01-15T10:30:01Z\",\"level\":\"INFO\",\"message\":\"" msg "\","      \
	"\"sandbox_id\":" id "}"

static const struct {
	const char *method; /* NULL: any */
	const char *pattern;
	const char *request, *response;
} examples[] = {
	{"GET", "/health", "curl " BASE "/health",
	 "{\"status\":\"ok\",\"service\":\"sandbox-service\",\"version\":\"0.1.0\"}"},
	{"POST", "/sandbox",
	 "curl -X POST " BASE "/sandbox " JSON_CT
	 "-d '{\"runtime\": \"node\", \"code\": \"console.log(\\\"Hello, World!\\\");\"}'",
	 SANDBOX_JSON},
	{"GET", "/sandbox/{id}", "curl " BASE "/sandbox/" SB_ID, SANDBOX_JSON},
	{"POST", "/sandbox/{id}/execute", "curl -X POST " BASE "/sandbox/" SB_ID "/execute",
	 "{\"sandbox_id\":\"" SB_ID "\",\"success\":true,\"stdout\":\"Hello, World!\\n\","
	 "\"stderr\":\"\",\"exit_code\":0,\"execution_time_ms\":45,\"error\":null" NODE_JSON "}"},
	{"POST", "/sandbox/{id}/files",
	 "curl -X POST " BASE "/sandbox/" SB_ID "/files " JSON_CT
	 "-d '[{\"path\": \"utils.js\", \"content\": \"exports.formatDate = (date) => "
	 "date.toISOString();\"}, {\"path\": \"run.sh\", \"content\": \"#!/bin/bash\\nnode "
	 "index.js\", \"is_executable\": true}]'",
	 "{\"message\":\"Files uploaded successfully\",\"sandbox_id\":\"" SB_ID "\"}"},
	{"GET", "/sandboxes", "curl " BASE "/sandboxes", "[" SANDBOX_JSON "]"},
	{"DELETE", "/sandbox/{id}", "curl -X DELETE " BASE "/sandbox/" SB_ID,
	 "204 No Content (404 Not Found if the sandbox does not exist)"},

	{"GET", "/api/v2/runtimes", "curl " BASE "/api/v2/runtimes",
	 "[{\"language\":\"python\",\"version\":\"3.11.2\",\"aliases\":[\"python3\",\"py\"]},"
	 "{\"language\":\"typescript\",\"version\":\"1.4.5\",\"aliases\":[\"ts\"],"
	 "\"runtime\":\"bun\"}]"},
	{"POST", "/api/v2/execute",
	 "curl " BASE "/api/v2/execute " JSON_CT
	 "-d '{\"language\": \"python\", \"version\": \"3.x\", \"stdin\": \"hello\", "
	 "\"files\": [{\"content\": \"print(input())\"}]}'",
	 "{\"language\":\"python\",\"version\":\"3.11.2\",\"run\":{\"stdout\":\"hello\\n\","
	 "\"stderr\":\"\",\"output\":\"hello\\n\",\"code\":0,\"signal\":null,\"message\":null,"
	 "\"status\":null,\"cpu_time\":48,\"wall_time\":96,\"memory\":3108864}}"},

	{"GET", "/judge0/languages", "curl " BASE "/judge0/languages",
	 "[{\"id\":46,\"name\":\"Bash (5.2.15)\"},{\"id\":71,\"name\":\"Python (3.11.2)\"}]"},
	{"POST", "/judge0/submissions",
	 "curl -X POST '" BASE "/judge0/submissions?wait=true' " JSON_CT
	 "-d '{\"source_code\": \"print(input())\", \"language_id\": 71, \"stdin\": \"Judge0\"}'",
	 "{\"stdout\":\"Judge0\\n\",\"time\":\"0.045\",\"memory\":3292,\"stderr\":null,"
	 "\"token\":\"6c06d19a-c008-400a-a871-daed0778a5bf\",\"compile_output\":null,"
	 "\"message\":null,\"status\":{\"id\":3,\"description\":\"Accepted\"}}"},

	{"GET", "/admin", "curl " BASE "/admin", "<!DOCTYPE html> ... (the admin page)"},
	{"GET", "/admin/api/status", "curl " BASE "/admin/api/status",
	 "{\"uptime\":3600.5,\"active_sandboxes\":2,\"total_sandboxes_created\":15,"
	 "\"backend_type\":\"Docker\",\"version\":\"0.1.0\"," USAGE_JSON ","
	 "\"nodes\":[{\"id\":\"node-a\",\"tag\":\"04c3b593\",\"running\":1,\"queued\":0,"
	 "\"slots\":8,\"objects\":2,\"memory_total_mb\":7936,\"memory_available_mb\":5120,"
	 "\"tunnel_port\":0,\"address\":\"ipc:///run/sandboxd/rpc.sock\",\"up\":true}],"
	 "\"warm_pools\":[{\"kind\":\"exec\",\"size\":4,\"ready\":3,\"in_use\":1,\"built\":120,"
	 "\"taken\":116,\"misses\":9,\"failed\":0,\"refill_per_s\":0.8,\"memory_kb\":4608}],"
	 "\"partial\":false}"},
	{"GET", "/admin/api/resources", "curl " BASE "/admin/api/resources", "{" USAGE_JSON "}"},
	{"GET", "/admin/api/sandboxes", "curl " BASE "/admin/api/sandboxes",
	 "[" ADMIN_SANDBOX_JSON "]"},
	{"GET", "/admin/api/sandboxes/{id}", "curl " BASE "/admin/api/sandboxes/" SB_ID,
	 ADMIN_SANDBOX_JSON},
	{"GET", "/admin/api/sandboxes/{id}/logs",
	 "curl \"" BASE "/admin/api/sandboxes/" SB_ID "/logs?lines=50\"",
	 "[" LOG_JSON("Hello, World!", "\"" SB_ID "\"") "]"},
	{"POST", "/admin/api/sandboxes/{id}/force-stop",
	 "curl -X POST " BASE "/admin/api/sandboxes/" SB_ID "/force-stop",
	 "{\"success\":true,\"message\":\"Sandbox " SB_ID " stopped\"}"},
	{"GET", "/admin/api/sandboxes/{id}/resources",
	 "curl " BASE "/admin/api/sandboxes/" SB_ID "/resources",
	 "{\"memory\":{\"used\":45.2,\"limit\":256,\"percentage\":17.7},"
	 "\"cpu\":{\"percentage\":1.5,\"cores\":1},"
	 "\"disk\":{\"read_bytes\":0,\"write_bytes\":4096,\"used\":1.2,\"limit\":1024,"
	 "\"percentage\":0.1},\"network\":{\"bytes_in\":0,\"bytes_out\":0}}"},
	{"GET", "/admin/api/logs", "curl \"" BASE "/admin/api/logs?lines=100\"",
	 "[" LOG_JSON("sandbox " SB_ID " created", "null") "]"},
	{"GET", "/admin/api/docs", "curl " BASE "/admin/api/docs",
	 "[{\"method\":\"GET\",\"path\":\"/health\",\"description\":\"RPC Health ...\","
	 "\"parameters\":[],\"example_request\":\"curl " BASE "/health\","
	 "\"example_response\":\"{\\\"status\\\":\\\"ok\\\", ...}\"}]"},
	{"POST", "/admin/api/test",
	 "curl -X POST " BASE "/admin/api/test " JSON_CT
	 "-d '{\"method\": \"GET\", \"path\": \"/health\"}'",
	 "{\"status\":200,\"headers\":{\"date\":\"Mon, 15 Jan 2024 10:30:00 "
	 "GMT\",\"content-type\":\"application/json\","
	 "\"content-length\":\"61\"},\"body\":\"{\\\"status\\\":\\\"ok\\\","
	 "\\\"service\\\":\\\"sandbox-service\\\",\\\"version\\\":\\\"0.1.0\\\"}\","
	 "\"duration_ms\":1.234}"},

	{"POST", "/faas/deploy",
	 "curl -X POST " BASE "/faas/deploy " JSON_CT
	 "-d '{\"runtime\": \"bun\", \"code\": \"console.log(\\\"Hello FaaS!\\\");\", "
	 "\"entry_point\": \"bun dev\", \"files\": [{\"path\": \"package.json\", \"content\": "
	 "\"{\\\"name\\\": \\\"my-function\\\", \\\"scripts\\\": {\\\"dev\\\": \\\"bun "
	 "run --hot index.ts\\\"}}\"}, {\"path\": \"index.ts\", \"content\": \"import express "
	 "from \\\"express\\\"; const app = express(); app.get(\\\"/\\\", (req, res) => "
	 "res.json({message: \\\"Hello from FaaS!\\\"})); app.listen(3000);\"}], "
	 "\"auto_scale\": {\"min_instances\": 0, \"max_instances\": 5, "
	 "\"scale_down_after_minutes\": 10}}'",
	 DEPLOYMENT_JSON},
	{"GET", "/faas/deployments", "curl " BASE "/faas/deployments", "[" DEPLOYMENT_JSON "]"},
	{"GET", "/faas/deployments/{id}", "curl " BASE "/faas/deployments/" DEP_ID,
	 DEPLOYMENT_JSON},
	{"PUT", "/faas/deployments/{id}/files",
	 "curl -X PUT " BASE "/faas/deployments/" DEP_ID "/files " JSON_CT
	 "-d '{\"files\": [{\"path\": \"index.ts\", \"content\": \"import express from "
	 "\\\"express\\\"; const app = express(); app.get(\\\"/\\\", (req, res) => "
	 "res.json({message: \\\"Updated via API!\\\", timestamp: new Date().toISOString()})); "
	 "app.listen(3000);\"}], \"restart_dev_server\": true}'",
	 "200 OK (404 Not Found if the deployment does not exist)"},
	{"DELETE", "/faas/deployments/{id}", "curl -X DELETE " BASE "/faas/deployments/" DEP_ID,
	 "204 No Content (404 Not Found if the deployment does not exist)"},
	{"GET", "/faas/deployments/{id}/logs",
	 "curl \"" BASE "/faas/deployments/" DEP_ID "/logs?lines=50\"",
	 "[" LOG_JSON("Server running on port 3000", "\"" SB_ID "\"") "]"},
	{NULL, "/faas/{id}/*", "curl " BASE "/faas/" DEP_ID "/api/status",
	 "whatever the deployment's service answers, e.g. {\"message\":\"Hello from FaaS!\"}"},
	{NULL, "/proxy/{id}/*", "curl " BASE "/proxy/" SB_ID "/",
	 "whatever the sandbox's dev server on port 3000 answers, e.g. Hello from sandbox!"},
};

/* Do two patterns name the same paths, whatever their {parameters} are
 * called? */
static bool same_pattern(const char *a, const char *b)
{
	while (*a && *b) {
		if (*a == '{' && *b == '{') {
			a = strchr(a, '}');
			b = strchr(b, '}');
			if (!a || !b)
				return false;
		} else if (*a != *b) {
			return false;
		}
		a++;
		b++;
	}
	return *a == *b;
}

static void route_examples(const struct gw_route *rt, const char **ret_request,
			   const char **ret_response)
{
	for (size_t i = 0; i < SBX_ARRAY_SIZE(examples); i++)
		if ((!examples[i].method || strcmp(examples[i].method, rt->method) == 0) &&
		    same_pattern(examples[i].pattern, rt->pattern)) {
			*ret_request = examples[i].request;
			*ret_response = examples[i].response;
			return;
		}
}

const struct gw_handler_doc *gw_handler_doc_find(gw_handler_fn fn)
{
	static const struct gw_handler_doc unknown = {NULL, "Served by a hand-written handler",
						      {{0}}, NULL};

	for (size_t i = 0; i < SBX_ARRAY_SIZE(handler_docs); i++)
		if (handler_docs[i].fn == fn)
			return &handler_docs[i];
	return &unknown;
}

static const char *handler_description(gw_handler_fn fn, const struct gw_doc_param **ret_params)
{
	const struct gw_handler_doc *hd = gw_handler_doc_find(fn);

	*ret_params = hd->params;
	return hd->description;
}

/* A field's JSON type in words: "integer", "array of File", ... */
static void field_type(const ProtobufCFieldDescriptor *f, char *buf, size_t size)
{
	const char *t = "string";
	bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		t = "integer";
		break;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		t = "number";
		break;
	case PROTOBUF_C_TYPE_BOOL:
		t = "boolean";
		break;
	case PROTOBUF_C_TYPE_ENUM:
		t = ((const ProtobufCEnumDescriptor *)f->descriptor)->short_name;
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		t = ((const ProtobufCMessageDescriptor *)f->descriptor)->short_name;
		break;
	default:
		break;
	}
	if (repeated && f->type == PROTOBUF_C_TYPE_MESSAGE) {
		/* map<K, V> is a repeated XxxEntry {key, value}: a JSON object. */
		const ProtobufCMessageDescriptor *e = f->descriptor;
		size_t n = strlen(e->name);

		if (e->n_fields == 2 && n > 5 && strcmp(e->name + n - 5, "Entry") == 0 &&
		    strcmp(e->fields[0].name, "key") == 0) {
			char v[64];

			field_type(&e->fields[1], v, sizeof(v));
			snprintf(buf, size, "object of %s", v);
			return;
		}
	}
	snprintf(buf, size, "%s%s", repeated ? "array of " : "", t);
}

const ProtobufCFieldDescriptor *gw_doc_resolve(const ProtobufCMessageDescriptor *d,
					       const char *path)
{
	const ProtobufCFieldDescriptor *f = NULL;
	char seg[64];

	while (d && *path) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(seg))
			return NULL;
		memcpy(seg, path, n);
		seg[n] = '\0';
		f = protobuf_c_message_descriptor_get_field_by_name(d, seg);
		if (!f)
			return NULL;
		path += n + (path[n] == '.');
		d = *path && f->type == PROTOBUF_C_TYPE_MESSAGE ? f->descriptor : NULL;
		if (*path && !d)
			return NULL;
	}
	return f;
}

static int add_param(json_t *params, const char *name, const char *type, bool required,
		     const char *description)
{
	return json_array_append_new(params, json_pack("{s:s, s:s, s:b, s:s}", "name", name,
						       "param_type", type, "required", required,
						       "description", description));
}

/* `{name}` and `*` segments of a pattern, in order. */
static int path_params(const char *pattern, json_t *params)
{
	for (const char *p = pattern; *p; p++) {
		char name[GW_PARAM_NAME_MAX];
		const char *end;

		if (p[0] == '/' && p[1] == '*')
			return add_param(params, "*", "path", false,
					 "the rest of the path, forwarded as it is");
		if (*p != '{' || !(end = strchr(p, '}')) || (size_t)(end - p) > sizeof(name))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(end - p - 1), p + 1);
		if (add_param(params, name, "path", true, "string") < 0)
			return -ENOMEM;
		p = end;
	}
	return 0;
}

static bool is_path_param(const char *pattern, const char *name)
{
	char want[GW_PARAM_NAME_MAX + 2];

	snprintf(want, sizeof(want), "{%s}", name);
	return strstr(pattern, want) != NULL;
}

/* The request message's fields, under the names the row's dialect gives
 * them; then the dialect's renamings of nested fields ("timeout" onto
 * limits.wall_time_ms). */
static int rpc_params(const struct gw_route *rt, const sbx_method *m, json_t *params)
{
	const struct jpb_dialect *dl = rt->dialect;
	const char *where = strcmp(rt->method, "GET") == 0 || strcmp(rt->method, "DELETE") == 0
				    ? "query"
				    : "body";
	const ProtobufCMessageDescriptor *d = m->input;
	char type[96], desc[192];

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *name = f->name;
		double scale = 0;

		for (const struct jpb_field_map *fm = dl ? dl->in : NULL; fm && fm->json; fm++)
			if (strcmp(fm->path, f->name) == 0) {
				name = fm->json;
				scale = fm->scale;
			}
		if (is_path_param(rt->pattern, name))
			continue;
		field_type(f, type, sizeof(type));
		if (dl && dl->in_wrap && strcmp(dl->in_wrap, f->name) == 0)
			snprintf(desc, sizeof(desc), "the whole body: %s", type);
		else if (scale != 0 && scale != 1)
			snprintf(desc, sizeof(desc), "%s; %s x %g", type, f->name, scale);
		else
			snprintf(desc, sizeof(desc), "%s", type);
		if (add_param(params, name, where, false, desc) < 0)
			return -ENOMEM;
	}
	for (const struct jpb_field_map *fm = dl ? dl->in : NULL; fm && fm->json; fm++) {
		const ProtobufCFieldDescriptor *f;

		if (!strchr(fm->path, '.') || !(f = gw_doc_resolve(d, fm->path)))
			continue;
		field_type(f, type, sizeof(type));
		if (fm->scale != 0 && fm->scale != 1)
			snprintf(desc, sizeof(desc), "%s; %s x %g", type, fm->path, fm->scale);
		else
			snprintf(desc, sizeof(desc), "%s; sets %s", type, fm->path);
		if (add_param(params, fm->json, where, false, desc) < 0)
			return -ENOMEM;
	}
	return 0;
}

static json_t *route_doc(const struct gw_route *rt)
{
	const sbx_method *m = rt->handler ? NULL : sbx_method_find(rt->rpc);
	const struct jpb_dialect *dl = rt->dialect;
	int status = rt->status ? rt->status : 200;
	const struct gw_doc_param *hp = NULL;
	const char *ex_request = NULL, *ex_response = NULL;
	json_t *params = json_array();
	char desc[256];

	if (!params)
		return NULL;
	if (rt->handler)
		snprintf(desc, sizeof(desc), "%s", handler_description(rt->handler, &hp));
	else if (!m)
		snprintf(desc, sizeof(desc), "RPC %s, which this daemon does not have yet (501)",
			 rt->rpc);
	else
		snprintf(desc, sizeof(desc), "RPC %s (%s to %s)%s%s%s; %d on success", rt->rpc,
			 m->input->short_name, m->output->short_name,
			 dl && dl->name ? ", in the " : "", dl && dl->name ? dl->name : "",
			 dl && dl->name ? " dialect" : "", status);
	if (path_params(rt->pattern, params) < 0 || (m && rpc_params(rt, m, params) < 0)) {
		json_decref(params);
		return NULL;
	}
	for (; hp && hp->name; hp++)
		if (add_param(params, hp->name, hp->param_type, hp->required, hp->description) <
		    0) {
			json_decref(params);
			return NULL;
		}
	route_examples(rt, &ex_request, &ex_response);
	return json_pack("{s:s, s:s, s:s, s:o, s:s?, s:s?}", "method", rt->method, "path",
			 rt->pattern, "description", desc, "parameters", params, "example_request",
			 ex_request, "example_response", ex_response);
}

int gw_admin_docs_handler(struct gw_server *srv, struct gw_request *req)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < srv->n_routes; i++)
		if (json_array_append_new(list, route_doc(&srv->routes[i])) < 0) {
			json_decref(list);
			list = NULL;
		}
	if (!list)
		return -ENOMEM;
	return gw_respond(req, 200, list, NULL);
}
