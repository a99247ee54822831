#include "ipc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
