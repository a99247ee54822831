/* Judge0 submissions in a cluster (README "Cluster"): two nodes, one
 * gateway. Judge0Submit goes to a node with room, the token carries that
 * node's tag, GET and DELETE of a token reach its owner whichever node
 * the gateway would pick, and the list asks every node. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack.h"
#include "test-cluster.h"
#include "testlib.h"

static struct th_cluster c;

static char *submit(int i)
{
	char body[160];
	json_t *j;
	char *t = NULL;

	snprintf(body, sizeof(body), "{\"source_code\": \"print(%d)\", \"language_id\": 71}", i);
	j = cl_json(c.gws[0].base, "POST", "/judge0/submissions", body, 201, 0);
	if (j && json_string_value(json_object_get(j, "token")))
		t = strdup(json_string_value(json_object_get(j, "token")));
	json_decref(j);
	return t;
}

int main(void)
{
	static const int all_up[] = {1, 1};
	const char *node_args[] = {"--max-concurrent", "2", "--judge0-workers", "1", NULL};
	char *tokens[6] = {0}, path[160];
	int owners[2] = {0};
	json_t *j;

	th_require_sandboxes();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (th_cluster_init(&c, "sbx-cluster-judge0", 2, 1) < 0 ||
	    th_cluster_node_start(&c, 0, node_args) < 0 ||
	    th_cluster_node_start(&c, 1, node_args) < 0 ||
	    th_cluster_gw_start(&c, 0, 2, NULL) < 0 ||
	    cl_wait_view(&c, c.gws[0].base, all_up, 2, 30000, NULL) < 0) {
		tl_fail(__FILE__, __LINE__, "cluster", "two nodes and a gateway did not come up");
		goto out;
	}
	for (int i = 0; i < 6; i++) {
		int k;

		tokens[i] = submit(i);
		k = tokens[i] ? cl_node_of_tag(&c, tokens[i]) : -1;
		CHECKF(k >= 0, "token %s has the tag of no node", tokens[i] ? tokens[i] : "-");
		if (k >= 0)
			owners[k]++;
	}
	printf("  tokens per node: %d %d\n", owners[0], owners[1]);
	/* Each token is answered by its owner, with its own output. */
	for (int i = 0; i < 6 && tokens[i]; i++) {
		char want[8];

		snprintf(want, sizeof(want), "%d\n", i);
		snprintf(path, sizeof(path), "/judge0/submissions/%s?fields=stdout,status_id",
			 tokens[i]);
		for (int k = 0; k < 400; k++) {
			j = cl_json(c.gws[0].base, "GET", path, NULL, 200, 0);
			if (!j || json_integer_value(json_object_get(j, "status_id")) >= 3)
				break;
			json_decref(j);
			th_sleep_ms(50);
		}
		if (j) {
			const char *out = json_string_value(json_object_get(j, "stdout"));

			CHECKF(out && strcmp(out, want) == 0, "%s: stdout %s", tokens[i],
			       out ? out : "null");
		}
		json_decref(j);
	}
	/* The list asks both nodes: all six are in it. */
	j = cl_json(c.gws[0].base, "GET", "/judge0/submissions?per_page=20&fields=token", NULL, 200,
		    0);
	CHECK_INT(json_array_size(json_object_get(j, "submissions")), 6);
	json_decref(j);
	/* Delete reaches the owner; the token is gone everywhere after. */
	snprintf(path, sizeof(path), "/judge0/submissions/%s", tokens[5] ? tokens[5] : "x");
	json_decref(cl_json(c.gws[0].base, "DELETE", path, NULL, 200, 0));
	json_decref(cl_json(c.gws[0].base, "GET", path, NULL, 404, 0));
out:
	for (int i = 0; i < 6; i++)
		free(tokens[i]);
	th_cluster_fini(&c);
	curl_global_cleanup();
	TEST_DONE();
}
