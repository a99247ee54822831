/* Disk volumes (volume.h): an ext4 image per object, loop-mounted. */
#include "volume.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"

/* Where mke2fs is looked for (e2fsprogs), whatever the daemon's PATH. */
static const char *const mkfs_paths[] = {"/usr/sbin/mke2fs", "/sbin/mke2fs", "/usr/bin/mke2fs"};

/* mke2fs, not ext4 written here: ~25 ms for any size (it writes about
 * 400 KB of metadata into the sparse file), and the one tool that knows
 * the format. The options:
 *  -b 4096: the loop device has 4 KiB blocks (direct I/O); mke2fs would
 *           pick 1 KiB for small images;
 *  -m 0:    no blocks reserved for root: the limit is the sandbox's;
 *  -J size=4: the smallest journal (a journal keeps the file system
 *           consistent across kill -9 and host crashes);
 *  -E lazy_*: no zeroing of inode tables and journal: a new sparse file
 *           reads as zeros already (mounted with noinit_itable, so the
 *           kernel does not zero them later either and the file stays
 *           sparse); nodiscard: nothing to discard in a new file. */
static const char *const mkfs_args[] = {
	"-q", "-F", "-t", "ext4",   "-b", "4096",
	"-m", "0",  "-J", "size=4", "-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard",
};

static const char *mkfs_path(void)
{
	for (size_t i = 0; i < SBX_ARRAY_SIZE(mkfs_paths); i++)
		if (access(mkfs_paths[i], X_OK) == 0)
			return mkfs_paths[i];
	return NULL;
}

int sbx_volume_private_ns(void)
{
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	/* Slave first: nothing of ours propagates back to the host (on
	 * systemd hosts / is shared, and the copy would be its peer). Then
	 * shared, in a peer group of our own: the spawner's namespace, made
	 * from ours (its copies slaves), sees the volumes we mount later. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_SHARED, NULL) < 0)
		return -errno;
	return 0;
}

static int try_volume(const char *dir, char *err, size_t errlen)
{
	char img[4096], mnt[4096];
	int r;

	snprintf(img, sizeof(img), "%s/.volume-probe.img", dir);
	snprintf(mnt, sizeof(mnt), "%s/.volume-probe", dir);
	/* What an earlier probe killed midway left. */
	while (sbx_volume_mounted(mnt) && sbx_volume_umount(mnt) == 0)
		;
	unlink(img);
	r = sbx_volume_create(img, SBX_VOLUME_MIN_MB);
	if (r < 0) {
		snprintf(err, errlen, "disk limits: mke2fs cannot make a volume in %s: %s", dir,
			 strerror(-r));
		return r;
	}
	if (mkdir(mnt, 0700) < 0 && errno != EEXIST)
		r = -errno;
	if (r == 0 && (r = sbx_volume_mount(img, mnt)) >= 0) {
		r = 0;
		sbx_volume_umount(mnt);
	}
	rmdir(mnt);
	unlink(img);
	if (r < 0)
		snprintf(err, errlen,
			 "disk limits: a volume cannot be attached to a loop device and mounted "
			 "(%s): "
			 "in a container, pass /dev/loop-control and allow the devices 'b 7:* rmw' "
			 "and 'c 10:237 rmw' (see docker-compose.yml); the kernel needs ext4",
			 strerror(-r));
	return r;
}

int sbx_volume_probe(const char *dir, char *err, size_t errlen)
{
	int fd = open("/dev/loop-control", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int r = -errno;

		snprintf(err, errlen,
			 "disk limits need loop devices, and /dev/loop-control cannot be opened "
			 "(%s): "
			 "load the loop module (modprobe loop), or in a container add the device "
			 "rules 'c 10:237 rwm' and 'b 7:* rwm' and /dev/loop-control "
			 "(see docker-compose.yml)",
			 strerror(-r));
		return r;
	}
	close(fd);
	if (!mkfs_path()) {
		snprintf(err, errlen,
			 "disk limits need mke2fs, which is not installed: apt-get install "
			 "e2fsprogs");
		return -ENOENT;
	}
	return dir ? try_volume(dir, err, errlen) : 0;
}

