/* Capabilities: the payload holds none, in any set, and can never gain one
 * (no_new_privs also makes setuid/file-capability binaries inert and is
 * what allows an unprivileged seccomp filter). */
#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "module.h"
#include "spawner_state.h"

static int last_cap(void)
{
	/* Probe upwards: PR_CAPBSET_READ fails past the kernel's last cap. */
	int c = CAP_LAST_CAP;
	while (prctl(PR_CAPBSET_READ, c + 1, 0, 0, 0) >= 0)
		c++;
	return c;
}

static int caps_exec(const struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	for (int c = 0, last = last_cap(); c <= last; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

const struct sbx_module sbx_caps_module = {
	.name = "caps",
	.exec = caps_exec,
};
