/* Seccomp: a deny-list of kernel attack surface the payload has no use for.
 * Denied calls fail with EPERM (ENOSYS for clone3, so libc falls back to
 * clone, whose flags we can inspect) rather than killing the process:
 * runtimes probe for features and must keep running when told no.
 *
 * The policy is compiled to BPF once, when the spawner starts; the payload
 * only loads the ready program with prctl(), right before execve(). Any
 * other architecture (the 32-bit x86 entry points, x32) kills the process:
 * their syscall numbers would bypass the rules. */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <linux/seccomp.h>

#include "cleanup.h"
#include "sandbox.h"

/* Mounting, namespaces, tracing other processes, kernel keyrings, BPF,
 * perf, io_uring (its own syscall-less surface), module and kexec loading,
 * host-wide clocks and switches, handle-based opens that bypass path
 * permission checks, userfaultfd (race widening). */
static const char *const denied[] = {
	"mount", "umount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig",
	"fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
	"unshare", "setns",
	"ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "pidfd_getfd",
	"kcmp",
	"bpf", "perf_event_open", "userfaultfd", "fanotify_init",
	"keyctl", "add_key", "request_key",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"create_module", "get_kernel_syms", "query_module",
	"reboot", "swapon", "swapoff", "acct", "syslog", "lookup_dcookie", "quotactl",
	"quotactl_fd", "nfsservctl", "vhangup", "uselib", "_sysctl", "sysfs", "ustat",
	"settimeofday", "clock_settime", "clock_adjtime", "stime",
	"open_by_handle_at", "name_to_handle_at",
	"iopl", "ioperm", "vm86", "vm86old",
};

/* clone() flags that would create namespaces (a sandbox in the sandbox
 * gets capabilities again inside its new user namespace). */
static const unsigned long ns_flags[] = {
	CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC,
	CLONE_NEWUTS, CLONE_NEWCGROUP, 0x00000080 /* CLONE_NEWTIME */,
};

/* personality() flags that weaken the address space (ASLR off, executable
 * heap, page 0 mappable). Plain PER_LINUX / PER_LINUX32 and queries stay. */
static const unsigned long bad_personality[] = {
	ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, MMAP_PAGE_ZERO, ADDR_COMPAT_LAYOUT,
	ADDR_LIMIT_3GB,
};

static int build(scmp_filter_ctx *ret)
{
	scmp_filter_ctx c = seccomp_init(SCMP_ACT_ALLOW);
	if (!c)
		return -ENOMEM;
	int r = seccomp_attr_set(c, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r == 0)
		r = seccomp_attr_set(c, SCMP_FLTATR_CTL_NNP, 0);
	/* A binary tree keeps the per-syscall cost flat as the list grows. */
	if (r == 0)
		r = seccomp_attr_set(c, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (size_t i = 0; r == 0 && i < SBX_ARRAY_SIZE(denied); i++) {
		int nr = seccomp_syscall_resolve_name(denied[i]);
		if (nr < 0)
			continue; /* not on this architecture */
		r = seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	if (r == 0)
		r = seccomp_rule_add(c, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	for (size_t i = 0; r == 0 && i < SBX_ARRAY_SIZE(ns_flags); i++)
		r = seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
	/* Bit 31 is in the mask so the query value 0xffffffff never matches. */
	for (size_t i = 0; r == 0 && i < SBX_ARRAY_SIZE(bad_personality); i++)
		r = seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, bad_personality[i] | 0x80000000ul,
					     bad_personality[i]));
	if (r < 0) {
		seccomp_release(c);
		return r;
	}
	*ret = c;
	return 0;
}

int sbx_seccomp_build(struct sock_fprog *ret_prog)
{
	scmp_filter_ctx c;
	int r = build(&c);
	if (r < 0)
		return r;
	/* libseccomp 2.5 only exports to an fd: go through a memfd. */
	_cleanup_close_ int fd = memfd_create("sbx-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		r = -errno;
	else
		r = seccomp_export_bpf(c, fd);
	seccomp_release(c);
	if (r < 0)
		return r;
	off_t len = lseek(fd, 0, SEEK_END);
	if (len <= 0 || len % sizeof(struct sock_filter) || len > 65536)
		return -EINVAL;
	struct sock_filter *f = malloc((size_t)len);
	if (!f)
		return -ENOMEM;
	if (pread(fd, f, (size_t)len, 0) != len) {
		free(f);
		return -EIO;
	}
	ret_prog->filter = f;
	ret_prog->len = (unsigned short)(len / sizeof(struct sock_filter));
	return 0;
}

static int seccomp_init_module(struct sbx_ctx *ctx)
{
	return sbx_seccomp_build(&ctx->seccomp_prog);
}

static void seccomp_fini(struct sbx_ctx *ctx)
{
	free(ctx->seccomp_prog.filter);
	ctx->seccomp_prog.filter = NULL;
}

static int seccomp_exec(const struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	/* Last step before execve(): from here on nothing may need a denied
	 * call. no_new_privs was set by caps.c. */
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &ctx->seccomp_prog, 0, 0) < 0)
		return -errno;
	return 0;
}

const struct sbx_module sbx_seccomp_module = {
	.name = "seccomp",
	.init = seccomp_init_module,
	.fini = seccomp_fini,
	.exec = seccomp_exec,
};
