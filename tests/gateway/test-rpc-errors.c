/* The generic handler's answers that cluster mode adds
 * (gateway/rpc_handler.h): libsandbox's transport errors mapped to an HTTP
 * status and a sentence naming the node, and a fan-out answer that missed
 * nodes marked in a header and, where it lists the nodes, in its body. */
#include <errno.h>
#include <string.h>

#include "gw_server.h"
#include "rpc_handler.h"
#include "testlib.h"

/* CHECK_STR on an array trips -Waddress. */
#define CHECK_MSG(want) CHECKF(strcmp(msg, (want)) == 0, "'%s'", msg)

static void test_transport_errors(void)
{
	char msg[512];

	CHECK_INT(gw_rpc_transport_status(-EHOSTDOWN, "node-b", msg, sizeof(msg)), 503);
	CHECK_MSG("node node-b that holds this object is down; retry when it is back");
	CHECK_INT(gw_rpc_transport_status(-ECONNRESET, "tcp://10.0.0.3:7000", msg, sizeof(msg)),
		  503);
	CHECK_MSG("node tcp://10.0.0.3:7000 went away while running this request; it was "
		  "not retried");
	/* A call that reached no node still reads as a sentence. */
	CHECK_INT(gw_rpc_transport_status(-EHOSTDOWN, "", msg, sizeof(msg)), 503);
	CHECKF(strstr(msg, "(unknown)") != NULL, "%s", msg);
	CHECK_INT(gw_rpc_transport_status(-EHOSTDOWN, NULL, msg, sizeof(msg)), 503);

	/* The errors of one daemon, as before clusters; the node is unused. */
	CHECK_INT(gw_rpc_transport_status(-ECONNREFUSED, "n", msg, sizeof(msg)), 503);
	CHECK_MSG("sandbox daemon is unavailable");
	CHECK_INT(gw_rpc_transport_status(-ETIMEDOUT, "n", msg, sizeof(msg)), 504);
	CHECK_INT(gw_rpc_transport_status(-E2BIG, "n", msg, sizeof(msg)), 413);
	CHECK_INT(gw_rpc_transport_status(-EBADMSG, "n", msg, sizeof(msg)), 502);
	CHECK_INT(gw_rpc_transport_status(-ENOENT, "n", msg, sizeof(msg)), 501);
	CHECK_INT(gw_rpc_transport_status(-EPIPE, "n", msg, sizeof(msg)), 502);
	CHECK_MSG("the sandbox daemon could not be reached");
	/* A node name that does not fit is cut, never overflows. */
	CHECK_INT(gw_rpc_transport_status(-EHOSTDOWN, "n", msg, 12), 503);
	CHECK_INT(strlen(msg), 11);
}

static void test_partial(void)
{
	struct gw_header hdrs[2] = {{0}, {0}};
	json_t *stats = json_pack("{s:i,s:[{s:s},{s:s}]}", "total_executions", 3, "nodes", "id",
				  "a", "id", "b");
	json_t *list = json_pack("[{s:s}]", "id", "x");
	json_t *plain = json_pack("{s:s}", "id", "x");

	/* Every node answered: no header, "partial": false where nodes are. */
	CHECK_INT(gw_rpc_mark_partial(stats, "", hdrs), 0);
	CHECK(hdrs[0].name == NULL);
	CHECK(json_is_false(json_object_get(stats, "partial")));
	/* One missed: the header names it, the body says so. */
	CHECK_INT(gw_rpc_mark_partial(stats, "b", hdrs), 0);
	CHECK_STR(hdrs[0].name, "X-Sandboxd-Partial");
	CHECK_STR(hdrs[0].value, "b");
	CHECK(hdrs[1].name == NULL);
	CHECK(json_is_true(json_object_get(stats, "partial")));
	/* The seeds' documented keys stay as they were, "partial" comes last. */
	CHECK_INT(json_object_size(stats), 3);

	/* A bare list (/sandboxes): the header only. */
	hdrs[0] = (struct gw_header){0};
	CHECK_INT(gw_rpc_mark_partial(list, "b,c", hdrs), 0);
	CHECK_STR(hdrs[0].value, "b,c");
	CHECK_INT(json_array_size(list), 1);
	/* An object without a node list gains no key. */
	hdrs[0] = (struct gw_header){0};
	CHECK_INT(gw_rpc_mark_partial(plain, "", hdrs), 0);
	CHECK(json_object_get(plain, "partial") == NULL);
	CHECK(hdrs[0].name == NULL);
	json_decref(stats);
	json_decref(list);
	json_decref(plain);
}

int main(void)
{
	test_transport_errors();
	test_partial();
	TEST_DONE();
}
