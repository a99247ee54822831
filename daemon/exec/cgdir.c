#include "cgdir.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void sbx_cgdir_remove_stale(const char *dir, const char *prefix,
			    void (*rm)(const char *path, int depth), int depth)
{
	char sub[PATH_MAX];
	size_t pl = strlen(prefix);
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		int pid = strncmp(e->d_name, prefix, pl) == 0 ? atoi(e->d_name + pl) : 0;

		if (pid > 0 && pid != getpid() && kill(pid, 0) < 0 && errno == ESRCH &&
		    (size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) < sizeof(sub))
			rm(sub, depth);
	}
	if (d)
		closedir(d);
}
