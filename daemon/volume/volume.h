/* Disk volumes: the hard size limit of an object's files (a sandbox's or
 * deployment's workspace, a session's workspace and /tmp). Each volume is
 * a sparse image file holding its own ext4, attached to a loop device and
 * mounted nosuid,nodev; writes past its size fail inside the sandbox with
 * ENOSPC, and its inode count is bounded too. It works on any host file
 * system (ext4, xfs: no quota mount option needed).
 *
 * Mounts are made in the calling process's mount namespace. sandboxd
 * enters a private one first (sbx_volume_private_ns), so that every mount
 * dies with the daemon, kill -9 included; each loop device is attached
 * with autoclear, so it goes with its last mount.
 *
 * All functions return 0 or a negative errno; none logs. */
#ifndef SBX_VOLUME_H
#define SBX_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Smallest volume: ext4's journal alone takes 4 MB. */
#define SBX_VOLUME_MIN_MB 16

/* Leave the host's mount namespace for one of our own, whose mounts
 * still receive the host's (slave) and propagate to namespaces made from
 * it later (shared: the spawner's, whose copies are slaves). Call in a
 * single-threaded process (unshare(CLONE_NEWNS) fails otherwise), before
 * forking the spawner. */
int sbx_volume_private_ns(void);

/* Whether volumes can be made here: /dev/loop-control answers, mke2fs
 * (e2fsprogs) is installed and, when dir is not NULL, a smallest volume
 * can be made in dir, attached and mounted (then removed): so that a
 * container without the device rules, or a kernel without ext4, is found
 * at start, not at the first create. On failure, err holds a sentence
 * naming what is missing. */
int sbx_volume_probe(const char *dir, char *err, size_t errlen);

/* Create the image file `img` (new: -EEXIST otherwise) of size_mb MiB,
 * sparse, with an ext4 file system in it (mke2fs). Nothing is left behind
 * on failure. */
int sbx_volume_create(const char *img, uint32_t size_mb);

/* Mount the file system of `img` on the directory `dir` (nosuid, nodev),
 * through the loop device that already backs img if there is one (a
 * previous daemon's mount still held by a dying sandbox: attaching the
 * file twice would corrupt it), else through a free one, attached with
 * autoclear and direct I/O. Whatever was mounted on dir is detached
 * first. 0, or 1 when an existing loop device was used. */
int sbx_volume_mount(const char *img, const char *dir);

/* Detach the mount on dir (lazily: sandboxes still running keep their
 * copy until they end; the loop device goes with the last one). -EINVAL
 * when nothing is mounted there. */
int sbx_volume_umount(const char *dir);

/* Whether dir is a mount point (its device differs from its parent's). */
bool sbx_volume_mounted(const char *dir);

struct sbx_volume_usage {
	uint64_t limit; /* bytes: the image's size */
	/* Bytes no longer available to the sandbox: its files and the file
	 * system's own share (journal, inode tables), so that used reaches
	 * limit when writes start to fail. */
	uint64_t used;
	uint64_t inodes, inodes_used;
};

/* The usage of the volume of image img mounted on dir. */
int sbx_volume_usage(const char *img, const char *dir, struct sbx_volume_usage *ret);

/* Free bytes of the file system holding path, for unprivileged use. */
int sbx_volume_host_free(const char *path, uint64_t *ret);

/* ---- loop devices (loop.c) ---- */

/* Open the loop device that backs the file img (same device and inode),
 * with O_RDWR (held open, it cannot be cleared and reused meanwhile).
 * The device's number in *ret_n. -ENOENT when none does. */
int sbx_loop_find(const char *img, int *ret_fd, int *ret_n);

/* Attach the open file img_fd (named img, for losetup -l) to a free loop
 * device with LOOP_CONFIGURE: autoclear, 4 KiB blocks, direct I/O where
 * the host file system allows it. Where /dev lacks the node of the device
 * the kernel gave (a container's /dev), it is created. Returns the open
 * device, its number in *ret_n. */
int sbx_loop_attach(int img_fd, const char *img, int *ret_fd, int *ret_n);

#endif
