/* GET /openapi.json: the route table as an OpenAPI 3.1 document, built at
 * run time from the same data the gateway serves by (gateway/admin_page.h):
 * the rows, the RPCs' protobuf descriptors and the seeds' dialects, and
 * admin_docs.c's table for hand-written rows. A new row is documented by
 * being a row. */
#include "admin_page.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dialects.h"
#include "gw_server.h"
#include "json_pb.h"
#include "methods.h"
#include "respond.h"

#define SCHEMA_REF "#/components/schemas/"

/* ---- Schemas of the protobuf messages (the canonical mapping) ---- */

static json_t *message_ref(json_t *schemas, const ProtobufCMessageDescriptor *d);

static json_t *ref(const char *name)
{
	char buf[160];

	snprintf(buf, sizeof(buf), SCHEMA_REF "%s", name);
	return json_pack("{s:s}", "$ref", buf);
}

/* An enum is its value names (json_pb.h: also accepted as integers). */
static json_t *enum_ref(json_t *schemas, const ProtobufCEnumDescriptor *e)
{
	if (!json_object_get(schemas, e->short_name)) {
		json_t *names = json_array();

		for (unsigned i = 0; names && i < e->n_values; i++)
			json_array_append_new(names, json_string(e->values[i].name));
		json_object_set_new(schemas, e->short_name,
				    json_pack("{s:s, s:o}", "type", "string", "enum", names));
	}
	return ref(e->short_name);
}

static bool is_map(const ProtobufCFieldDescriptor *f)
{
	const ProtobufCMessageDescriptor *e = f->descriptor;
	size_t n;

	if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
		return false;
	n = strlen(e->name);
	return e->n_fields == 2 && n > 5 && strcmp(e->name + n - 5, "Entry") == 0 &&
	       strcmp(e->fields[0].name, "key") == 0;
}

/* One value of field f, as json_pb.h's canonical mapping writes it. */
static json_t *value_schema(json_t *schemas, const ProtobufCFieldDescriptor *f, bool base64)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return json_pack("{s:s, s:s}", "type", "integer", "format", "int32");
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return json_pack("{s:s, s:i}", "type", "integer", "minimum", 0);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return json_pack("{s:s, s:s}", "type", "integer", "format", "int64");
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return json_pack("{s:s, s:i}", "type", "integer", "minimum", 0);
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		return json_pack("{s:s}", "type", "number");
	case PROTOBUF_C_TYPE_BOOL:
		return json_pack("{s:s}", "type", "boolean");
	case PROTOBUF_C_TYPE_ENUM:
		return enum_ref(schemas, f->descriptor);
	case PROTOBUF_C_TYPE_MESSAGE:
		return message_ref(schemas, f->descriptor);
	case PROTOBUF_C_TYPE_BYTES:
		return base64 ? json_pack("{s:s, s:s}", "type", "string", "contentEncoding",
					  "base64")
			      : json_pack("{s:s}", "type", "string");
	default:
		return json_pack("{s:s}", "type", "string");
	}
}

/* Field f whole: repeated is an array, map<string, V> an object. */
static json_t *field_schema(json_t *schemas, const ProtobufCFieldDescriptor *f, bool base64)
{
	if (is_map(f)) {
		const ProtobufCMessageDescriptor *e = f->descriptor;

		return json_pack("{s:s, s:o}", "type", "object", "additionalProperties",
				 value_schema(schemas, &e->fields[1], base64));
	}
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return json_pack("{s:s, s:o}", "type", "array", "items",
				 value_schema(schemas, f, base64));
	return value_schema(schemas, f, base64);
}

/* components.schemas[d's short name], added once (the name goes in before
 * the fields, so a message that contains itself, ExecResult.compile, ends). */
