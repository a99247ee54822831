/* The RPC envelope (common/envelope.c): request and reply round trips,
 * malformed and oversize input. */
#include <errno.h>
#include <string.h>

#include "api.pb-c.h"
#include "envelope.h"
#include "status.h"
#include "testlib.h"

static void test_request(void)
{
	Sbx__HealthReply h = SBX__HEALTH_REPLY__INIT;
	Sbx__RpcRequest *req = NULL;
	ProtobufCMessage *pm = NULL;
	void *buf = NULL;
	size_t len = 0;

	h.status = "ok";
	h.uptime_s = 12345;
	CHECK_INT(sbx_envelope_pack_request("Health", 42, 1700000000000ull, "key-1", NULL, &h.base, &buf,
					    &len),
		  0);
	CHECK(buf != NULL && len > 0);
	CHECK_INT(sbx_envelope_unpack_request(buf, len, &req), 0);
	if (req) {
		CHECK_STR(req->method, "Health");
		CHECK_INT(req->id, 42);
		CHECK(req->deadline_ms == 1700000000000ull);
		CHECK_STR(req->auth_token, "key-1");
		CHECK(req->payload.len > 0);
		CHECK_INT(sbx_payload_unpack(&sbx__health_reply__descriptor, &req->payload, &pm),
			  0);
		if (pm) {
			Sbx__HealthReply *got = (Sbx__HealthReply *)pm;

			CHECK_STR(got->status, "ok");
			CHECK_INT(got->uptime_s, 12345);
			CHECK_STR(got->version, "");
			protobuf_c_message_free_unpacked(pm, NULL);
		}
		sbx__rpc_request__free_unpacked(req, NULL);
	}
	free(buf);

	/* The cluster key travels beside the API key. */
	buf = NULL;
	req = NULL;
	CHECK_INT(sbx_envelope_pack_request_keyed("Health", 9, 0, "key-2", "ck-1", "10.0.0.1", NULL,
						  &buf, &len),
		  0);
	CHECK_INT(sbx_envelope_unpack_request(buf, len, &req), 0);
	if (req) {
		CHECK_STR(req->auth_token, "key-2");
		CHECK_STR(req->cluster_key, "ck-1");
		CHECK_STR(req->client, "10.0.0.1");
		sbx__rpc_request__free_unpacked(req, NULL);
	}
	free(buf);

	/* No payload, no token. */
	buf = NULL;
	req = NULL;
	CHECK_INT(sbx_envelope_pack_request("GetConfig", 7, 0, NULL, NULL, NULL, &buf, &len), 0);
	CHECK_INT(sbx_envelope_unpack_request(buf, len, &req), 0);
	if (req) {
		CHECK_STR(req->method, "GetConfig");
		CHECK_INT(req->id, 7);
		CHECK_INT(req->deadline_ms, 0);
		CHECK_STR(req->auth_token, "");
		CHECK_STR(req->cluster_key, "");
		CHECK_INT(req->payload.len, 0);
		sbx__rpc_request__free_unpacked(req, NULL);
	}
	free(buf);

	buf = (void *)1;
	CHECK_INT(sbx_envelope_pack_request(NULL, 1, 0, NULL, NULL, NULL, &buf, &len), -EINVAL);
	CHECK(buf == (void *)1);
}