static int run_mkfs(const char *img)
{
	const char *argv[SBX_ARRAY_SIZE(mkfs_args) + 3];
	char *envp[] = {(char *)"PATH=/usr/sbin:/sbin:/usr/bin:/bin", NULL};
	posix_spawn_file_actions_t fa;
	const char *path = mkfs_path();
	size_t n = 0;
	pid_t pid;
	int r, st;

	if (!path)
		return -ENOENT;
	argv[n++] = path;
	for (size_t i = 0; i < SBX_ARRAY_SIZE(mkfs_args); i++)
		argv[n++] = mkfs_args[i];
	argv[n++] = img;
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	r = -posix_spawn(&pid, path, &fa, NULL, (char *const *)argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (r < 0)
		return r;
	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

int sbx_volume_create(const char *img, uint32_t size_mb)
{
	int fd, r = 0;

	if (size_mb < SBX_VOLUME_MIN_MB)
		return -EINVAL;
	fd = open(img, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size_mb << 20) < 0)
		r = -errno;
	close(fd);
	if (r == 0)
		r = run_mkfs(img);
	/* mke2fs writes a few hundred KB: it fails when the host disk is
	 * full, which the caller reports as such. */
	if (r == -EIO) {
		uint64_t avail;

		if (sbx_volume_host_free(img, &avail) == 0 && avail < (1u << 20))
			r = -ENOSPC;
	}
	if (r < 0)
		unlink(img);
	return r;
}

bool sbx_volume_mounted(const char *dir)
{
	char parent[4200];
	struct stat a, b;

	snprintf(parent, sizeof(parent), "%s/..", dir);
	return stat(dir, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
}

int sbx_volume_umount(const char *dir)
{
	return umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 ? -errno : 0;
}

int sbx_volume_mount(const char *img, const char *dir)
{
	_cleanup_close_ int img_fd = -1, loop_fd = -1;
	char dev[32];
	int n, r;

	/* A mount left by a previous daemon that shared the host's
	 * namespace (docker backend): ours replaces it. */
	while (sbx_volume_mounted(dir) && sbx_volume_umount(dir) == 0)
		;
	r = sbx_loop_find(img, &loop_fd, &n);
	if (r == -ENOENT) {
		img_fd = open(img, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (img_fd < 0)
			return -errno;
		r = sbx_loop_attach(img_fd, img, &loop_fd, &n);
	}
	if (r < 0)
		return r;
	/* loop_fd, held open until the mount holds the device, keeps it from
	 * being cleared and given to another image meanwhile. */
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	/* discard: what the sandbox deletes is punched out of the sparse
	 * image, so the host's disk holds what volumes hold now, not their
	 * high-water mark (measured: rm of 200 MB and 2000 files plus sync,
	 * ~170 ms without, ~200 ms with; the image back from 215 MB to
	 * 2.5 MB). */
	if (mount(dev, dir, "ext4", MS_NOSUID | MS_NODEV | MS_NOATIME, "noinit_itable,discard") < 0)
		return -errno;
	return img_fd < 0 ? 1 : 0;
}

int sbx_volume_usage(const char *img, const char *dir, struct sbx_volume_usage *ret)
{
	struct statvfs sv;
	struct stat st;
	uint64_t avail;

	if (stat(img, &st) < 0 || statvfs(dir, &sv) < 0)
		return -errno;
	if (!sbx_volume_mounted(dir))
		return -ENOTCONN;
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	ret->limit = (uint64_t)st.st_size;
	ret->used = avail < ret->limit ? ret->limit - avail : 0;
	ret->inodes = sv.f_files;
	ret->inodes_used = sv.f_files - sv.f_ffree;
	return 0;
}

int sbx_volume_host_free(const char *path, uint64_t *ret)
{
	struct statvfs sv;

	if (statvfs(path, &sv) < 0)
		return -errno;
	*ret = (uint64_t)sv.f_bavail * sv.f_frsize;
	return 0;
}