static json_t *message_ref(json_t *schemas, const ProtobufCMessageDescriptor *d)
{
	json_t *props;

	if (json_object_get(schemas, d->short_name))
		return ref(d->short_name);
	props = json_object();
	json_object_set_new(schemas, d->short_name,
			    json_pack("{s:s, s:o}", "type", "object", "properties", props));
	for (unsigned i = 0; props && i < d->n_fields; i++)
		json_object_set_new(props, d->fields[i].name,
				    field_schema(schemas, &d->fields[i], false));
	return ref(d->short_name);
}

/* ---- The dialects (json_pb.h's struct jpb_dialect) ---- */

/* s, with a description added (next to a $ref too: OpenAPI 3.1). */
static json_t *describe(json_t *s, const char *fmt, const char *a, double scale)
{
	char buf[256];

	snprintf(buf, sizeof(buf), fmt, a, scale);
	json_object_set_new(s, "description", json_string(buf));
	return s;
}

static bool scaled(double scale)
{
	return scale != 0 && scale != 1;
}

/* A scaled number (json_pb.h): any JSON number in the seed's unit, 1.5 s
 * onto 1500 ms, still no less than 0 for an unsigned field. */
static json_t *scaled_schema(const ProtobufCFieldDescriptor *f)
{
	bool unsigned_ = f->type == PROTOBUF_C_TYPE_UINT32 || f->type == PROTOBUF_C_TYPE_FIXED32 ||
			 f->type == PROTOBUF_C_TYPE_UINT64 || f->type == PROTOBUF_C_TYPE_FIXED64;

	return unsigned_ ? json_pack("{s:s, s:i}", "type", "number", "minimum", 0)
			 : json_pack("{s:s}", "type", "number");
}

/* The request body of an RPC row: the request message's fields under the
 * dialect's names and units, the seed's defaults, nested renamings. */
static json_t *request_schema(json_t *schemas, const struct jpb_dialect *dl,
			      const ProtobufCMessageDescriptor *d)
{
	const struct jpb_field_map *in = dl ? dl->in : NULL;
	json_t *props = json_object(), *defaults = NULL;
	bool b64 = dl && dl->base64_bytes;

	if (dl && dl->in_wrap) {
		const ProtobufCFieldDescriptor *f = gw_doc_resolve(d, dl->in_wrap);

		json_decref(props);
		return f ? field_schema(schemas, f, b64) : json_object();
	}
	for (unsigned i = 0; props && i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *name = f->name;
		json_t *s = field_schema(schemas, f, b64);

		for (const struct jpb_field_map *fm = in; fm && fm->json; fm++)
			if (strcmp(fm->path, f->name) == 0) {
				name = fm->json;
				if (scaled(fm->scale) && f->label != PROTOBUF_C_LABEL_REPEATED) {
					json_decref(s);
					s = describe(scaled_schema(f), "%s times %g", f->name,
						     fm->scale);
				}
			}
		json_object_set_new(props, name, s);
	}
	for (const struct jpb_field_map *fm = in; props && fm && fm->json; fm++) {
		const ProtobufCFieldDescriptor *f;

		bool num;

		if (!strchr(fm->path, '.') || !(f = gw_doc_resolve(d, fm->path)))
			continue;
		num = scaled(fm->scale) && f->label != PROTOBUF_C_LABEL_REPEATED;
		json_object_set_new(props, fm->json,
				    describe(num ? scaled_schema(f) : field_schema(schemas, f, b64),
					     scaled(fm->scale) ? "sets %s, times %g" : "sets %s",
					     fm->path, fm->scale));
	}
	if (dl && dl->defaults)
		defaults = json_loads(dl->defaults, 0, NULL);
	if (props && json_is_object(defaults)) {
		const char *k;
		json_t *v, *s;

		json_object_foreach(defaults, k, v)
		{
			if ((s = json_object_get(props, k)))
				json_object_set(s, "default", v);
		}
	}
	json_decref(defaults);
	return json_pack("{s:s, s:o}", "type", "object", "properties", props);
}

/* A reply key of a projection: its field's schema, its enum words, its
 * scale, null where the mapper may print null. */
