#include "ipc.h"

#include <errno.h>
#include <nng/nng.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

int sbx_ipc_prepare(const char *url)
{
	_cleanup_free_ char *dir = NULL;
	char *slash;

	if (strncmp(url, "ipc://", 6) != 0)
		return 0;
	dir = strdup(url + 6);
	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int sbx_ipc_share(const char *url, gid_t gid)
{
	if (strncmp(url, "ipc://", 6) != 0 || gid == (gid_t)-1)
		return 0;
	if (chown(url + 6, (uid_t)-1, gid) < 0 || chmod(url + 6, 0660) < 0)
		return -errno;
	return 0;
}

int sbx_errno_from_nng(int rv)
{
	switch (rv) {
	case 0:
		return 0;
	case NNG_ETIMEDOUT:
		return -ETIMEDOUT;
	case NNG_ECLOSED:
	case NNG_ECANCELED:
		return -ECANCELED;
	case NNG_ECONNREFUSED:
	case NNG_ECONNSHUT:
	case NNG_ECONNRESET:
		return -ECONNREFUSED;
	case NNG_ENOMEM:
		return -ENOMEM;
	case NNG_EMSGSIZE:
		return -E2BIG;
	default:
		return -EIO;
	}
}
