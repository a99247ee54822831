/* sbx-gvisor-compat.so: preloaded (the sandbox's /etc/ld.so.preload) into
 * every dynamically linked program the gvisor backend runs.
 *
 * Why: the gVisor of Debian bookworm (runsc 20221219) answers EINVAL to
 * statx() and newfstatat() called with AT_NO_AUTOMOUNT, a flag Linux has
 * accepted since 2.6.38 (and implies for fstatat since 4.11). coreutils 9
 * passes it on every stat: `ls`, `stat`, `du` failed with "Invalid
 * argument" in a gvisor sandbox. gVisor has no automount points, so the
 * flag means nothing there: these wrappers clear it and call the next
 * definition (glibc's). Nothing else changes; a statically linked program
 * still gets EINVAL.
 *
 * Built without sanitizers (it is loaded into programs that have none)
 * and with no dependency but libc. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#ifndef AT_NO_AUTOMOUNT
#define AT_NO_AUTOMOUNT 0x800
#endif

typedef int (*statx_fn)(int, const char *, int, unsigned int, struct statx *);
/* fstatat and fstatat64: the same arguments but for the struct's name. */
typedef int (*fstatat_fn)(int, const char *, void *, int);

/* Each wrapper resolves the next definition on every call: lock-free,
 * and cheap next to a system call that the Sentry serves. */
int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf)
{
	statx_fn next = (statx_fn)dlsym(RTLD_NEXT, "statx");

	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	return next(dirfd, path, flags & ~AT_NO_AUTOMOUNT, mask, buf);
}

static int next_fstatat(const char *name, int dirfd, const char *path, void *buf, int flags)
{
	fstatat_fn next = (fstatat_fn)dlsym(RTLD_NEXT, name);

	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	return next(dirfd, path, buf, flags & ~AT_NO_AUTOMOUNT);
}

int fstatat(int dirfd, const char *path, struct stat *buf, int flags)
{
	return next_fstatat("fstatat", dirfd, path, buf, flags);
}

int fstatat64(int dirfd, const char *path, struct stat64 *buf, int flags)
{
	return next_fstatat("fstatat64", dirfd, path, buf, flags);
}