static json_t *projected_key(json_t *schemas, const struct jpb_field_map *fm,
			     const ProtobufCMessageDescriptor *d, bool b64)
{
	const ProtobufCFieldDescriptor *f = gw_doc_resolve(d, fm->path);
	json_t *s;

	if (!f)
		return json_pack("{s:s}", "description", "null when unset");
	if (fm->enums) {
		json_t *words = json_array();

		for (const struct jpb_enum_alias *a = fm->enums; words && a->json; a++) {
			json_t *w = json_string(a->json);
			size_t i;
			json_t *have;

			json_array_foreach(words, i, have)
			{
				if (json_equal(have, w))
					break;
			}
			if (i == json_array_size(words))
				json_array_append(words, w);
			json_decref(w);
		}
		s = json_pack("{s:s, s:o}", "type", "string", "enum", words);
	} else if (scaled(fm->scale) && f->label != PROTOBUF_C_LABEL_REPEATED) {
		s = describe(json_pack("{s:s}", "type", "number"), "%s divided by %g", f->name,
			     fm->scale);
	} else {
		s = field_schema(schemas, f, b64);
	}
	if (fm->zero_is_null || f->type == PROTOBUF_C_TYPE_MESSAGE)
		s = json_pack("{s:[o, {s:s}]}", "anyOf", s, "type", "null");
	return s;
}

static json_t *projection(json_t *schemas, const struct jpb_field_map *out,
			  const ProtobufCMessageDescriptor *d, bool b64)
{
	json_t *props = json_object(), *required = json_array();

	for (const struct jpb_field_map *fm = out; props && required && fm->json; fm++) {
		json_object_set_new(props, fm->json, projected_key(schemas, fm, d, b64));
		if (!fm->omit_empty)
			json_array_append_new(required, json_string(fm->json));
	}
	return json_pack("{s:s, s:o, s:o}", "type", "object", "properties", props, "required",
			 required);
}

/* The reply body of an RPC row: the message, the dialect's projection of
 * it, or the repeated field it unwraps into a bare array. */
static json_t *reply_schema(json_t *schemas, const struct jpb_dialect *dl,
			    const ProtobufCMessageDescriptor *d)
{
	bool b64 = dl && dl->base64_bytes;

	if (dl && dl->out_unwrap) {
		const ProtobufCFieldDescriptor *f = gw_doc_resolve(d, dl->out_unwrap);

		if (!f)
			return json_object();
		if (f->type != PROTOBUF_C_TYPE_MESSAGE || is_map(f) || !dl->out)
			return field_schema(schemas, f, b64);
		return json_pack("{s:s, s:o}", "type", "array", "items",
				 projection(schemas, dl->out, f->descriptor, b64));
	}
	if (dl && dl->out)
		return projection(schemas, dl->out, d, b64);
	return message_ref(schemas, d);
}

/* ---- Operations ---- */

static json_t *content(const char *media, json_t *schema)
{
	return json_pack("{s:{s:o}}", media, "schema", schema);
}

/* The error body of a route: {"error": sentence}, or the dialect's key. */
static json_t *error_response(json_t *schemas, const struct jpb_dialect *dl, const char *why)
{
	const char *key = dl && dl->error_key ? dl->error_key : "error";
	char name[64];

	snprintf(name, sizeof(name), "%s%s", strcmp(key, "error") == 0 ? "Error" : "Error_", key);
	if (strcmp(key, "error") == 0)
		snprintf(name, sizeof(name), "Error");
	if (!json_object_get(schemas, name))
		json_object_set_new(schemas, name,
				    json_pack("{s:s, s:{s:{s:s, s:s}}, s:[s], s:s}", "type",
					      "object", "properties", key, "type", "string",
					      "description", "one sentence saying what went wrong",
					      "required", key, "description",
					      "The error body of every failure of these routes"));
	return json_pack("{s:s, s:o}", "description", why, "content",
			 content("application/json", ref(name)));
}

