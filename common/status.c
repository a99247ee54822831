#include "status.h"

#include <errno.h>
#include <stddef.h>

#include "cleanup.h"

static const struct {
	const char *name;
	int http;
} status_table[] = {
	[SBX_OK] = { "OK", 200 },
	[SBX_CANCELLED] = { "CANCELLED", 499 },
	[SBX_UNKNOWN] = { "UNKNOWN", 500 },
	[SBX_INVALID_ARGUMENT] = { "INVALID_ARGUMENT", 400 },
	[SBX_DEADLINE_EXCEEDED] = { "DEADLINE_EXCEEDED", 504 },
	[SBX_NOT_FOUND] = { "NOT_FOUND", 404 },
	[SBX_ALREADY_EXISTS] = { "ALREADY_EXISTS", 409 },
	[SBX_PERMISSION_DENIED] = { "PERMISSION_DENIED", 403 },
	[SBX_RESOURCE_EXHAUSTED] = { "RESOURCE_EXHAUSTED", 429 },
	[SBX_FAILED_PRECONDITION] = { "FAILED_PRECONDITION", 409 },
	[SBX_ABORTED] = { "ABORTED", 409 },
	[SBX_OUT_OF_RANGE] = { "OUT_OF_RANGE", 400 },
	[SBX_UNIMPLEMENTED] = { "UNIMPLEMENTED", 501 },
	[SBX_INTERNAL] = { "INTERNAL", 500 },
	[SBX_UNAVAILABLE] = { "UNAVAILABLE", 503 },
	[SBX_DATA_LOSS] = { "DATA_LOSS", 500 },
	[SBX_UNAUTHENTICATED] = { "UNAUTHENTICATED", 401 },
	[SBX_INSUFFICIENT_STORAGE] = { "INSUFFICIENT_STORAGE", 507 },
};

static const struct {
	int err;
	int status;
} errno_table[] = {
	{ EINVAL, SBX_INVALID_ARGUMENT },    { E2BIG, SBX_INVALID_ARGUMENT },
	{ ENAMETOOLONG, SBX_INVALID_ARGUMENT }, { ENOENT, SBX_NOT_FOUND },
	{ ESRCH, SBX_NOT_FOUND },            { EEXIST, SBX_ALREADY_EXISTS },
	{ EPERM, SBX_PERMISSION_DENIED },    { EACCES, SBX_UNAUTHENTICATED },
	{ EAGAIN, SBX_RESOURCE_EXHAUSTED },  { EUSERS, SBX_RESOURCE_EXHAUSTED },
	{ ENOSPC, SBX_INSUFFICIENT_STORAGE }, { EMFILE, SBX_RESOURCE_EXHAUSTED },
	{ EBUSY, SBX_FAILED_PRECONDITION },  { ETIMEDOUT, SBX_DEADLINE_EXCEEDED },
	{ ENOSYS, SBX_UNIMPLEMENTED },       { EOPNOTSUPP, SBX_UNIMPLEMENTED },
	{ ECONNREFUSED, SBX_UNAVAILABLE },   { ESHUTDOWN, SBX_UNAVAILABLE },
	{ ECANCELED, SBX_CANCELLED },        { ERANGE, SBX_OUT_OF_RANGE },
	{ EBADMSG, SBX_INVALID_ARGUMENT },
	/* A workspace file over the download cap: its state, not the request,
	 * is what stands in the way (HTTP 409). */
	{ EFBIG, SBX_FAILED_PRECONDITION },
};

const char *sbx_status_name(int status)
{
	if (status < 0 || status > SBX_STATUS_MAX)
		return "UNKNOWN";
	return status_table[status].name;
}

int sbx_status_http(int status)
{
	if (status < 0 || status > SBX_STATUS_MAX)
		return 500;
	return status_table[status].http;
}

int sbx_status_from_errno(int neg_errno)
{
	if (neg_errno == 0)
		return SBX_OK;
	for (size_t i = 0; i < SBX_ARRAY_SIZE(errno_table); i++)
		if (errno_table[i].err == -neg_errno)
			return errno_table[i].status;
	return SBX_INTERNAL;
}
