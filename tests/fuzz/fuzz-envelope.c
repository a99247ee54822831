/* The RPC envelope (common/envelope.h) as both ends read it: the daemon
 * unpacks a request, finds its method and unpacks the payload as the
 * method's request message (daemon/rpc/server.c); a client unpacks a reply
 * and its payload as the method's reply message (client/libsandbox.c).
 * Whatever unpacks must pack again to an envelope that unpacks the same.
 *
 * Input: byte 0 picks the method a reply is read for; the rest is the
 * message body, read both as a request and as a reply. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "methods.h"

static void free_msg(ProtobufCMessage *m)
{
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
}

static void request(const uint8_t *p, size_t n)
{
	Sbx__RpcRequest *req = NULL, *again = NULL;
	ProtobufCMessage *in = NULL;
	const sbx_method *m;
	void *buf = NULL;
	size_t len = 0;

	if (sbx_envelope_unpack_request(p, n, &req) < 0)
		return;
	m = sbx_method_find(req->method);
	if (m && sbx_payload_unpack(m->input, &req->payload, &in) == 0) {
		/* The reply the daemon would send for it, and a re-sent request. */
		if (sbx_envelope_pack_reply(req->id, 0, NULL, in, &buf, &len) < 0)
			abort();
		free(buf);
		if (sbx_envelope_pack_request(req->method, req->id, req->deadline_ms,
					      req->auth_token, req->client, in, &buf, &len) < 0 ||
		    sbx_envelope_unpack_request(buf, len, &again) < 0)
			abort();
		if (strcmp(again->method, req->method) != 0 || again->id != req->id ||
		    again->deadline_ms != req->deadline_ms ||
		    strcmp(again->auth_token, req->auth_token) != 0 ||
		    strcmp(again->client, req->client) != 0)
			abort();
		sbx__rpc_request__free_unpacked(again, NULL);
		free(buf);
	}
	free_msg(in);
	sbx__rpc_request__free_unpacked(req, NULL);
}

static void reply(const sbx_method *m, const uint8_t *p, size_t n)
{
	Sbx__RpcReply *rep = NULL, *again = NULL;
	ProtobufCMessage *out = NULL;
	void *buf = NULL;
	size_t len = 0;

	if (sbx_envelope_unpack_reply(p, n, &rep) < 0)
		return;
	if (sbx_payload_unpack(m->output, &rep->payload, &out) == 0) {
		if (sbx_envelope_pack_reply(rep->id, rep->status, rep->message, out, &buf, &len) <
			    0 ||
		    sbx_envelope_unpack_reply(buf, len, &again) < 0)
			abort();
		if (again->id != rep->id || again->status != rep->status ||
		    strcmp(again->message, rep->message) != 0)
			abort();
		sbx__rpc_reply__free_unpacked(again, NULL);
		free(buf);
	}
	free_msg(out);
	sbx__rpc_reply__free_unpacked(rep, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = sbx_method_count();

	if (size < 1 || n == 0)
		return 0;
	request(data + 1, size - 1);
	reply(sbx_method_at(data[0] % n), data + 1, size - 1);
	return 0;
}
