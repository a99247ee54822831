#include "benchlib.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

void bench_sort(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
}

double bench_median(const double *v, int n)
{
	double *s = malloc((size_t)n * sizeof(double)), m;

	if (!s)
		return 0;
	memcpy(s, v, (size_t)n * sizeof(double));
	bench_sort(s, n);
	m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

int bench_run_bwrap(const char *const argv[])
{
	const char *av[16] = {"bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/"};
	size_t n = 6;
	pid_t pid;
	int r, st;

	for (size_t i = 0; argv[i] && n < 15; i++)
		av[n++] = argv[i];
	av[n] = NULL;
	/* What the command prints (a snippet's "1") is not the benchmark's
	 * output: it goes where a sandbox's would be dropped. */
	posix_spawn_file_actions_t fa;
	if ((r = posix_spawn_file_actions_init(&fa)))
		return -r;
	r = posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	if (!r)
		r = posix_spawnp(&pid, "bwrap", &fa, NULL, (char **)av, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r)
		return -r;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}
