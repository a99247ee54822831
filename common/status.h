/* Status codes: gRPC's numbering, used on the RPC wire (RpcReply.status),
 * and the one table that maps errno -> status -> HTTP status. One code of
 * our own follows gRPC's: INSUFFICIENT_STORAGE, the host's disk is short
 * (gRPC folds it into RESOURCE_EXHAUSTED, but HTTP tells it apart: 507,
 * not 429 "try again soon"); a gRPC client reads it as an unknown code. */
#ifndef SBX_STATUS_H
#define SBX_STATUS_H

enum sbx_status {
	SBX_OK = 0,
	SBX_CANCELLED = 1,
	SBX_UNKNOWN = 2,
	SBX_INVALID_ARGUMENT = 3,
	SBX_DEADLINE_EXCEEDED = 4,
	SBX_NOT_FOUND = 5,
	SBX_ALREADY_EXISTS = 6,
	SBX_PERMISSION_DENIED = 7,
	SBX_RESOURCE_EXHAUSTED = 8,
	SBX_FAILED_PRECONDITION = 9,
	SBX_ABORTED = 10,
	SBX_OUT_OF_RANGE = 11,
	SBX_UNIMPLEMENTED = 12,
	SBX_INTERNAL = 13,
	SBX_UNAVAILABLE = 14,
	SBX_DATA_LOSS = 15,
	SBX_UNAUTHENTICATED = 16,
	SBX_INSUFFICIENT_STORAGE = 17,
	SBX_STATUS_MAX = SBX_INSUFFICIENT_STORAGE,
};

/* "INVALID_ARGUMENT" etc.; "UNKNOWN" for a code outside the table. */
const char *sbx_status_name(int status);
/* HTTP status for an RPC status (INVALID_ARGUMENT -> 400, NOT_FOUND -> 404,
 * RESOURCE_EXHAUSTED -> 429, UNAVAILABLE -> 503, ...); 500 when unknown. */
int sbx_status_http(int status);
/* Status for a negative errno returned inside the code base (-EINVAL ->
 * INVALID_ARGUMENT, -ENOENT -> NOT_FOUND, -EAGAIN -> RESOURCE_EXHAUSTED,
 * -ENOSPC -> INSUFFICIENT_STORAGE...);
 * INTERNAL for anything unlisted, OK for 0. */
int sbx_status_from_errno(int neg_errno);

#endif
