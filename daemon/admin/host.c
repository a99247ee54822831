#include "host.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int sbx_host_memory(const char *meminfo, double *ret_used_mb, double *ret_total_mb)
{
	unsigned long long total = 0, avail = 0, v;
	bool have_total = false, have_avail = false;
	char line[256], key[64];
	FILE *f = fopen(meminfo, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63[^:]: %llu", key, &v) != 2)
			continue;
		if (strcmp(key, "MemTotal") == 0) {
			total = v;
			have_total = true;
		} else if (strcmp(key, "MemAvailable") == 0) {
			avail = v;
			have_avail = true;
		}
	}
	fclose(f);
	if (!have_total)
		return -EINVAL;
	/* Kernels before 3.14 lack MemAvailable: count all as used then. */
	if (!have_avail || avail > total)
		avail = have_avail ? total : 0;
	*ret_total_mb = (double)total / 1024.0;
	*ret_used_mb = (double)(total - avail) / 1024.0;
	return 0;
}

int sbx_host_cpu_sample(const char *stat, struct sbx_cpu_sample *ret)
{
	unsigned long long f[10] = {0};
	char line[512];
	FILE *fp = fopen(stat, "re");
	int n;

	if (!fp)
		return -errno;
	if (!fgets(line, sizeof(line), fp)) {
		fclose(fp);
		return -EINVAL;
	}
	fclose(fp);
	/* user nice system idle iowait irq softirq steal guest guest_nice;
	 * guest time is already counted in user and nice. */
	n = sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1],
		   &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9]);
	if (n < 4)
		return -EINVAL;
	ret->total = f[0] + f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7];
	ret->busy = ret->total - f[3] - f[4];
	return 0;
}

double sbx_host_cpu_percent(const struct sbx_cpu_sample *prev, const struct sbx_cpu_sample *now)
{
	uint64_t busy = now->busy, total = now->total;

	if (prev && now->total > prev->total && now->busy >= prev->busy) {
		busy -= prev->busy;
		total -= prev->total;
	}
	if (total == 0)
		return 0.0;
	return busy >= total ? 100.0 : 100.0 * (double)busy / (double)total;
}
