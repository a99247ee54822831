/* Helpers of test-cluster and bench-cluster (test-cluster.h). */
#include "test-cluster.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "nodeid.h"
#include "testlib.h"

json_t *cl_status(const struct th_cluster *c, const char *base, struct cl_view *v)
{
	struct th_resp r = {0};
	json_t *j, *nodes;
	size_t i;

	memset(v, 0, sizeof(*v));
	for (int k = 0; k < TH_MAX_NODES; k++)
		v->up[k] = -1;
	th_http(base, "GET", "/admin/api/status", NULL, NULL, 5000, &r);
	v->status = r.status;
	j = th_json(&r);
	th_resp_fini(&r);
	if (!json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	nodes = json_object_get(j, "nodes");
	v->partial = json_is_true(json_object_get(j, "partial"));
	for (i = 0; i < json_array_size(nodes); i++) {
		json_t *n = json_array_get(nodes, i);
		int k = cl_node_index(c, th_str(n, "id"));

		v->listed++;
		if (k >= 0)
			v->up[k] = json_is_true(json_object_get(n, "up"));
	}
	return j;
}

static bool view_is(const struct cl_view *v, const int *want, int want_n)
{
	if (v->status != 200 || v->listed != want_n)
		return false;
	for (int i = 0; i < want_n; i++)
		if (want[i] >= 0 && v->up[i] != want[i])
			return false;
	return true;
}

long cl_wait_view(const struct th_cluster *c, const char *base, const int *want, int want_n,
		  int timeout_ms, struct cl_view *last)
{
	long long t0 = sbx_clock_mono_ms();
	struct cl_view v;

	for (;;) {
		json_decref(cl_status(c, base, &v));
		if (last)
			*last = v;
		if (view_is(&v, want, want_n))
			return (long)(sbx_clock_mono_ms() - t0);
		if (sbx_clock_mono_ms() - t0 > timeout_ms)
			return -1;
		th_sleep_ms(50);
	}
}

int cl_node_index(const struct th_cluster *c, const char *node_id)
{
	for (int i = 0; node_id && i < c->n_nodes; i++)
		if (strcmp(c->nodes[i].id, node_id) == 0)
			return i;
	return -1;
}

int cl_node_of_tag(const struct th_cluster *c, const char *id)
{
	char tag[SBX_NODE_TAG_LEN + 1], want[SBX_NODE_TAG_LEN + 1];

	if (!id || !sbx_id_tag(id, tag))
		return -1;
	for (int i = 0; i < c->n_nodes; i++) {
		sbx_node_tag(c->nodes[i].id, want);
		if (strcmp(tag, want) == 0)
			return i;
	}
	return -1;
}

json_t *cl_json_(const char *file, int line, const char *base, const char *method, const char *path,
		 const char *body, long want, long timeout_ms)
{
	struct th_resp r = {0};
	json_t *j = NULL;

	th_http(base, method, path, body, NULL, timeout_ms, &r);
	if (r.status == want)
		j = th_json(&r);
	if (r.status == want && !j && r.len)
		tl_fail(file, line, "reply is JSON", "%s %s%s: not JSON: %.300s", method, base,
			path, r.body);
	else if (r.status != want)
		tl_fail(file, line, "status", "%s %s%s: %ld (want %ld) %.400s%s%.200s", method,
			base, path, r.status, want, r.body, body ? "\n  request: " : "",
			body ? body : "");
	else
		tl_passed++;
	th_resp_fini(&r);
	return j;
}
