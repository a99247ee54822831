#include "envelope.h"

#include <errno.h>
#include <stdlib.h>

#include "cleanup.h"

static int pack_message(const ProtobufCMessage *m, void **ret_buf, size_t *ret_len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf;

	if (n > SBX_ENVELOPE_MAX)
		return -E2BIG;
	buf = malloc(n ? n : 1);
	if (!buf)
		return -ENOMEM;
	protobuf_c_message_pack(m, buf);
	*ret_buf = buf;
	*ret_len = n;
	return 0;
}

/* Packs `payload` into a fresh buffer stored in *out (empty when NULL). */
static int pack_payload(const ProtobufCMessage *payload, ProtobufCBinaryData *out)
{
	void *buf = NULL;
	size_t len = 0;
	int r;

	if (!payload)
		return 0;
	r = pack_message(payload, &buf, &len);
	if (r < 0)
		return r;
	out->data = buf;
	out->len = len;
	return 0;
}

int sbx_envelope_pack_request(const char *method, uint64_t id, uint64_t deadline_ms,
			      const char *auth_token, const char *client,
			      const ProtobufCMessage *payload, void **ret_buf, size_t *ret_len)
{
	return sbx_envelope_pack_request_keyed(method, id, deadline_ms, auth_token, NULL, client,
					       payload, ret_buf, ret_len);
}

int sbx_envelope_pack_request_keyed(const char *method, uint64_t id, uint64_t deadline_ms,
				    const char *auth_token, const char *cluster_key,
				    const char *client, const ProtobufCMessage *payload,
				    void **ret_buf, size_t *ret_len)
{
	Sbx__RpcRequest req = SBX__RPC_REQUEST__INIT;
	int r;

	if (!method)
		return -EINVAL;
	req.method = (char *)method;
	req.id = id;
	req.deadline_ms = deadline_ms;
	req.auth_token = (char *)(auth_token ? auth_token : "");
	req.client = (char *)(client ? client : "");
	req.cluster_key = (char *)(cluster_key ? cluster_key : "");
	r = pack_payload(payload, &req.payload);
	if (r < 0)
		return r;
	r = pack_message(&req.base, ret_buf, ret_len);
	free(req.payload.data);
	return r;
}

int sbx_envelope_pack_reply(uint64_t id, int status, const char *message,
			    const ProtobufCMessage *payload, void **ret_buf, size_t *ret_len)
{
	Sbx__RpcReply rep = SBX__RPC_REPLY__INIT;
	int r;

	rep.id = id;
	rep.status = status;
	rep.message = (char *)(message ? message : "");
	r = pack_payload(payload, &rep.payload);
	if (r < 0)
		return r;
	r = pack_message(&rep.base, ret_buf, ret_len);
	free(rep.payload.data);
	return r;
}

int sbx_envelope_unpack_request(const void *buf, size_t len, Sbx__RpcRequest **ret)
{
	Sbx__RpcRequest *req;

	if (len > SBX_ENVELOPE_MAX)
		return -E2BIG;
	req = sbx__rpc_request__unpack(NULL, len, buf);
	if (!req)
		return -EBADMSG;
	*ret = req;
	return 0;
}

int sbx_envelope_unpack_reply(const void *buf, size_t len, Sbx__RpcReply **ret)
{
	Sbx__RpcReply *rep;

	if (len > SBX_ENVELOPE_MAX)
		return -E2BIG;
	rep = sbx__rpc_reply__unpack(NULL, len, buf);
	if (!rep)
		return -EBADMSG;
	*ret = rep;
	return 0;
}

int sbx_payload_unpack(const ProtobufCMessageDescriptor *d, const ProtobufCBinaryData *payload,
		       ProtobufCMessage **ret)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, payload->len, payload->data);

	if (!m)
		return -EBADMSG;
	*ret = m;
	return 0;
}

ProtobufCMessage *sbx_message_new(const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = calloc(1, d->sizeof_message);

	if (m)
		protobuf_c_message_init(d, m);
	return m;
}
