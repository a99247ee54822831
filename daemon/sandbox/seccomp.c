/* Seccomp: a deny-list of kernel attack surface the payload has no use for,
 * plus three allowlists (socket families, netlink protocols, personality
 * values) where the kernel takes a selector and most selectors are surface.
 * Refused calls fail with an errno rather than killing the process:
 * runtimes probe for features and must keep running when told no. The
 * errno is the one a kernel without the feature would give, so callers take
 * their existing fallback (EAFNOSUPPORT for a socket family, ENOSYS for
 * clone3 so libc falls back to clone, whose flags we can inspect).
 *
 * The policy is compiled to BPF once, when the spawner starts; the payload
 * only loads the ready program with prctl(), right before execve(). Any
 * other architecture (the 32-bit x86 entry points, x32) kills the process:
 * their syscall numbers would bypass the rules.
 *
 * The kernel reads ioctl's request, personality's value and the clone and
 * seccomp flags as 32 bits: those rules mask the low 32 bits, so a value
 * with high bits set is still caught. The socket allowlists compare all 64
 * bits, so there such a value is refused.
 *
 * README's "The seccomp policy" compares this policy with Docker's,
 * flatpak's and sandbox2's; each rule has a probe in
 * tests/security/try-syscall.c. */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>

#include "cleanup.h"
#include "module.h"
#include "seccomp_policy.h"
#include "spawner_state.h"

/* clang-format off */
/* Refused with EPERM. Mounting, namespaces, tracing other processes, kernel
 * keyrings, BPF, perf, io_uring (its own syscall-less surface), module and
 * kexec loading, host-wide clocks and switches, handle-based opens that
 * bypass path permission checks, userfaultfd (race widening). */
static const char *const denied[] = {
	"mount", "umount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig",
	"fsmount", "fspick", "move_mount", "open_tree", "open_tree_attr", "mount_setattr",
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
	/* NUMA memory policy: pins and migrates pages across nodes, a source of
	 * kernel bugs (Docker and flatpak refuse them too); libnuma reads the
	 * refusal as "no NUMA" and allocates normally. */
	"mbind", "set_mempolicy", "get_mempolicy", "set_mempolicy_home_node",
	"migrate_pages", "move_pages",
	/* Per-process segment descriptors: only 16-bit and Wine code need them,
	 * and they have leaked kernel memory before (flatpak refuses it). */
	"modify_ldt",
};

/* Answered ENOSYS, as by a kernel without them, because callers probe for
 * these and fall back: clone3's flags sit in memory the filter cannot read
 * (glibc falls back to clone); memfd_secret takes pages out of the kernel's
 * direct map (fragmenting it slows the whole host) and nothing common needs
 * it. */
static const char *const absent[] = {
	"clone3", "memfd_secret",
};

/* Calls newer than the libseccomp we build with, which cannot name them:
 * their numbers, the same on x86-64 and arm64 (as for every call since
 * Linux 5.1). */
static const struct {
	const char *name;
	int nr;
} newer[] = {
#if (defined(__x86_64__) && !defined(__ILP32__)) || defined(__aarch64__)
	{"open_tree_attr", 467}, /* Linux 6.15: open_tree plus mount_setattr */
#endif
	{NULL, 0},
};

/* Refused (EPERM) when (argument & mask) == value. */
static const struct {
	const char *name;
	unsigned arg;
	scmp_datum_t mask, value;
} arg_rules[] = {
	/* clone() flags that would create namespaces (a sandbox in the sandbox
	 * gets capabilities again inside its new user namespace). */
	{"clone", 0, CLONE_NEWUSER, CLONE_NEWUSER},
	{"clone", 0, CLONE_NEWNS, CLONE_NEWNS},
	{"clone", 0, CLONE_NEWPID, CLONE_NEWPID},
	{"clone", 0, CLONE_NEWNET, CLONE_NEWNET},
	{"clone", 0, CLONE_NEWIPC, CLONE_NEWIPC},
	{"clone", 0, CLONE_NEWUTS, CLONE_NEWUTS},
	{"clone", 0, CLONE_NEWCGROUP, CLONE_NEWCGROUP},
	{"clone", 0, 0x00000080, 0x00000080}, /* CLONE_NEWTIME */
	/* tty requests that push input into another program's terminal
	 * (TIOCSTI: CVE-2017-5226; TIOCLINUX's paste on a virtual console:
	 * CVE-2023-28100) or swap the line discipline, whose rarely used
	 * drivers (n_hdlc, n_gsm) had use-after-frees reachable this way. The
	 * kernel reads the request as 32 bits. */
	{"ioctl", 1, 0xffffffff, TIOCSTI},
	{"ioctl", 1, 0xffffffff, TIOCLINUX},
	{"ioctl", 1, 0xffffffff, TIOCSETD},
	/* A seccomp user-notification listener lets the payload stall its own
	 * system calls in the kernel at will, widening race windows as
	 * userfaultfd does. Ordinary filters (flags 0, TSYNC, LOG) still load. */
	{"seccomp", 1, SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_FILTER_FLAG_NEW_LISTENER},
};

/* socket() and socketpair() families allowed; others get EAFNOSUPPORT, as
 * from a kernel built without them. The rest are hardware, legacy or
 * host-facing protocols (AF_VSOCK reaches the hypervisor, AF_PACKET and
 * AF_XDP raw devices, AF_ALG the kernel's crypto, AF_KEY IPsec keys...)
 * that no program in a loopback-only sandbox needs and whose code is a
 * steady source of kernel CVEs; some (AF_VSOCK) are not isolated by the
 * network namespace at all. Ascending. */
