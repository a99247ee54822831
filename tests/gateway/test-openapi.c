/* GET /openapi.json's document (gateway/openapi.c), built from route
 * tables without a server: every row of the real table is an operation
 * with its path parameters declared; a row the document was never told of
 * appears with its dialect's names, units and enum words; seeds' defaults
 * and error keys; every $ref resolves. (redocly lint runs against a real
 * gateway in tests/openapi.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_page.h"
#include "dialects.h"
#include "routes.h"
#include "testlib.h"

static void openapi_path(const char *pattern, char *buf, size_t size)
{
	size_t n = strlen(pattern);

	if (n >= 2 && strcmp(pattern + n - 2, "/*") == 0)
		snprintf(buf, size, "%.*s/{path}", (int)(n - 2), pattern);
	else
		snprintf(buf, size, "%s", pattern);
}

static json_t *op_of(json_t *doc, const char *method, const char *pattern)
{
	char path[512], m[16];

	openapi_path(pattern, path, sizeof(path));
	snprintf(m, sizeof(m), "%s", method);
	for (char *c = m; *c; c++)
		*c = (char)(*c | 0x20);
	return json_object_get(json_object_get(json_object_get(doc, "paths"), path), m);
}

static bool declares(json_t *op, const char *name, const char *in)
{
	size_t i;
	json_t *p;

	json_array_foreach(json_object_get(op, "parameters"), i, p)
	{
		if (strcmp(json_string_value(json_object_get(p, "name")), name) == 0 &&
		    strcmp(json_string_value(json_object_get(p, "in")), in) == 0)
			return true;
	}
	return false;
}

/* Every row: an operation with a unique operationId, a summary, responses,
 * and each `{name}` of its pattern as a required path parameter. */
static void test_every_row(void)
{
	json_t *doc = gw_openapi_document(gw_routes, gw_n_routes, "http://127.0.0.1:8070");
	json_t *ids = json_object();

	CHECK(doc != NULL);
	CHECK_STR(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
	for (size_t i = 0; doc && i < gw_n_routes; i++) {
		const struct gw_route *rt = &gw_routes[i];
		json_t *op = op_of(doc, rt->method, rt->pattern);
		const char *id = json_string_value(json_object_get(op, "operationId"));

		CHECKF(op != NULL, "%s %s is not in the document", rt->method, rt->pattern);
		if (!op)
			continue;
		CHECKF(id && !json_object_get(ids, id), "%s %s: operationId %s", rt->method,
		       rt->pattern, id ? id : "(none)");
		json_object_set_new(ids, id ? id : "", json_true());
		CHECK(json_string_value(json_object_get(op, "summary")) != NULL);
		CHECK(json_object_size(json_object_get(op, "responses")) > 0);
		for (const char *p = strchr(rt->pattern, '{'); p; p = strchr(p + 1, '{')) {
			char name[64];

			snprintf(name, sizeof(name), "%.*s", (int)strcspn(p + 1, "}"), p + 1);
			CHECKF(declares(op, name, "path"), "%s %s: {%s} undeclared", rt->method,
			       rt->pattern, name);
		}
		if (strstr(rt->pattern, "/*"))
			CHECK(declares(op, "path", "path"));
	}
	json_decref(ids);
	json_decref(doc);
}

/* A row the generator knows nothing of: documented from its RPC and
 * dialect alone. */
static void test_new_row(void)
{
	static const struct gw_route t[] = {
		GW_RPC_LIMITED("POST", "/brand/{x}/new", "Execute", &gw_dialect_executor_execute,
			       200),
		GW_RPC("GET", "/admin/api/logs", "AdminLogs", &gw_dialect_admin_logs, 200),
	};
	json_t *doc = gw_openapi_document(t, 2, NULL);
	json_t *op = op_of(doc, "POST", "/brand/{x}/new"), *body, *reply, *timeout;

	CHECK(op != NULL);
	body = json_object_get(
		json_object_get(json_object_get(json_object_get(json_object_get(op, "requestBody"),
								"content"),
						"application/json"),
				"schema"),
		"properties");
	timeout = json_object_get(body, "timeout");
	CHECK(timeout != NULL);
	CHECK(strstr(json_string_value(json_object_get(timeout, "description")),
		     "limits.wall_time_ms, times 1000") != NULL);
	reply = json_object_get(
		json_object_get(
			json_object_get(
				json_object_get(
					json_object_get(json_object_get(op, "responses"), "200"),
					"content"),
				"application/json"),
			"schema"),
		"properties");
	CHECK(json_object_get(reply, "memory_used_mb") != NULL);
	CHECK(json_string_value(json_array_get(
		      json_object_get(json_object_get(reply, "status"), "enum"), 0)) != NULL);
	CHECK_STR(json_string_value(json_array_get(
			  json_object_get(json_object_get(reply, "status"), "enum"), 0)),
		  "success");
	CHECK(json_object_get(json_object_get(op, "responses"), "429") != NULL);
	CHECK(declares(op, "x", "path"));
	/* GET rows take the request from the query, with the seed's default. */
	op = op_of(doc, "GET", "/admin/api/logs");
	CHECK(declares(op, "lines", "query"));
	json_decref(doc);
}

/* Piston's {"message": ...}; OpenSandbox's defaults; refs resolve. */
static void test_seeds(void)
{
	json_t *doc = gw_openapi_document(gw_routes, gw_n_routes, NULL);
	json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
	json_t *op = op_of(doc, "GET", "/api/v2/runtimes"), *e;
	char *text;

	e = json_object_get(json_object_get(json_object_get(op, "responses"), "503"), "content");
	text = json_dumps(e, 0);
	CHECK(text && strstr(text, "Error_message"));
	free(text);
	CHECK(json_object_get(
		      json_object_get(json_object_get(schemas, "Error_message"), "properties"),
		      "message") != NULL);
	op = op_of(doc, "POST", "/run");
	text = json_dumps(json_object_get(op, "requestBody"), JSON_COMPACT);
	CHECK(text && strstr(text, "\"default\":5000")); /* OPENSANDBOX_DEFAULTS' time */
	free(text);
	text = json_dumps(doc, JSON_COMPACT);
	for (const char *p = text ? strstr(text, "\"$ref\":\"") : NULL; p;
	     p = strstr(p + 1, "\"$ref\":\"")) {
		char name[128];

		CHECK(strncmp(p + 8, "#/components/schemas/", 21) == 0);
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(p + 29, "\""), p + 29);
		CHECKF(json_object_get(schemas, name) != NULL, "$ref %s dangles", name);
	}
	free(text);
	json_decref(doc);
}

int main(void)
{
	test_every_row();
	test_new_row();
	test_seeds();
	TEST_DONE();
}