static void test_reply(void)
{
	Sbx__RunRequest run = SBX__RUN_REQUEST__INIT;
	Sbx__Limits lim = SBX__LIMITS__INIT;
	Sbx__RunRequest__EnvEntry e = SBX__RUN_REQUEST__ENV_ENTRY__INIT, *ep = &e;
	char *argv[] = {"echo", "hi"};
	Sbx__RpcReply *rep = NULL;
	ProtobufCMessage *pm = NULL;
	void *buf = NULL;
	size_t len = 0;

	run.n_argv = 2;
	run.argv = argv;
	lim.has_memory_kb = 1;
	lim.memory_kb = 65536;
	run.limits = &lim;
	e.key = "A";
	e.value = "1";
	run.n_env = 1;
	run.env = &ep;
	CHECK_INT(sbx_envelope_pack_reply(99, SBX_NOT_FOUND, "no such session", &run.base, &buf,
					  &len),
		  0);
	CHECK_INT(sbx_envelope_unpack_reply(buf, len, &rep), 0);
	if (rep) {
		CHECK_INT(rep->id, 99);
		CHECK_INT(rep->status, SBX_NOT_FOUND);
		CHECK_STR(rep->message, "no such session");
		CHECK_INT(sbx_payload_unpack(&sbx__run_request__descriptor, &rep->payload, &pm), 0);
		if (pm) {
			Sbx__RunRequest *got = (Sbx__RunRequest *)pm;

			CHECK_INT(got->n_argv, 2);
			CHECK_STR(got->argv[1], "hi");
			CHECK(got->limits && got->limits->has_memory_kb &&
			      got->limits->memory_kb == 65536);
			CHECK(got->limits && !got->limits->has_cpu_time_ms);
			CHECK_INT(got->n_env, 1);
			CHECK_STR(got->env[0]->key, "A");
			CHECK_STR(got->env[0]->value, "1");
			protobuf_c_message_free_unpacked(pm, NULL);
		}
		sbx__rpc_reply__free_unpacked(rep, NULL);
	}
	free(buf);

	rep = NULL;
	CHECK_INT(sbx_envelope_pack_reply(1, SBX_OK, NULL, NULL, &buf, &len), 0);
	CHECK_INT(sbx_envelope_unpack_reply(buf, len, &rep), 0);
	if (rep) {
		CHECK_INT(rep->status, SBX_OK);
		CHECK_STR(rep->message, "");
		CHECK_INT(rep->payload.len, 0);
		sbx__rpc_reply__free_unpacked(rep, NULL);
	}
	free(buf);
}

static void test_garbage(void)
{
	/* An unterminated varint, then a truncated length-delimited field. */
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff};
	Sbx__RpcRequest *req = (Sbx__RpcRequest *)1;
	Sbx__RpcReply *rep = (Sbx__RpcReply *)1;
	ProtobufCMessage *pm = (ProtobufCMessage *)1;
	ProtobufCBinaryData bad = {.len = sizeof(junk), .data = (uint8_t *)junk};
	Sbx__HealthReply h = SBX__HEALTH_REPLY__INIT;
	void *buf = NULL;
	size_t len = 0;

	CHECK_INT(sbx_envelope_unpack_request(junk, sizeof(junk), &req), -EBADMSG);
	CHECK(req == (Sbx__RpcRequest *)1);
	CHECK_INT(sbx_envelope_unpack_reply(junk, sizeof(junk), &rep), -EBADMSG);
	CHECK(rep == (Sbx__RpcReply *)1);
	CHECK_INT(sbx_payload_unpack(&sbx__health_reply__descriptor, &bad, &pm), -EBADMSG);
	CHECK(pm == (ProtobufCMessage *)1);

	h.status = "a fairly long status string";
	CHECK_INT(sbx_envelope_pack_request("Health", 1, 0, NULL, NULL, &h.base, &buf, &len), 0);
	CHECK_INT(sbx_envelope_unpack_request(buf, len - 1, &req), -EBADMSG);
	CHECK(req == (Sbx__RpcRequest *)1);
	free(buf);
}

static void test_oversize(void)
{
	Sbx__File file = SBX__FILE__INIT;
	Sbx__RpcRequest *req = (Sbx__RpcRequest *)1;
	Sbx__RpcReply *rep = (Sbx__RpcReply *)1;
	uint8_t *big = calloc(SBX_ENVELOPE_MAX + 1, 1);
	void *buf = (void *)1;
	size_t len = 0;

	CHECK(big != NULL);
	if (!big)
		return;
	CHECK_INT(sbx_envelope_unpack_request(big, SBX_ENVELOPE_MAX + 1, &req), -E2BIG);
	CHECK(req == (Sbx__RpcRequest *)1);
	CHECK_INT(sbx_envelope_unpack_reply(big, SBX_ENVELOPE_MAX + 1, &rep), -E2BIG);
	CHECK(rep == (Sbx__RpcReply *)1);

	/* A payload larger than the envelope may carry is refused on packing. */
	file.path = "big.bin";
	file.content.data = big;
	file.content.len = SBX_ENVELOPE_MAX + 1;
	CHECK_INT(sbx_envelope_pack_request("Health", 1, 0, NULL, NULL, &file.base, &buf, &len), -E2BIG);
	CHECK(buf == (void *)1);
	CHECK_INT(sbx_envelope_pack_reply(1, 0, NULL, &file.base, &buf, &len), -E2BIG);
	CHECK(buf == (void *)1);
	free(big);
}

int main(void)
{
	test_request();
	test_reply();
	test_garbage();
	test_oversize();
	TEST_DONE();
}
