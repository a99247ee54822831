/* UTS namespace: a fixed host name, so the host's is not revealed. */
#include <errno.h>
#include <unistd.h>

#include "module.h"
#include "spawner_state.h"

static int uts_child(const struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	static const char name[] = "sandbox";
	if (sethostname(name, sizeof(name) - 1) < 0)
		return -errno;
	if (setdomainname(name, sizeof(name) - 1) < 0)
		return -errno;
	return 0;
}

const struct sbx_module sbx_uts_module = {
	.name = "uts",
	.child = uts_child,
};
