/* Disk volumes (daemon/volume/): create an image, mount it, fill it (ENOSPC
 * at its size, not before), usage figures, unmount (the loop device goes
 * with it), mount again (files kept), and a mount through the loop device
 * that already backs the image instead of a second one. Runs in a mount
 * namespace of its own, so nothing it mounts can outlive it. Needs root
 * and loop devices: skips otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "testlib.h"
#include "volume.h"

static char img[512], vol[512];

/* Write up to `mb` MiB of zeros to path; how many bytes went in, and the
 * errno that stopped it (0: all written). */
static long long fill(const char *path, unsigned mb, int *ret_errno)
{
	static char buf[1 << 20];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	long long total = 0;

	*ret_errno = 0;
	if (fd < 0) {
		*ret_errno = errno;
		return 0;
	}
	for (unsigned i = 0; i < mb; i++) {
		ssize_t n = write(fd, buf, sizeof(buf));

		if (n < 0) {
			*ret_errno = errno;
			break;
		}
		total += n;
		if (n < (ssize_t)sizeof(buf)) {
			*ret_errno = ENOSPC;
			break;
		}
	}
	if (fsync(fd) < 0 && !*ret_errno)
		*ret_errno = errno;
	close(fd);
	return total;
}

/* The loop device backing img, or -1 (after up to ~2 s: autoclear runs
 * when the last mount is gone). */
static int backing_loop(bool want_none)
{
	for (int i = 0; i < 200; i++) {
		int fd, n;

		if (sbx_loop_find(img, &fd, &n) < 0) {
			if (want_none)
				return -1;
		} else {
			close(fd);
			if (!want_none)
				return n;
		}
		usleep(10 * 1000);
	}
	return want_none ? 0 : -1;
}

static void test_create(void)
{
	CHECK_INT(sbx_volume_create(img, 8), -EINVAL); /* below SBX_VOLUME_MIN_MB */
	CHECK(access(img, F_OK) < 0);
	CHECK_INT(sbx_volume_create(img, 24), 0);
	CHECK_INT(sbx_volume_create(img, 24), -EEXIST);
	struct stat st;
	CHECK(stat(img, &st) == 0 && st.st_size == 24ll << 20);
	/* Sparse: mke2fs wrote its metadata only. */
	CHECK(stat(img, &st) == 0 && st.st_blocks * 512 < 4ll << 20);
}

static void test_mount_fill(void)
{
	struct sbx_volume_usage u;
	char f[600];
	int err;

	CHECK(!sbx_volume_mounted(vol));
	CHECK_INT(sbx_volume_mount(img, vol), 0);
	CHECK(sbx_volume_mounted(vol));
	CHECK(backing_loop(false) >= 0);
	CHECK_INT(sbx_volume_usage(img, vol, &u), 0);
	CHECK(u.limit == 24ull << 20);
	/* The journal (4 MB) and metadata count as used, the rest is free. */
	CHECK(u.used > 0 && u.used < 8ull << 20);
	CHECK(u.inodes > 1000 && u.inodes_used < 20);

	snprintf(f, sizeof(f), "%s/big", vol);
	long long n = fill(f, 40, &err);
	CHECKF(err == ENOSPC, "errno %d (%s)", err, strerror(err));
	CHECKF(n > 12ll << 20 && n < 24ll << 20, "wrote %lld bytes", n);
	CHECK_INT(sbx_volume_usage(img, vol, &u), 0);
	CHECKF(u.used > u.limit - (1ull << 20), "used %llu of %llu", (unsigned long long)u.used,
	       (unsigned long long)u.limit);
	/* The image never grows past its size on the host. */
	struct stat st;
	CHECK(stat(img, &st) == 0 && st.st_size == 24ll << 20);
	unlink(f);
	/* Mounted with discard: the deleted blocks leave the image (at the
	 * journal's commit, which sync forces). */
	sync();
	for (int i = 0; i < 100 && stat(img, &st) == 0 && st.st_blocks * 512 > 8ll << 20; i++)
		usleep(20 * 1000);
	CHECKF(st.st_blocks * 512 <= 8ll << 20, "the image holds %lld bytes after the delete",
	       (long long)st.st_blocks * 512);
	snprintf(f, sizeof(f), "%s/keep", vol);
	CHECK(fill(f, 1, &err) == 1 << 20 && err == 0);
}

static void test_umount_remount(void)
{
	char f[600];
	struct stat st;

	CHECK_INT(sbx_volume_umount(vol), 0);
	CHECK(!sbx_volume_mounted(vol));
	CHECK_INT(sbx_volume_umount(vol), -EINVAL);
	/* Autoclear: the loop device went with the mount. */
	CHECK_INT(backing_loop(true), -1);
	CHECK_INT(sbx_volume_mount(img, vol), 0);
	snprintf(f, sizeof(f), "%s/keep", vol);
	CHECK(stat(f, &st) == 0 && st.st_size == 1 << 20);
	/* Mounting again over a mount replaces it (a mount left in a shared
	 * namespace by a killed daemon); the device may be the one still
	 * being released (1) or a new one (0). */
	CHECK(sbx_volume_mount(img, vol) >= 0);
	CHECK(stat(f, &st) == 0);
	CHECK_INT(sbx_volume_umount(vol), 0);
	CHECK(!sbx_volume_mounted(vol));
	CHECK_INT(backing_loop(true), -1);
}

/* A loop device already backs the image (a previous daemon's mount held
 * by a sandbox still ending): the mount goes through it, never a second
 * device on the same file. */
static void test_reuse(void)
{
	int img_fd = open(img, O_RDWR | O_CLOEXEC), held, n = -1, fd2, n2 = -2;
	struct stat st;

	CHECK(img_fd >= 0);
	CHECK_INT(sbx_loop_attach(img_fd, img, &held, &n), 0);
	close(img_fd);
	CHECK_INT(sbx_loop_find(img, &fd2, &n2), 0);
	CHECK_INT(n2, n);
	close(fd2);
	CHECK_INT(sbx_volume_mount(img, vol), 1);
	CHECK(stat(vol, &st) == 0);
	char dev[32];
	struct stat ds;
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	CHECKF(stat(dev, &ds) == 0 && ds.st_rdev == st.st_dev, "mounted %u:%u, held loop%d",
	       major(st.st_dev), minor(st.st_dev), n);
	/* Still one device for the file. */
	close(held);
	CHECK_INT(backing_loop(false), n);
	CHECK_INT(sbx_volume_umount(vol), 0);
	CHECK_INT(backing_loop(true), -1);
}

int main(void)
{
	char err[512], *dir;

	if (geteuid() != 0)
		SKIP("needs root (loop devices, mount)");
	if (sbx_volume_probe(NULL, err, sizeof(err)) < 0)
		SKIP("%s", err);
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		SKIP("no mount namespace: %s", strerror(errno));
	dir = tl_tmpdir("sbx-volume");
	/* The full probe makes, mounts and removes a volume, leaving nothing. */
	CHECKF(sbx_volume_probe(dir, err, sizeof(err)) == 0, "%s", err);
	CHECK(rmdir(dir) == 0 && mkdir(dir, 0700) == 0);
	snprintf(img, sizeof(img), "%s/disk.img", dir);
	snprintf(vol, sizeof(vol), "%s/vol", dir);
	CHECK(mkdir(vol, 0755) == 0);

	test_create();
	test_mount_fill();
	test_umount_remount();
	test_reuse();

	unlink(img);
	rmdir(vol);
	rmdir(dir);
	free(dir);
	TEST_DONE();
}
