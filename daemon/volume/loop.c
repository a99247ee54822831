/* Loop devices for volumes (volume.h): find the one backing an image,
 * or attach the image to a free one. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "volume.h"

#define LOOP_MAJOR 7
/* Free devices taken by somebody else between LOOP_CTL_GET_FREE and our
 * LOOP_CONFIGURE (EBUSY): how often to ask again. */
#define ATTACH_TRIES 64

/* The device number of loopN from sysfs ("7:N"; N << part_shift when the
 * loop module was loaded with partitions), else 7:N. */
static dev_t loop_devnum(int n)
{
	char path[64], buf[32];
	unsigned maj, min;
	ssize_t len;
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "/sys/block/loop%d/dev", n);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && (len = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[len] = 0;
		if (sscanf(buf, "%u:%u", &maj, &min) == 2)
			return makedev(maj, min);
	}
	return makedev(LOOP_MAJOR, (unsigned)n);
}

/* Open /dev/loopN read-write. A container's /dev is a snapshot without
 * the devices LOOP_CTL_GET_FREE creates later: make the node then (needs
 * CAP_MKNOD and the device cgroup's "b 7:* rwm"). */
static int loop_open(int n, int *ret_fd)
{
	char path[32];
	int fd;

	snprintf(path, sizeof(path), "/dev/loop%d", n);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (mknod(path, S_IFBLK | 0600, loop_devnum(n)) < 0 && errno != EEXIST)
			return -errno;
		fd = open(path, O_RDWR | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

/* Whether the loop device open as fd is backed by the file st. */
static bool backs(int fd, const struct stat *st)
{
	struct loop_info64 info;

	return ioctl(fd, LOOP_GET_STATUS64, &info) == 0 && info.lo_device == (uint64_t)st->st_dev &&
	       info.lo_inode == (uint64_t)st->st_ino;
}

/* sysfs names each bound device's backing file: a cheap filter before
 * the exact check (device and inode), which needs the device open. */
static bool sysfs_names(const char *dev, const char *img)
{
	char path[300], buf[4200];
	_cleanup_close_ int fd = -1;
	ssize_t len;

	snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file", dev);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false; /* not bound, or no sysfs: the exact check is skipped */
	len = read(fd, buf, sizeof(buf) - 1);
	if (len <= 0)
		return false;
	buf[len] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return strcmp(buf, img) == 0;
}

int sbx_loop_find(const char *img, int *ret_fd, int *ret_n)
{
	_cleanup_free_ char *real = realpath(img, NULL);
	struct dirent *e;
	struct stat st;
	DIR *d;
	int r = -ENOENT;

	if (!real || stat(real, &st) < 0)
		return -errno;
	d = opendir("/sys/block");
	if (!d)
		return -ENOENT;
	while (r == -ENOENT && (e = readdir(d))) {
		char *end;
		long n;
		int fd;

		if (strncmp(e->d_name, "loop", 4) != 0)
			continue;
		n = strtol(e->d_name + 4, &end, 10);
		if (*end || end == e->d_name + 4 || n < 0 || !sysfs_names(e->d_name, real))
			continue;
		/* Cleared meanwhile (ENXIO): not ours any more. */
		if (loop_open((int)n, &fd) < 0)
			continue;
		if (backs(fd, &st)) {
			*ret_fd = fd;
			*ret_n = (int)n;
			r = 0;
		} else {
			close(fd);
		}
	}
	closedir(d);
	return r;
}

int sbx_loop_attach(int img_fd, const char *img, int *ret_fd, int *ret_n)
{
	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	struct loop_config c = {
		.fd = (uint32_t)img_fd,
		.block_size = 4096,
		.info.lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO,
	};
	int r = -EBUSY;

	if (ctl < 0)
		return -errno;
	snprintf((char *)c.info.lo_file_name, sizeof(c.info.lo_file_name), "%s", img);
	for (int i = 0; i < ATTACH_TRIES && r == -EBUSY; i++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE), fd;

		if (n < 0)
			return -errno;
		r = loop_open(n, &fd);
		if (r < 0)
			return r;
		r = ioctl(fd, LOOP_CONFIGURE, &c) == 0 ? 0 : -errno;
		/* A host file system without O_DIRECT (tmpfs, some overlays):
		 * buffered, at the cost of caching the data twice. */
		if (r == -EINVAL && (c.info.lo_flags & LO_FLAGS_DIRECT_IO)) {
			c.info.lo_flags &= ~LO_FLAGS_DIRECT_IO;
			r = ioctl(fd, LOOP_CONFIGURE, &c) == 0 ? 0 : -errno;
		}
		if (r == 0) {
			*ret_fd = fd;
			*ret_n = n;
			return 0;
		}
		close(fd);
	}
	return r;
}
