/* sbx-try-syscall: one probe per seccomp rule (daemon/sandbox/seccomp.c),
 * after bubblewrap's tests/try-syscall.c. Each call gets a bad pointer, fd,
 * flag or type, so that the kernel itself, unfiltered, fails it with an
 * errno of its own (EFAULT, EINVAL, EBADF, ESRCH...) before doing anything,
 * while the filter answers first with its errno. Run as root outside the
 * sandbox it therefore shows the kernel's answer (the control: it must
 * differ, or the probe could not fail), and inside it shows the filter's.
 *
 * Prints one line per row: "name want got", errno numbers, want 0 for a
 * call the policy must let through (then the sandbox must answer as the
 * host does). test-kernel-surface.c runs it both ways and compares.
 *
 * Built static and without sanitizers: it runs in the sandbox from the
 * workspace, and must not itself make calls the policy refuses. */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef __NR_open_tree_attr
#define __NR_open_tree_attr 467
#endif

#define WP 1L			    /* a pointer that faults */
#define HI (1L << 32)		    /* bits the kernel drops from an int argument */
#define BADTYPE (SOCK_DGRAM | 0x10) /* socket type flags the kernel refuses first */

struct row {
	const char *name;
	int want; /* the filter's errno; 0: must pass */
	long nr;
	long a[6];
};

