/* The figures Prometheus' process collector shows, of this process, read
 * from /proc (the gateway's and the daemon's GET /metrics). */
#ifndef SBX_PROCSELF_H
#define SBX_PROCSELF_H

#include <stdint.h>

struct sbx_proc_self {
	uint64_t rss_bytes;  /* resident set size */
	unsigned open_fds;   /* entries of /proc/self/fd, the reading one not counted */
	double cpu_seconds;  /* user + system */
	double start_time_s; /* since the epoch */
};

/* Fill *ret; a figure that cannot be read is left 0. Returns 0, or
 * -errno when /proc/self/stat cannot be read (the fds may still be). */
int sbx_proc_self(struct sbx_proc_self *ret);

#endif
