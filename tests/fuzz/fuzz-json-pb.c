/* The JSON <-> protobuf mapper (common/json_pb.h) with every dialect the
 * gateway serves: each row of the route table that names an RPC is a
 * target (its dialect, its request and reply messages), and so is every
 * method of the table in canonical JSON.
 *
 * Input: byte 0 picks the target, byte 1 the direction, the rest is:
 *   0  a request body: JSON -> the dialect's defaults -> request message,
 *      as the gateway builds it; then packed, unpacked and printed back
 *   1  reply bytes: a packed reply message -> JSON through the dialect
 *   2  query/path parameters "name=value" lines -> jpb_set_from_string
 *      on the request message built from the defaults
 *   3  request bytes: a packed request message -> canonical JSON -> message
 *      -> JSON, which must print the same (what sandboxctl call does)
 * SBX_FUZZ_LIST_TARGETS=1 prints the targets and exits (for the seeds,
 * tests/fuzz/make-corpus.py). */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_pb.h"
#include "methods.h"
#include "routes.h"

struct target {
	const char *method, *pattern; /* NULL for a canonical method */
	const sbx_method *m;
	const struct jpb_dialect *dl;
};

static struct target targets[256];
static size_t n_targets;

#define MAX_PARAMS 32

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	for (size_t i = 0; i < gw_n_routes && n_targets < 256; i++) {
		const struct gw_route *rt = &gw_routes[i];
		const sbx_method *m = rt->rpc ? sbx_method_find(rt->rpc) : NULL;

		if (m)
			targets[n_targets++] =
				(struct target){rt->method, rt->pattern, m, rt->dialect};
	}
	for (size_t i = 0; i < sbx_method_count() && n_targets < 256; i++)
		targets[n_targets++] = (struct target){NULL, NULL, sbx_method_at(i), NULL};
	if (getenv("SBX_FUZZ_LIST_TARGETS")) {
		for (size_t i = 0; i < n_targets; i++)
			printf("%zu\t%s\t%s\t%s\n", i, targets[i].method ? targets[i].method : "-",
			       targets[i].pattern ? targets[i].pattern : "-", targets[i].m->name);
		exit(0);
	}
	return 0;
}

static void free_msg(ProtobufCMessage *m)
{
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
}

/* Print j and throw it away: dumping walks every value. */
static void dump(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	if (j && !s)
		abort(); /* the mapper made JSON that jansson cannot print */
	free(s);
	json_decref(j);
}

/* The canonical JSON of m, printed; m -> JSON -> message -> JSON must be a
 * fixpoint: what the mapper prints, it reads back to the same message. */
static void canonical_roundtrip(const ProtobufCMessageDescriptor *d, const ProtobufCMessage *m)
{
	json_t *j1 = jpb_to_json(m, NULL), *j2;
	ProtobufCMessage *back = NULL;
	char err[256];

	if (!j1)
		return;
	if (jpb_from_json(d, j1, NULL, &back, err, sizeof(err)) < 0) {
		/* The input side's limits (JPB_MAX_REPEATED, JPB_MAX_DEPTH) are
		 * narrower than protobuf's, by design. */
		if (strstr(err, "more than") || strstr(err, "nests deeper")) {
			json_decref(j1);
			return;
		}
		char *s = json_dumps(j1, JSON_COMPACT);
		fprintf(stderr, "canonical JSON not read back: %s\n%s\n", err, s);
		abort();
	}
	j2 = jpb_to_json(back, NULL);
	if (!j2 || !json_equal(j1, j2)) {
		char *a = json_dumps(j1, JSON_COMPACT),
		     *b = j2 ? json_dumps(j2, JSON_COMPACT) : NULL;
		fprintf(stderr, "canonical JSON changed on a round trip:\n%s\n%s\n", a, b);
		abort();
	}
	json_decref(j1);
	json_decref(j2);
	free_msg(back);
}

/* The request message the gateway would build from body (NULL: empty). */
static int build(const struct target *t, json_t *body, ProtobufCMessage **ret)
{
	char err[256];
	int r;

	if (t->dl && t->dl->defaults && (!body || json_is_object(body))) {
		json_t *def = json_loads(t->dl->defaults, 0, NULL);

		if (!def)
			abort(); /* gw_rpc_check_routes refuses such a table */
		if (!body)
			body = json_object();
		else
			json_incref(body);
		json_object_update_missing(body, def);
		json_decref(def);
	} else if (!body) {
		body = json_object();
	} else {
		json_incref(body);
	}
	r = jpb_from_json(t->m->input, body, t->dl, ret, err, sizeof(err));
	json_decref(body);
	if (r < 0 && !*err)
		abort(); /* a refusal must say why */
	return r;
}

static void request_from_json(const struct target *t, const uint8_t *p, size_t n)
{
	json_t *body = n ? json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL) : NULL;
	ProtobufCMessage *m = NULL, *back;
	uint8_t *packed;
	size_t len;

	if (n && !body)
		return;
	if (build(t, body, &m) == 0) {
		len = protobuf_c_message_get_packed_size(m);
		packed = malloc(len ? len : 1);
		if (!packed || protobuf_c_message_pack(m, packed) != len)
			abort();
		back = protobuf_c_message_unpack(t->m->input, NULL, len, packed);
		if (!back)
			abort(); /* the mapper built a message protobuf-c cannot read */
		free_msg(back);
		free(packed);
		canonical_roundtrip(t->m->input, m);
	}
	free_msg(m);
	json_decref(body);
}

static void reply_to_json(const struct target *t, const uint8_t *p, size_t n)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(t->m->output, NULL, n, p);

	if (!m)
		return;
	dump(jpb_to_json(m, t->dl));
	free_msg(m);
}

static void params(const struct target *t, const uint8_t *p, size_t n)
{
	char *text = malloc(n + 1), *line, *save = NULL;
	ProtobufCMessage *m = NULL;
	char err[256];
	int k = 0;

	if (!text)
		return;
	memcpy(text, p, n);
	text[n] = 0;
	if (build(t, NULL, &m) == 0) {
		for (line = strtok_r(text, "\n", &save); line && k < MAX_PARAMS;
		     line = strtok_r(NULL, "\n", &save), k++) {
			char *eq = strchr(line, '=');

			if (!eq)
				continue;
			*eq = 0;
			err[0] = 0;
			if (jpb_set_from_string(m, line, eq + 1, t->dl, err, sizeof(err)) < 0 &&
			    !*err)
				abort();
		}
		dump(jpb_to_json(m, t->dl));
		canonical_roundtrip(t->m->input, m);
	}
	free_msg(m);
	free(text);
}

static void request_bytes(const struct target *t, const uint8_t *p, size_t n)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(t->m->input, NULL, n, p);

	if (!m)
		return;
	canonical_roundtrip(t->m->input, m);
	free_msg(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct target *t;

	if (size < 2 || !n_targets)
		return 0;
	t = &targets[data[0] % n_targets];
	switch (data[1] & 3) {
	case 0:
		request_from_json(t, data + 2, size - 2);
		break;
	case 1:
		reply_to_json(t, data + 2, size - 2);
		break;
	case 2:
		params(t, data + 2, size - 2);
		break;
	case 3:
		request_bytes(t, data + 2, size - 2);
		break;
	}
	return 0;
}