static const int socket_families[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};

/* AF_NETLINK protocols allowed; others get EPROTONOSUPPORT, as from a
 * kernel without them. NETLINK_ROUTE is what getifaddrs(), glibc's
 * getaddrinfo(AI_ADDRCONFIG), Python's if_nameindex and Node's
 * os.networkInterfaces() use. The rest configure the kernel (netfilter,
 * xfrm, generic netlink families, crypto) or watch the host (audit,
 * uevents, sock_diag): libaudit and libudev treat the refusal as "not
 * available". Ascending. */
static const int netlink_protocols[] = {NETLINK_ROUTE};

/* personality() values allowed (Docker's list): any combination of these
 * bits, and the query 0xffffffff. Everything else is refused: ASLR off,
 * executable heap, page 0 mappable, legacy layouts, emulated systems. The
 * kernel reads the value as 32 bits. */
static const unsigned long personality_bits = PER_LINUX32 | UNAME26;
/* clang-format on */

static int resolve(const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);
	for (size_t i = 0; nr == __NR_SCMP_ERROR && newer[i].name; i++)
		if (strcmp(newer[i].name, name) == 0)
			nr = newer[i].nr;
	return nr; /* negative: not on this architecture */
}

static int deny_all(scmp_filter_ctx c, const char *const *names, size_t n, int err)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		int nr = resolve(names[i]);
		if (nr >= 0)
			r = seccomp_rule_add(c, SCMP_ACT_ERRNO(err), nr, 0);
	}
	return r;
}

/* Refuse `nr` with `err` unless argument `arg` is one of allowed[]
 * (ascending): one rule per gap below the last allowed value, one for
 * everything above it. `also`, when given, must hold as well. */
static int deny_except(scmp_filter_ctx c, int nr, int err, unsigned arg, const int *allowed,
		       size_t n, const struct scmp_arg_cmp *also)
{
	struct scmp_arg_cmp cmp[2];
	unsigned ncmp = also ? 2 : 1;
	int r = 0;
	if (also)
		cmp[1] = *also;
	for (int v = 0, i = 0; r == 0 && (size_t)i < n; v++) {
		if (v == allowed[i]) {
			i++;
			continue;
		}
		cmp[0] = (struct scmp_arg_cmp){arg, SCMP_CMP_EQ, (scmp_datum_t)v, 0};
		r = seccomp_rule_add_array(c, SCMP_ACT_ERRNO(err), nr, ncmp, cmp);
	}
	cmp[0] = (struct scmp_arg_cmp){arg, SCMP_CMP_GE, (scmp_datum_t)allowed[n - 1] + 1, 0};
	return r ? r : seccomp_rule_add_array(c, SCMP_ACT_ERRNO(err), nr, ncmp, cmp);
}

static int deny_sockets(scmp_filter_ctx c)
{
	static const int calls[] = {SCMP_SYS(socket), SCMP_SYS(socketpair)};
	/* datum_b spelled out: the two-argument form leaves it to the
	 * compiler, which warns (-Wmissing-field-initializers). */
	const struct scmp_arg_cmp netlink = SCMP_A0(SCMP_CMP_EQ, AF_NETLINK, 0);
	int r = 0;
	for (size_t i = 0; r == 0 && i < SBX_ARRAY_SIZE(calls); i++) {
		r = deny_except(c, calls[i], EAFNOSUPPORT, 0, socket_families,
				SBX_ARRAY_SIZE(socket_families), NULL);
		if (r == 0)
			r = deny_except(c, calls[i], EPROTONOSUPPORT, 2, netlink_protocols,
					SBX_ARRAY_SIZE(netlink_protocols), &netlink);
	}
	return r;
}

/* Bit 31 decides: clear, only personality_bits may be set; set, every bit
 * must be (the query). Masked rules per bit, on the low 32 bits: a
 * bit-31-clear value with a bit outside personality_bits, and a bit-31-set
 * value with any bit clear (0x80040000 would turn ASLR off otherwise). */
static int deny_personalities(scmp_filter_ctx c)
{
	const scmp_datum_t top = 0x80000000ul;
	int r = 0;
	for (unsigned b = 0; r == 0 && b < 31; b++) {
		scmp_datum_t bit = 1ul << b;
		if (!(personality_bits & bit))
			r = seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
					     SCMP_A0(SCMP_CMP_MASKED_EQ, bit | top, bit));
		if (r == 0)
			r = seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
					     SCMP_A0(SCMP_CMP_MASKED_EQ, bit | top, top));
	}
	return r;
}

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
	if (r == 0)
		r = deny_all(c, denied, SBX_ARRAY_SIZE(denied), EPERM);
	if (r == 0)
		r = deny_all(c, absent, SBX_ARRAY_SIZE(absent), ENOSYS);
	for (size_t i = 0; r == 0 && i < SBX_ARRAY_SIZE(arg_rules); i++) {
		const struct scmp_arg_cmp cmp = {arg_rules[i].arg, SCMP_CMP_MASKED_EQ,
						 arg_rules[i].mask, arg_rules[i].value};
		r = seccomp_rule_add_array(c, SCMP_ACT_ERRNO(EPERM), resolve(arg_rules[i].name), 1,
					   &cmp);
	}
	if (r == 0)
		r = deny_sockets(c);
	if (r == 0)
		r = deny_personalities(c);
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
