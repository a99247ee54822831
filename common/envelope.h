/* The RPC envelope (proto/rpc.proto) packed to and from nng message bodies.
 * All functions return 0 or a negative errno and leave ret_* untouched on
 * failure. Buffers returned through ret_buf are malloc()ed: free() them. */
#ifndef SBX_ENVELOPE_H
#define SBX_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "rpc.pb-c.h"

/* Largest envelope either side accepts (requests carry uploaded files). */
#define SBX_ENVELOPE_MAX (64u << 20)

/* payload may be NULL (empty payload); auth_token and client (who the
 * caller acts for, e.g. an HTTP client's address) may be NULL. */
int sbx_envelope_pack_request(const char *method, uint64_t id, uint64_t deadline_ms,
			      const char *auth_token, const char *client,
			      const ProtobufCMessage *payload, void **ret_buf, size_t *ret_len);
/* The same with the cluster key (RpcRequest.cluster_key; NULL: none), which
 * every node of a cluster that has one requires. */
int sbx_envelope_pack_request_keyed(const char *method, uint64_t id, uint64_t deadline_ms,
				    const char *auth_token, const char *cluster_key,
				    const char *client, const ProtobufCMessage *payload,
				    void **ret_buf, size_t *ret_len);
/* -EBADMSG when the bytes are not an RpcRequest, -E2BIG when too large.
 * Free with sbx__rpc_request__free_unpacked(*ret, NULL). */
int sbx_envelope_unpack_request(const void *buf, size_t len, Sbx__RpcRequest **ret);

/* message may be NULL; payload may be NULL. */
int sbx_envelope_pack_reply(uint64_t id, int status, const char *message,
			    const ProtobufCMessage *payload, void **ret_buf, size_t *ret_len);
int sbx_envelope_unpack_reply(const void *buf, size_t len, Sbx__RpcReply **ret);

/* Unpack a payload into a message of descriptor d; -EBADMSG if malformed.
 * Free with protobuf_c_message_free_unpacked(*ret, NULL). */
int sbx_payload_unpack(const ProtobufCMessageDescriptor *d, const ProtobufCBinaryData *payload,
		       ProtobufCMessage **ret);



/* A zeroed, initialised heap message of descriptor d, or NULL. Replies built
 * on it must hold only heap strings, so that
 * protobuf_c_message_free_unpacked(m, NULL) frees them. */
ProtobufCMessage *sbx_message_new(const ProtobufCMessageDescriptor *d);

#endif
