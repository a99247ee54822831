/* The errno -> RPC status -> HTTP status table (common/status.c). */
#include <errno.h>
#include <string.h>

#include "status.h"
#include "testlib.h"

static void test_every_code(void)
{
	for (int s = SBX_OK; s <= SBX_STATUS_MAX; s++) {
		const char *name = sbx_status_name(s);
		int http = sbx_status_http(s);

		CHECKF(name && *name, "status %d has no name", s);
		/* Only UNKNOWN itself may use the fallback name. */
		CHECKF(s == SBX_UNKNOWN || strcmp(name, "UNKNOWN") != 0, "status %d unnamed", s);
		CHECKF(http >= 200 && http <= 599, "status %d -> HTTP %d", s, http);
		for (int t = SBX_OK; t < s; t++)
			CHECKF(strcmp(name, sbx_status_name(t)) != 0, "%d and %d share %s", s, t,
			       name);
		/* Only OK is a success. */
		CHECKF((s == SBX_OK) == (http < 300), "status %d -> HTTP %d", s, http);
	}
	CHECK_STR(sbx_status_name(-1), "UNKNOWN");
	CHECK_STR(sbx_status_name(SBX_STATUS_MAX + 1), "UNKNOWN");
	CHECK_INT(sbx_status_http(-1), 500);
	CHECK_INT(sbx_status_http(SBX_STATUS_MAX + 1), 500);
}

static void test_http(void)
{
	CHECK_INT(sbx_status_http(SBX_OK), 200);
	CHECK_INT(sbx_status_http(SBX_INVALID_ARGUMENT), 400);
	CHECK_INT(sbx_status_http(SBX_NOT_FOUND), 404);
	CHECK_INT(sbx_status_http(SBX_RESOURCE_EXHAUSTED), 429);
	CHECK_INT(sbx_status_http(SBX_UNAVAILABLE), 503);
	CHECK_INT(sbx_status_http(SBX_UNIMPLEMENTED), 501);
	CHECK_INT(sbx_status_http(SBX_UNAUTHENTICATED), 401);
	CHECK_INT(sbx_status_http(SBX_DEADLINE_EXCEEDED), 504);
	CHECK_INT(sbx_status_http(SBX_PERMISSION_DENIED), 403);
	CHECK_INT(sbx_status_http(SBX_INTERNAL), 500);
	CHECK_STR(sbx_status_name(SBX_INVALID_ARGUMENT), "INVALID_ARGUMENT");
	CHECK_STR(sbx_status_name(SBX_RESOURCE_EXHAUSTED), "RESOURCE_EXHAUSTED");
}

static void test_errno(void)
{
	CHECK_INT(sbx_status_from_errno(0), SBX_OK);
	CHECK_INT(sbx_status_from_errno(-EINVAL), SBX_INVALID_ARGUMENT);
	CHECK_INT(sbx_status_from_errno(-E2BIG), SBX_INVALID_ARGUMENT);
	CHECK_INT(sbx_status_from_errno(-EBADMSG), SBX_INVALID_ARGUMENT);
	CHECK_INT(sbx_status_from_errno(-ENOENT), SBX_NOT_FOUND);
	CHECK_INT(sbx_status_from_errno(-EAGAIN), SBX_RESOURCE_EXHAUSTED);
	CHECK_INT(sbx_status_from_errno(-ETIMEDOUT), SBX_DEADLINE_EXCEEDED);
	CHECK_INT(sbx_status_from_errno(-ENOSYS), SBX_UNIMPLEMENTED);
	CHECK_INT(sbx_status_from_errno(-EACCES), SBX_UNAUTHENTICATED);
	CHECK_INT(sbx_status_from_errno(-EPERM), SBX_PERMISSION_DENIED);
	CHECK_INT(sbx_status_from_errno(-ECONNREFUSED), SBX_UNAVAILABLE);
	CHECK_INT(sbx_status_from_errno(-ECANCELED), SBX_CANCELLED);
	/* Anything unlisted is an internal error, never success. */
	CHECK_INT(sbx_status_from_errno(-EDOM), SBX_INTERNAL);
	CHECK_INT(sbx_status_from_errno(-ENOMEM), SBX_INTERNAL);
	/* The whole chain, as the gateway uses it. */
	CHECK_INT(sbx_status_http(sbx_status_from_errno(-EINVAL)), 400);
	CHECK_INT(sbx_status_http(sbx_status_from_errno(-ENOENT)), 404);
	CHECK_INT(sbx_status_http(sbx_status_from_errno(-EAGAIN)), 429);
	CHECK_INT(sbx_status_http(sbx_status_from_errno(-ECONNREFUSED)), 503);
	CHECK_INT(sbx_status_http(sbx_status_from_errno(-ENOSYS)), 501);
	CHECK_INT(sbx_status_http(sbx_status_from_errno(-EACCES)), 401);
	CHECK_INT(sbx_status_http(sbx_status_from_errno(-ETIMEDOUT)), 504);
	/* The host's disk short (MIN_FREE_DISK_MB): 507, not 429. */
	CHECK_INT(sbx_status_from_errno(-ENOSPC), SBX_INSUFFICIENT_STORAGE);
	CHECK_INT(sbx_status_http(sbx_status_from_errno(-ENOSPC)), 507);
	CHECK_INT(sbx_status_http(sbx_status_from_errno(-EDOM)), 500);
}

int main(void)
{
	test_every_code();
	test_http();
	test_errno();
	TEST_DONE();
}
