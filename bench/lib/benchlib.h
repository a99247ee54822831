/* What several benchmarks compute or run alike: order statistics of
 * timings and the bubblewrap baseline. */
#ifndef BENCH_LIB_H
#define BENCH_LIB_H

/* Sort v[0..n) ascending. */
void bench_sort(double *v, int n);

/* The median of v[0..n) (n >= 1; v is left as it was), or 0 when no
 * memory for the sorted copy. */
double bench_median(const double *v, int n);

/* bwrap --unshare-all --die-with-parent --ro-bind / / argv... (at most 10
 * words, NULL-terminated), waited for: 0 when it exited 0, -EIO when it
 * failed, or the -errno of starting it. */
int bench_run_bwrap(const char *const argv[]);

#endif