/* clang-format off */
static const struct row rows[] = {
	/* denied: EPERM. C: the kernel checks a capability first, so in the
	 * sandbox (no capabilities) it says EPERM itself and only the root
	 * control tells the rule apart: there the rule is defence in depth. */
	{"mount", EPERM, SYS_mount, {WP, WP, WP, 0, WP}},
	{"umount2", EPERM, SYS_umount2, {WP, 0x80000000}},
	{"pivot_root", EPERM, SYS_pivot_root, {WP, WP}}, /* C */
	{"chroot", EPERM, SYS_chroot, {WP}},
	{"fsopen", EPERM, SYS_fsopen, {WP, 0xffffffff}}, /* C */
	{"fsconfig", EPERM, SYS_fsconfig, {-1, 0xff}},
	{"fsmount", EPERM, SYS_fsmount, {-1, 0xffffffff}}, /* C */
	{"fspick", EPERM, SYS_fspick, {-1, WP, 0xffffffff}}, /* C */
	{"move_mount", EPERM, SYS_move_mount, {-1, WP, -1, WP, 0xffffffff}}, /* C */
	{"open_tree", EPERM, SYS_open_tree, {-1, WP, 0xffffffff}},
	{"open_tree_attr", EPERM, __NR_open_tree_attr, {-1, WP, 0xffffffff, WP, 0}},
	{"mount_setattr", EPERM, SYS_mount_setattr, {-1, WP, 0xffffffff, WP, 0}},
	{"unshare", EPERM, SYS_unshare, {0x1}},
	{"setns", EPERM, SYS_setns, {-1, 0}},
	{"ptrace", EPERM, SYS_ptrace, {2 /* PEEKDATA */, 0x7ffffffe}},
	{"process_vm_readv", EPERM, SYS_process_vm_readv, {0, 0, 0, 0, 0, 1}},
	{"process_vm_writev", EPERM, SYS_process_vm_writev, {0, 0, 0, 0, 0, 1}},
	{"process_madvise", EPERM, SYS_process_madvise, {-1, 0, 0, 0, 1}},
	{"pidfd_getfd", EPERM, SYS_pidfd_getfd, {-1, 0, 1}},
	{"kcmp", EPERM, SYS_kcmp, {0x7ffffffe, 0x7ffffffe}},
	{"bpf", EPERM, SYS_bpf, {0x7fff, 0, 0}},
	{"perf_event_open", EPERM, SYS_perf_event_open, {WP, 0, -1, -1, 0}},
	{"userfaultfd", EPERM, SYS_userfaultfd, {1 /* USER_MODE_ONLY */ | 0x10}},
	{"fanotify_init", EPERM, SYS_fanotify_init, {0x200 /* REPORT_FID */ | 0x80000000, 0}},
	{"keyctl", EPERM, SYS_keyctl, {0x7fff}},
	{"add_key", EPERM, SYS_add_key, {WP, WP, 0, 0, 0}},
	{"request_key", EPERM, SYS_request_key, {WP, WP, 0, 0}},
	{"io_uring_setup", EPERM, SYS_io_uring_setup, {0, WP}},
	{"io_uring_enter", EPERM, SYS_io_uring_enter, {-1}},
	{"io_uring_register", EPERM, SYS_io_uring_register, {-1}},
	{"kexec_load", EPERM, SYS_kexec_load, {0, 1000, WP, 0}},
	{"kexec_file_load", EPERM, SYS_kexec_file_load, {-1, -1, 0, WP, 0xffffffff}},
	{"init_module", EPERM, SYS_init_module, {WP, 0, WP}},
	{"finit_module", EPERM, SYS_finit_module, {-1, WP, 0xffffffff}},
	{"delete_module", EPERM, SYS_delete_module, {WP, 0}},
	{"reboot", EPERM, SYS_reboot, {0, 0, 0, 0}}, /* C; bad magic: EINVAL */
	{"swapon", EPERM, SYS_swapon, {WP, 0xffffffff}},
	{"swapoff", EPERM, SYS_swapoff, {WP}}, /* C */
	{"acct", EPERM, SYS_acct, {WP}}, /* C */
	{"syslog", EPERM, SYS_syslog, {3 /* READ_ALL */, 0, -1}}, /* C if dmesg_restrict */
	{"lookup_dcookie", EPERM, SYS_lookup_dcookie, {0, WP, 0}},
	{"quotactl", EPERM, SYS_quotactl, {0xffffffff, WP, 0, 0}},
	{"quotactl_fd", EPERM, SYS_quotactl_fd, {-1, 0xffffffff, 0, 0}},
	{"nfsservctl", EPERM, SYS_nfsservctl, {0}},
	{"vhangup", EPERM, SYS_vhangup, {0}}, /* C; no controlling tty: see main() */
	{"settimeofday", EPERM, SYS_settimeofday, {WP, 0}},
	{"clock_settime", EPERM, SYS_clock_settime, {0x7fffffff, WP}},
	{"clock_adjtime", EPERM, SYS_clock_adjtime, {0x7fffffff, WP}},
	{"open_by_handle_at", EPERM, SYS_open_by_handle_at, {-1, WP, 0}},
	{"name_to_handle_at", EPERM, SYS_name_to_handle_at, {-1, WP, WP, WP, 0xffffffff}},
	{"mbind", EPERM, SYS_mbind, {0, 0, 0xffff, 0, 0, 0xffffffff}},
	{"set_mempolicy", EPERM, SYS_set_mempolicy, {0xffff, 0, 0}},
	{"get_mempolicy", EPERM, SYS_get_mempolicy, {0, 0, 0, 0, 0xffffffff}},
	{"set_mempolicy_home_node", EPERM, SYS_set_mempolicy_home_node, {0, 0, 0, 1}},
	{"migrate_pages", EPERM, SYS_migrate_pages, {0x7ffffffe, 0, 0, 0}},
	{"move_pages", EPERM, SYS_move_pages, {0x7ffffffe, 1, WP, 0, WP, 0xffffffff}},
	/* calls only x86-64 has */
#if defined(__x86_64__)
	{"create_module", EPERM, SYS_create_module, {0}},
	{"get_kernel_syms", EPERM, SYS_get_kernel_syms, {0}},
	{"query_module", EPERM, SYS_query_module, {0}},
	{"uselib", EPERM, SYS_uselib, {WP}},
	{"_sysctl", EPERM, SYS__sysctl, {WP}},
	{"sysfs", EPERM, SYS_sysfs, {99}},
	{"ustat", EPERM, SYS_ustat, {0, WP}},
	{"iopl", EPERM, SYS_iopl, {4}},
	{"ioperm", EPERM, SYS_ioperm, {0, 0, 1}},
	{"modify_ldt", EPERM, SYS_modify_ldt, {1 /* write */, WP, 1}}, /* EINVAL as u32: "success" */
#endif
	/* absent: ENOSYS */
	{"clone3", ENOSYS, SYS_clone3, {WP, 88}},
	{"memfd_secret", ENOSYS, SYS_memfd_secret, {0xffffffff}},
	/* arguments: CLONE_THREAD without CLONE_SIGHAND makes the kernel say
	 * EINVAL before it creates anything */
	{"clone NEWUSER", EPERM, SYS_clone, {CLONE_NEWUSER | CLONE_THREAD}},
	{"clone NEWNS", EPERM, SYS_clone, {CLONE_NEWNS | CLONE_THREAD}},
	{"clone NEWPID", EPERM, SYS_clone, {CLONE_NEWPID | CLONE_THREAD}},
	{"clone NEWNET", EPERM, SYS_clone, {CLONE_NEWNET | CLONE_THREAD}},
	{"clone NEWIPC", EPERM, SYS_clone, {CLONE_NEWIPC | CLONE_THREAD}},
	{"clone NEWUTS", EPERM, SYS_clone, {CLONE_NEWUTS | CLONE_THREAD}},
	{"clone NEWCGROUP", EPERM, SYS_clone, {CLONE_NEWCGROUP | CLONE_THREAD}},
	{"clone NEWTIME", EPERM, SYS_clone, {0x80 | CLONE_THREAD}},
	{"clone NEWUSER high bits", EPERM, SYS_clone, {HI | CLONE_NEWUSER | CLONE_THREAD}},
	{"clone plain", 0, SYS_clone, {CLONE_THREAD}},
	{"ioctl TIOCSTI", EPERM, SYS_ioctl, {-1, TIOCSTI, WP}},
	{"ioctl TIOCSTI high bits", EPERM, SYS_ioctl, {-1, 0x123 * HI | TIOCSTI, WP}},
	{"ioctl TIOCLINUX", EPERM, SYS_ioctl, {-1, TIOCLINUX, WP}},
	{"ioctl TIOCLINUX high bits", EPERM, SYS_ioctl, {-1, HI | TIOCLINUX, WP}},
	{"ioctl TIOCSETD", EPERM, SYS_ioctl, {-1, TIOCSETD, WP}},
	{"ioctl TIOCSETD high bits", EPERM, SYS_ioctl, {-1, HI | TIOCSETD, WP}},
	{"ioctl TIOCGWINSZ", 0, SYS_ioctl, {-1, TIOCGWINSZ, WP}},
	{"seccomp NEW_LISTENER", EPERM, SYS_seccomp,
	 {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, WP}},
	{"seccomp NEW_LISTENER high bits", EPERM, SYS_seccomp,
	 {SECCOMP_SET_MODE_FILTER, HI | SECCOMP_FILTER_FLAG_NEW_LISTENER, WP}},
	{"seccomp filter", 0, SYS_seccomp, {SECCOMP_SET_MODE_FILTER, 0, WP}},
	{"seccomp filter TSYNC", 0, SYS_seccomp,
	 {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, WP}},
	/* personality: never fails in the kernel (main() restores it) */
	{"personality ADDR_NO_RANDOMIZE", EPERM, SYS_personality, {ADDR_NO_RANDOMIZE}},
	{"personality ADDR_NO_RANDOMIZE bit 31", EPERM, SYS_personality,
	 {0x80000000 | ADDR_NO_RANDOMIZE}},
	{"personality ADDR_NO_RANDOMIZE high bits", EPERM, SYS_personality,
	 {HI | ADDR_NO_RANDOMIZE}},
	{"personality READ_IMPLIES_EXEC", EPERM, SYS_personality, {READ_IMPLIES_EXEC}},
	{"personality MMAP_PAGE_ZERO", EPERM, SYS_personality, {MMAP_PAGE_ZERO}},
	{"personality ADDR_COMPAT_LAYOUT", EPERM, SYS_personality, {ADDR_COMPAT_LAYOUT}},
	{"personality ADDR_LIMIT_3GB", EPERM, SYS_personality, {ADDR_LIMIT_3GB}},
	{"personality PER_BSD", EPERM, SYS_personality, {PER_BSD}},
	{"personality 0x7fffffff", EPERM, SYS_personality, {0x7fffffff}},
	{"personality query", 0, SYS_personality, {0xffffffff}},
	{"personality PER_LINUX", 0, SYS_personality, {PER_LINUX}},
	{"personality PER_LINUX32|UNAME26", 0, SYS_personality, {PER_LINUX32 | UNAME26}},
	/* socket families: see families() for the rest */
	{"socket AF_INET high bits", EAFNOSUPPORT, SYS_socket, {HI | AF_INET, BADTYPE, 0}},
	{"socket AF_PACKET high bits", EAFNOSUPPORT, SYS_socket, {HI | AF_PACKET, BADTYPE, 0}},
	{"socket AF_NETLINK NETLINK_ROUTE", 0, SYS_socket, {AF_NETLINK, BADTYPE, NETLINK_ROUTE}},
	{"socket AF_NETLINK protocol high bits", EPROTONOSUPPORT, SYS_socket,
	 {AF_NETLINK, BADTYPE, HI | NETLINK_ROUTE}},
	{"socketpair AF_NETLINK NETLINK_GENERIC", EPROTONOSUPPORT, SYS_socketpair,
	 {AF_NETLINK, BADTYPE, NETLINK_GENERIC, WP}},
	/* allowed on purpose (README): the kernel answers both sides */
	{"getppid", 0, SYS_getppid, {0}},
	{"landlock_create_ruleset", 0, SYS_landlock_create_ruleset, {0, 0, 0xffffffff}},
	{"process_mrelease", 0, SYS_process_mrelease, {-1, 0}},
};
/* clang-format on */

