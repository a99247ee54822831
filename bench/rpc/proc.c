#include "proc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int bench_proc_spawn(struct bench_proc *p, const char *name, char *const argv[])
{
	pid_t parent = getpid();
	pid_t pid;

	*p = (struct bench_proc){.name = name};
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Only async-signal-safe calls here: the parent may have threads. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	p->pid = pid;
	return 0;
}

bool bench_proc_running(struct bench_proc *p)
{
	int status;

	if (p->pid <= 0 || p->exited)
		return false;
	if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
		p->exited = true;
		p->status = status;
		return false;
	}
	return true;
}

int bench_proc_stop(struct bench_proc *p, unsigned grace_ms)
{
	const struct timespec tick = {.tv_nsec = 5 * 1000 * 1000};
	int status;

	if (p->pid <= 0)
		return 0;
	if (bench_proc_running(p)) {
		kill(p->pid, SIGTERM);
		for (unsigned waited = 0; bench_proc_running(p) && waited < grace_ms; waited += 5)
			nanosleep(&tick, NULL);
		if (bench_proc_running(p)) {
			kill(p->pid, SIGKILL);
			if (waitpid(p->pid, &status, 0) == p->pid) {
				p->exited = true;
				p->status = status;
			}
			return -ETIMEDOUT;
		}
	}
	return WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0 ? 0 : -ECHILD;
}

const char *bench_proc_describe(const struct bench_proc *p, char *buf, size_t len)
{
	if (!p->exited)
		snprintf(buf, len, "running");
	else if (WIFEXITED(p->status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(p->status));
	else if (WIFSIGNALED(p->status))
		snprintf(buf, len, "signal %d", WTERMSIG(p->status));
	else
		snprintf(buf, len, "wait status %#x", (unsigned)p->status);
	return buf;
}
