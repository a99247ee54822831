/* PID namespace: the child of clone() is pid 1 of a new namespace and stays
 * a tiny init; the payload runs as pid 2.
 *
 * Why an init rather than the payload as pid 1: the kernel drops signals to
 * pid 1 that it has no handler for, so a payload as pid 1 could not be
 * killed by its own abort() or `kill $$`, and orphans would pile up as
 * zombies against the pids limit. The init reaps every orphan, reports the
 * payload's wait status to the spawner, and exits as soon as the payload
 * ends: the kernel then SIGKILLs everything left in the namespace, which is
 * what makes "kill the whole tree" reliable (a daemonized grandchild cannot
 * leave the namespace). The spawner kills the tree the same way: SIGKILL to
 * the init through its pidfd.
 *
 * The payload is started like posix_spawn() starts a program, not with
 * fork(): it shares the init's memory, on a stack of its own carved from
 * the init's, and the init waits until the payload's execve() (or exit)
 * hands the memory back (CLONE_VM | CLONE_VFORK). No page table is copied
 * and neither side takes a copy-on-write fault for every page it writes,
 * which on a 2-core host was a fifth of the spawner's CPU time (each fault
 * flushes the other core's TLB). The payload's own set-up (rlimits,
 * capabilities, seccomp) is per task or per process, never per memory, so
 * nothing of it reaches the init. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "module.h"
#include "spawner_state.h"
#include "warm.h"

static uint64_t tv_ms(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

_Noreturn static void init_loop(struct sbx_exec *ex, pid_t payload)
{
	/* The output pipes must reach EOF when the payload's tree is done,
	 * so the init keeps no copy of them. */
	close(0);
	close(1);
	close(2);
	/* Same uid or not, nothing inside may read the init's memory. */
	prctl(PR_SET_DUMPABLE, 0);
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, 0);
		if (w == payload) {
			struct rusage ru;
			struct sbx_child_msg m;
			memset(&m, 0, sizeof(m));
			m.kind = SBX_MSG_EXIT;
			m.mono_ns = (uint64_t)sbx_clock_mono_ns();
			m.wstatus = st;
			if (getrusage(RUSAGE_CHILDREN, &ru) == 0) {
				m.cpu_ms = (uint32_t)(tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime));
				m.maxrss_kb = (uint64_t)ru.ru_maxrss;
			}
			sbx_child_send(ex, &m);
			_exit(0);
		}
		if (w < 0 && errno != EINTR)
			_exit(0);
	}
}

/* Room for the payload's set-up before its execve() (protobuf, the
 * seccomp filter, execvp's path buffer); untouched pages cost nothing. */
#define PAYLOAD_STACK (256 * 1024)

static int payload_main(void *arg)
{
	/* The payload dies with the init, whatever happens to the spawner. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != 1)
		_exit(1);
	sbx_child_payload(arg);
}

static int pid_child(const struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	/* The init must die with the spawner, which takes the whole pid
	 * namespace with it. The PDEATHSIG set at the start of the child is
	 * gone by now: the kernel clears it on every credential change
	 * (user.c's setresuid, files.c's setfsuid). The init changes none
	 * after this point (a warm runtime one does, and sets it again). */
	int r;
	if (ex->warm && ex->warm_rt && (r = sbx_warm_rt_fifo(ex)) < 0)
		return r;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* In the init's own stack, so that a sanitizer's idea of "the
	 * current stack" still holds in the payload. */
	_Alignas(16) char stack[PAYLOAD_STACK];
	pid_t p = clone(payload_main, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, ex);
	if (p < 0)
		return -errno;
	/* A warm runtime payload starts its interpreter now; the init takes
	 * the request when it comes (warm_runtime.c). */
	if (ex->warm && ex->warm_rt)
		sbx_warm_rt_go(ctx, ex, p);
	init_loop(ex, p);
}

const struct sbx_module sbx_pid_module = {
	.name = "pid",
	.child = pid_child,
};