/* A pattern as an OpenAPI path: a trailing `*` segment is {path}. */
static void openapi_path(const char *pattern, char *buf, size_t size)
{
	size_t n = strlen(pattern);

	if (n >= 2 && strcmp(pattern + n - 2, "/*") == 0)
		snprintf(buf, size, "%.*s/{path}", (int)(n - 2), pattern);
	else
		snprintf(buf, size, "%s", pattern);
}

static json_t *param(const char *name, const char *in, bool required, json_t *schema,
		     const char *description)
{
	return json_pack("{s:s, s:s, s:b, s:o, s:s}", "name", name, "in", in, "required", required,
			 "schema", schema, "description", description);
}

/* The `{name}` segments of a pattern, and `*` as {path}. */
static void path_params(const char *pattern, json_t *params)
{
	for (const char *p = pattern; *p; p++) {
		const char *end;
		char name[GW_PARAM_NAME_MAX];

		if (p[0] == '/' && p[1] == '*')
			json_array_append_new(params,
					      param("path", "path", true,
						    json_pack("{s:s}", "type", "string"),
						    "the rest of the path, any number of segments, "
						    "forwarded as it is"));
		if (*p != '{' || !(end = strchr(p, '}')) || (size_t)(end - p) > sizeof(name))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(end - p - 1), p + 1);
		json_array_append_new(params,
				      param(name, "path", true,
					    json_pack("{s:s}", "type", "string"), "an identifier"));
		p = end;
	}
}

static bool has_param(json_t *params, const char *name)
{
	size_t i;
	json_t *p;

	json_array_foreach(params, i, p)
	{
		if (strcmp(json_string_value(json_object_get(p, "name")), name) == 0)
			return true;
	}
	return false;
}

/* GET and DELETE rows take the request's scalar fields from the query
 * string (jpb_set_from_string), under the dialect's names. */
static void query_params(json_t *schemas, const struct gw_route *rt,
			 const ProtobufCMessageDescriptor *d, json_t *params)
{
	json_t *body = request_schema(schemas, rt->dialect, d), *props;
	const char *k;
	json_t *s;

	props = json_object_get(body, "properties");
	json_object_foreach(props, k, s)
	{
		const ProtobufCFieldDescriptor *f = NULL;

		for (unsigned i = 0; i < d->n_fields; i++)
			if (strcmp(d->fields[i].name, k) == 0)
				f = &d->fields[i];
		for (const struct jpb_field_map *fm = rt->dialect ? rt->dialect->in : NULL;
		     !f && fm && fm->json; fm++)
			if (strcmp(fm->json, k) == 0)
				f = gw_doc_resolve(d, fm->path);
		if (!f || f->label == PROTOBUF_C_LABEL_REPEATED ||
		    f->type == PROTOBUF_C_TYPE_MESSAGE || has_param(params, k))
			continue;
		json_array_append_new(params,
				      param(k, "query", false, json_incref(s),
					    "a field of the request, from the query string"));
	}
	json_decref(body);
}

/* An RPC row: its request and reply through its dialect. */
static void rpc_operation(json_t *schemas, const struct gw_route *rt, const sbx_method *m,
			  json_t *op, json_t *params, json_t *responses)
{
	const struct jpb_dialect *dl = rt->dialect;
	int status = rt->status ? rt->status : 200;
	char code[8], desc[256];
	bool body = strcmp(rt->method, "GET") != 0 && strcmp(rt->method, "DELETE") != 0;

	snprintf(desc, sizeof(desc), "RPC %s (%s to %s)%s%s%s.", rt->rpc, m->input->short_name,
		 m->output->short_name, dl && dl->name ? ", in the " : "",
		 dl && dl->name ? dl->name : "", dl && dl->name ? " dialect" : "");
	json_object_set_new(op, "description", json_string(desc));
	if (body)
		json_object_set_new(op, "requestBody",
				    json_pack("{s:b, s:o}", "required", false, "content",
					      content("application/json",
						      request_schema(schemas, dl, m->input))));
	else
		query_params(schemas, rt, m->input, params);
	snprintf(code, sizeof(code), "%d", status);
	if (status == 204)
		json_object_set_new(responses, code, json_pack("{s:s}", "description", "done"));
	else
		json_object_set_new(responses, code,
				    json_pack("{s:s, s:o}", "description", m->output->short_name,
					      "content",
					      content("application/json",
						      reply_schema(schemas, dl, m->output))));
	if (body)
		json_object_set_new(responses, "400",
				    error_response(schemas, dl, "the body is not what it must be"));
}

