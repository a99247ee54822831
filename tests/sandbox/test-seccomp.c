/* The seccomp policy on its own: compiled, loaded into a forked child, and
 * probed syscall by syscall (EPERM / ENOSYS, and ordinary calls allowed),
 * here with real arguments; tests/security/try-syscall.c probes every rule
 * with arguments that tell the filter's answer from the kernel's. */
#include <errno.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>

#include "seccomp_policy.h"
#include "testlib.h"

/* A filter of its own, as a sandboxed program may load: allow all. */
static long own_filter(unsigned long flags)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = {1, &allow};
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

/* A socket of that family and protocol (closed again). */
static long sock(int family, int type, int protocol)
{
	long r = syscall(SYS_socket, family, type | SOCK_CLOEXEC, protocol);
	if (r >= 0)
		close((int)r);
	return r;
}

/* Each probe returns the errno the call failed with (0 = it worked). */
static int probe(int which)
{
	long r = 0;
	errno = 0;
	/* clang-format off */
	switch (which) {
	case 0: r = syscall(SYS_getpid); break;
	case 1: r = syscall(SYS_unshare, CLONE_NEWUSER); break;
	case 2: r = syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL); break;
	case 3: r = syscall(SYS_ptrace, 0 /* TRACEME */, 0, 0, 0); break;
	case 4: r = syscall(SYS_bpf, 0, NULL, 0); break;
	case 5: r = syscall(SYS_keyctl, 0, 0, 0, 0, 0); break;
	case 6: r = syscall(SYS_clone3, NULL, 0); break;
	case 7: r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0); break;
	case 8: r = syscall(SYS_setns, 0, 0); break;
	case 9: r = syscall(SYS_io_uring_setup, 1, NULL); break;
	case 10: r = syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0); break;
	case 11: r = syscall(SYS_personality, ADDR_NO_RANDOMIZE); break;
	case 12: r = syscall(SYS_personality, 0xffffffff); break;
	case 13: r = syscall(SYS_userfaultfd, 0); break;
	case 14: r = syscall(SYS_process_vm_readv, 1, NULL, 0, NULL, 0, 0); break;
	/* Normal seccomp use still works; a notification listener does not. */
	case 15: r = own_filter(0); break;
	case 16: r = own_filter(SECCOMP_FILTER_FLAG_TSYNC); break;
	case 17: r = own_filter(SECCOMP_FILTER_FLAG_NEW_LISTENER); break;
	case 18: r = sock(AF_INET, SOCK_STREAM, 0); break;
	case 19: r = sock(AF_INET6, SOCK_DGRAM, 0); break;
	case 20: r = sock(AF_UNIX, SOCK_SEQPACKET, 0); break;
	case 21: r = sock(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE); break;
	case 22: r = sock(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT); break;
	case 23: r = sock(AF_VSOCK, SOCK_STREAM, 0); break;
	case 24: r = sock(AF_PACKET, SOCK_RAW, 0); break;
	case 25: r = syscall(SYS_personality, 0x80000000 | ADDR_NO_RANDOMIZE); break;
	case 26: r = syscall(SYS_mbind, 0, 4096, 0 /* MPOL_DEFAULT */, NULL, 0, 0); break;
	}
	/* clang-format on */
	return r < 0 ? errno : 0;
}

int main(void)
{
	struct sock_fprog prog;
	int r = sbx_seccomp_build(&prog);
	CHECK_INT(r, 0);
	if (r < 0)
		TEST_DONE();
	CHECK(prog.len > 20);
	/* clang-format off */
	static const int want[] = {
		0,     EPERM, EPERM, EPERM, EPERM,           EPERM,        ENOSYS,       EPERM, EPERM,
		EPERM, EPERM, EPERM, 0,     EPERM,           EPERM,        0,            0,     EPERM,
		0,     0,     0,     0,     EPROTONOSUPPORT, EAFNOSUPPORT, EAFNOSUPPORT, EPERM, EPERM};
	/* clang-format on */
	enum { N = sizeof(want) / sizeof(want[0]) };
	int p[2];
	CHECK(pipe(p) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
			_exit(2);
		int got[N];
		for (int i = 0; i < N; i++)
			got[i] = probe(i);
		if (write(p[1], got, sizeof(got)) != sizeof(got))
			_exit(3);
		_exit(0);
	}
	close(p[1]);
	int got[N] = {0}, st = 0;
	CHECK(read(p[0], got, sizeof(got)) == sizeof(got));
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	for (int i = 0; i < N; i++)
		CHECKF(got[i] == want[i], "probe %d: errno %d, want %d", i, got[i], want[i]);
	free(prog.filter);
	TEST_DONE();
}
