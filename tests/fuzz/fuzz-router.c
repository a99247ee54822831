/* The gateway's router (gateway/router.h): method + raw path -> row,
 * parameters and rest, against the real route table; and, for patterns
 * too, against a one-row table made of the input once gw_router_check
 * accepts it. Checks what router.h promises of every match.
 *
 * Input: byte 0: bit 0 picks the table (0: gw_routes, 1: the input's own
 * row), bits 1-3 the method; then "PATH" (table 0) or "PATTERN\nPATH". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "routes.h"

static const char *const methods[] = {"GET",  "POST",  "PUT",	  "DELETE",
				      "HEAD", "PATCH", "OPTIONS", "get"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	if (gw_router_check(gw_routes, gw_n_routes, err, sizeof(err)) < 0)
		abort(); /* the gateway itself would refuse to start */
	return 0;
}

static void check_match(enum gw_match_result r, const struct gw_match *m, const char *path)
{
	switch (r) {
	case GW_MATCH_OK:
		if (!m->route || m->n_params > GW_MAX_PARAMS)
			abort();
		for (size_t i = 0; i < m->n_params; i++) {
			const char *v = m->params[i].value;

			/* A parameter is one non-empty, decoded segment. */
			if (!v || !*v || strchr(v, '/') || strcmp(v, ".") == 0 ||
			    strcmp(v, "..") == 0 || strlen(v) > strlen(path))
				abort();
			if (gw_match_param(m, m->params[i].name) == NULL)
				abort();
		}
		if (m->rest && m->rest[0] && m->rest[0] != '/')
			abort();
		break;
	case GW_MATCH_BAD_METHOD:
		if (!m->allow[0])
			abort();
		break;
	case GW_MATCH_BAD_PATH:
		if (!m->error)
			abort();
		break;
	case GW_MATCH_NOT_FOUND:
	case GW_MATCH_TOO_LONG:
		break;
	default:
		abort();
	}
	/* A refused path never matches with a dot segment in it. */
	if (r == GW_MATCH_OK && (strstr(path, "/../") || strstr(path, "/./")))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gw_match m; /* 4 KiB: not on the stack */
	char *text, *path, *pattern = NULL, err[256];
	const char *method;
	enum gw_match_result r;

	if (size < 1)
		return 0;
	method = methods[(data[0] >> 1) & 7];
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	path = text;
	if (data[0] & 1) {
		pattern = text;
		path = strchr(text, '\n');
		if (!path) {
			free(text);
			return 0;
		}
		*path++ = 0;
	}
	if (!pattern) {
		r = gw_router_match(gw_routes, gw_n_routes, method, path, &m);
		check_match(r, &m, path);
	} else {
		struct gw_route row[1] = {GW_RPC("GET", pattern, "Health", NULL, 200)};

		row[0].method = method;
		if (gw_router_check(row, 1, err, sizeof(err)) == 0) {
			r = gw_router_match(row, 1, method, path, &m);
			check_match(r, &m, path);
		}
	}
	/* The decoder alone: dst needs len + 1 bytes. */
	size_t len = strlen(path);
	char *dst = malloc(len + 1);
	if (dst) {
		int dl = gw_percent_decode(path, len, dst);
		if (dl >= 0 && ((size_t)dl > len || strlen(dst) != (size_t)dl))
			abort();
		free(dst);
	}
	free(text);
	return 0;
}