static int try(const char *name, int want, long nr, const long *a)
{
	errno = 0;
	long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	int err = r < 0 ? errno : 0;
	if (nr == SYS_clone && r == 0)
		_exit(0); /* a child after all: the row reports it as success */
	if (nr == SYS_clone && r > 0)
		waitpid((pid_t)r, NULL, __WALL);
	printf("%s %d %d\n", name, want, err);
	return err;
}

/* One row per family and call: socket(2) and socketpair(2) with a type the
 * kernel refuses (EINVAL) before it looks at the family. Then every netlink
 * protocol the same way. */
static void families(void)
{
	static const int allowed[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};
	static const long calls[] = {SYS_socket, SYS_socketpair};
	char name[64];
	for (int c = 0; c < 2; c++)
		for (int f = 0; f < 64; f++) {
			int want = EAFNOSUPPORT;
			for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
				if (allowed[i] == f)
					want = 0;
			long a[6] = {f, BADTYPE, 0, WP};
			snprintf(name, sizeof(name), "%s family %d", c ? "socketpair" : "socket",
				 f);
			try(name, want, calls[c], a);
		}
	for (int p = 0; p < 32; p++) {
		long a[6] = {AF_NETLINK, BADTYPE, p};
		snprintf(name, sizeof(name), "socket netlink protocol %d", p);
		try(name, p == NETLINK_ROUTE ? 0 : EPROTONOSUPPORT, SYS_socket, a);
	}
}

int main(void)
{
	/* vhangup succeeds for root: without a controlling tty it does
	 * nothing. A fresh child is never a group leader, so setsid works. */
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid > 0) {
		int st = 0;
		waitpid(pid, &st, 0);
		return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	}
	if (setsid() < 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	long persona = syscall(SYS_personality, 0xffffffffL);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		try(rows[i].name, rows[i].want, rows[i].nr, rows[i].a);
		if (rows[i].nr == SYS_personality)
			syscall(SYS_personality, persona);
	}
	families();
	return 0;
}
