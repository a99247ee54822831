#include "procself.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	/* The directory's own fd is listed while it is read. */
	return n ? n - 1 : 0;
}

/* The boot time from /proc/stat ("btime N"), 0 when unknown. */
static unsigned long long boot_time(void)
{
	FILE *f = fopen("/proc/stat", "re");
	unsigned long long bt = 0;
	char line[256];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %llu", &bt) == 1)
			break;
	fclose(f);
	return bt;
}

int sbx_proc_self(struct sbx_proc_self *ret)
{
	unsigned long long utime, stime, start, rss;
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	char buf[1024], *p;
	FILE *f;
	size_t n;

	memset(ret, 0, sizeof(*ret));
	ret->open_fds = count_fds();
	f = fopen("/proc/self/stat", "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and ')': fields start after the
	 * last ')'. Then state (3), ..., utime (14), stime (15), ...,
	 * starttime (22), vsize (23), rss (24). */
	p = strrchr(buf, ')');
	if (!p || tck <= 0 || page <= 0 ||
	    sscanf(p + 1,
		   " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
		   "%llu %*u %llu",
		   &utime, &stime, &start, &rss) != 4)
		return -EIO;
	ret->cpu_seconds = (double)(utime + stime) / (double)tck;
	ret->rss_bytes = rss * (unsigned long long)page;
	ret->start_time_s = (double)boot_time() + (double)start / (double)tck;
	return 0;
}