/* A hand-written row: admin_docs.c's table. */
static void handler_operation(json_t *schemas, const struct gw_route *rt, json_t *op,
			      json_t *params, json_t *responses)
{
	const struct gw_handler_doc *hd = gw_handler_doc_find(rt->handler);
	json_t *props = json_object(), *required = json_array();

	json_object_set_new(op, "description", json_string(hd->description));
	for (const struct gw_doc_param *p = hd->params; p->name; p++) {
		json_t *s = json_pack("{s:s}", "description", p->description);

		if (strcmp(p->param_type, "body") == 0) {
			json_object_set_new(props, p->name, s);
			if (p->required)
				json_array_append_new(required, json_string(p->name));
		} else if (!has_param(params, p->name)) {
			json_array_append_new(params, param(p->name, p->param_type, p->required,
							    json_pack("{s:s}", "type", "string"),
							    p->description));
			json_decref(s);
		} else {
			json_decref(s);
		}
	}
	if (json_object_size(props))
		json_object_set_new(
			op, "requestBody",
			json_pack("{s:b, s:o}", "required", true, "content",
				  content("application/json",
					  json_pack("{s:s, s:O, s:O}", "type", "object",
						    "properties", props, "required", required))));
	json_decref(props);
	json_decref(required);
	json_object_set_new(
		responses, "200",
		json_pack("{s:s, s:o}", "description", "success", "content",
			  content(hd->media ? hd->media : "application/json", json_object())));
	if (rt->dialect || rt->rpc)
		json_object_set_new(responses, "400",
				    error_response(schemas, rt->dialect, "a bad request"));
}

/* "get_sandbox_id_files": unique per method and pattern. */
static void operation_id(const struct gw_route *rt, char *buf, size_t size)
{
	size_t n = 0;

	for (const char *p = rt->method; *p && n + 1 < size; p++)
		buf[n++] = (char)(*p | 0x20);
	for (const char *p = rt->pattern; *p && n + 1 < size; p++) {
		char c = *p;
		bool word =
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (c == '*')
			c = 'x', word = true;
		if (word)
			buf[n++] = c;
		else if (buf[n - 1] != '_')
			buf[n++] = '_';
	}
	while (n > 0 && buf[n - 1] == '_')
		n--;
	buf[n] = '\0';
}

/* The summary: the row itself, "GET /sandbox/{id} (GetSandbox)". */
static json_t *operation(json_t *schemas, const struct gw_route *rt)
{
	const sbx_method *m = rt->rpc ? sbx_method_find(rt->rpc) : NULL;
	json_t *op = json_object(), *params = json_array(), *responses = json_object();
	char id[160], summary[200];

	operation_id(rt, id, sizeof(id));
	snprintf(summary, sizeof(summary), "%s %s%s%s%s", rt->method, rt->pattern,
		 rt->rpc ? " (" : "", rt->rpc ? rt->rpc : "", rt->rpc ? ")" : "");
	json_object_set_new(op, "operationId", json_string(id));
	json_object_set_new(op, "summary", json_string(summary));
	path_params(rt->pattern, params);
	if (rt->stream) {
		json_object_set_new(op, "description",
				    json_string("The reverse proxy (gateway/proxy.h): whatever the "
						"deployment's or sandbox's web service answers"));
		json_object_set_new(responses, "default",
				    json_pack("{s:s}", "description", "the service's answer"));
	} else if (rt->handler) {
		handler_operation(schemas, rt, op, params, responses);
	} else if (m) {
		rpc_operation(schemas, rt, m, op, params, responses);
	} else {
		json_object_set_new(op, "description",
				    json_string("An RPC this daemon does not have yet: 501"));
	}
	if (json_array_size(params))
		json_object_set_new(responses, "404",
				    error_response(schemas, rt->dialect, "no such object"));
	if (rt->rate_limited)
		json_object_set_new(responses, "429",
				    error_response(schemas, rt->dialect,
						   "over the client's rate limit (Retry-After)"));
	if (!json_object_get(responses, "400"))
		/* The router's own answer (gateway/router.h), before any row. */
		json_object_set_new(responses, "400",
				    error_response(schemas, NULL,
						   "a malformed path: a bad %-escape, an encoded "
						   "'/' or NUL, a '.' or '..' segment"));
	if (rt->rpc) {
		json_object_set_new(responses, "401",
				    error_response(schemas, rt->dialect,
						   "no valid API key, when the daemon has one"));
		json_object_set_new(responses, "503",
				    error_response(schemas, rt->dialect, "no daemon answers"));
	} else {
		/* Only RPCs carry the API key: the rest is open. */
		json_object_set_new(op, "security", json_array());
	}
	json_object_set_new(op, "parameters", params);
	json_object_set_new(op, "responses", responses);
	return op;
}

