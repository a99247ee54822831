/* Host figures for AdminStatus: memory from /proc/meminfo, CPU use from
 * /proc/stat. Paths are parameters so that tests can feed files. */
#ifndef SBX_HOST_H
#define SBX_HOST_H

#include <stdint.h>

/* MemTotal and MemTotal - MemAvailable, in MB. 0 or -errno / -EINVAL
 * (no MemTotal line). */
int sbx_host_memory(const char *meminfo, double *ret_used_mb, double *ret_total_mb);

/* The aggregate "cpu" line of /proc/stat: busy and total jiffies since
 * boot (idle and iowait are not busy). */
struct sbx_cpu_sample {
	uint64_t busy, total;
};
int sbx_host_cpu_sample(const char *stat, struct sbx_cpu_sample *ret);
/* Percent busy between two samples (0..100); `prev` NULL: since boot. */
double sbx_host_cpu_percent(const struct sbx_cpu_sample *prev, const struct sbx_cpu_sample *now);

#endif