/* The daemon's API key (README "Configuration", api_key), which the
 * gateway passes on with every RPC; with none set, no key is needed. */
static json_t *security_schemes(void)
{
	return json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s}}", "bearer", "type", "http",
			 "scheme", "bearer", "description",
			 "Authorization: Bearer KEY, when the daemon has an API key", "apiKey",
			 "type", "apiKey", "in", "header", "name", "X-API-Key", "description",
			 "X-API-Key: KEY, the same key");
}

json_t *gw_openapi_document(const struct gw_route *table, size_t n, const char *server_url)
{
	json_t *doc, *paths, *schemas;

	doc = json_pack("{s:s, s:{s:s, s:s, s:s}, s:[{s:s, s:s}], s:{}, s:{s:{}, s:o}, s:[{s:[]}, "
			"{s:[]}, {}]}",
			"openapi", "3.1.0", "info", "title", "sandboxd gateway", "version",
			SBX_VERSION, "description",
			"Every HTTP route of sandbox-gateway, each seed API with its own names, "
			"units, defaults and error bodies; generated from the route table.",
			"servers", "url", server_url ? server_url : "http://localhost:8070",
			"description", "this gateway", "paths", "components", "schemas",
			"securitySchemes", security_schemes(), "security", "bearer", "apiKey");
	if (!doc)
		return NULL;
	paths = json_object_get(doc, "paths");
	schemas = json_object_get(json_object_get(doc, "components"), "schemas");
	for (size_t i = 0; i < n; i++) {
		char path[GW_PATH_MAX], method[16];
		json_t *item;

		openapi_path(table[i].pattern, path, sizeof(path));
		snprintf(method, sizeof(method), "%s", table[i].method);
		for (char *c = method; *c; c++)
			*c = (char)(*c | 0x20);
		item = json_object_get(paths, path);
		if (!item) {
			item = json_object();
			json_object_set_new(paths, path, item);
		}
		if (!json_object_get(item, method))
			json_object_set_new(item, method, operation(schemas, &table[i]));
	}
	return doc;
}

int gw_openapi_handler(struct gw_server *srv, struct gw_request *req)
{
	const char *host = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Host");
	char url[300];
	json_t *doc;

	/* The document names the server it was asked of; a Host header with
	 * anything but host[:port] characters is not used. */
	if (host && strlen(host) < 256 &&
	    strspn(host, "abcdefghijklmnopqrstuvwxyz"
			 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == strlen(host))
		snprintf(url, sizeof(url), "http://%s", host);
	else
		snprintf(url, sizeof(url), "http://localhost:%u", srv->cfg.port);
	doc = gw_openapi_document(srv->routes, srv->n_routes, url);
	if (!doc)
		return -ENOMEM;
	return gw_respond(req, 200, doc, NULL);
}
