#include "files_out.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "envelope.h"
#include "files.h"
#include "json_pb.h"
#include "objects.h"

int sbx_files_open_beneath(int dirfd, const char *path, int flags)
{
	/* O_NONBLOCK: a FIFO opens at once (and is then refused by its
	 * type), and a file a sandbox process holds a write lease on fails
	 * with EWOULDBLOCK instead of stalling this thread for the lease
	 * break time. O_NOCTTY: a terminal never becomes ours. Device nodes
	 * cannot be there at all: mknod needs CAP_MKNOD in the host's user
	 * namespace, which no sandbox has, and volumes are mounted nodev. */
	struct open_how how = {
		.flags = (uint64_t)(flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_XDEV,
	};
	long fd;

	/* "" names dirfd itself: openat2 wants "." for that. */
	do
		fd = syscall(SYS_openat2, dirfd, path && *path ? path : ".", &how, sizeof(how));
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : (int)fd;
}

static const char *type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:
		return "file";
	case S_IFDIR:
		return "directory";
	case S_IFLNK:
		return "symlink";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "socket";
	case S_IFCHR:
		return "char_device";
	case S_IFBLK:
		return "block_device";
	default:
		return "unknown";
	}
}

static char *mtime_of(const struct stat *st)
{
	int64_t ms = (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;

	return sbx_iso8601(ms < 0 ? 0 : ms);
}

/* The workspace's dir fd; a workspace that is not there (its volume could
 * not be mounted at start-up) is the object's state, not the caller's
 * mistake. */
static int open_workspace(const char *workspace, struct sbx_rpc_call *call)
{
	int fd = workspace ? open(workspace, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;

	if (fd < 0)
		return sbx_rpc_error(call, -EBUSY,
				     "the workspace is not available (its volume is not mounted)");
	return fd;
}

/* The sentence of an openat2 failure on `path` (quoted as the caller's). */
static int open_error(struct sbx_rpc_call *call, int r, const char *path)
{
	switch (r) {
	case -ENOENT:
	case -ENOTDIR:
		return sbx_rpc_error(call, -ENOENT, "'%.256s' not found in the workspace", path);
	case -ELOOP:
		return sbx_rpc_error(call, -EINVAL,
				     "'%.256s' is a symbolic link or goes through one: links in a "
				     "workspace are never followed",
				     path);
	case -EXDEV:
		return sbx_rpc_error(call, -EINVAL, "'%.256s' crosses a mount point", path);
	case -ENXIO:
	case -EACCES:
	case -EPERM:
		return sbx_rpc_error(call, -EINVAL, "'%.256s' is not a regular file", path);
	case -EAGAIN:
		return sbx_rpc_error(call, -EBUSY,
				     "'%.256s' is locked (leased) by a process of the sandbox; "
				     "try again when it ends",
				     path);
	case -ENOSYS:
		return sbx_rpc_error(call, -ENOSYS,
				     "reading workspace files needs openat2 (Linux 5.6 or later)");
	default:
		return r;
	}
}

static int check_path(struct sbx_rpc_call *call, const char *path, bool empty_ok)
{
	const char *why = empty_ok && !*path ? NULL : sbx_files_path_problem(path);

	if (why)
		return sbx_rpc_error(call, -EINVAL,
				     "path '%.256s' %s: paths are relative to the workspace, "
				     "without '..'",
				     path, why);
	return 0;
}

/* ---- listing ---- */

/* Bytes of names a walk holds at once (each open level keeps its sorted
 * names while a subdirectory is walked): a bound of its own, as 64 levels
 * of max_entries names would be far more than one listing needs. */
#define NAMES_BYTES_MAX (4u << 20)

struct lister {
	Sbx__ListFilesReply *r;
	size_t cap;
	size_t names_bytes; /* held by the open levels, at most NAMES_BYTES_MAX */
	uint32_t max_depth, max_entries;
	char path[SBX_FILE_PATH_MAX + 1];
};

static void truncate_note(struct lister *l, const char *fmt, unsigned n)
{
	char buf[160];

	l->r->truncated = true;
	/* The first bound met is the one reported; until then note is
	 * protobuf-c's static "". */
	if (*l->r->note)
		return;
	snprintf(buf, sizeof(buf), fmt, n);
	l->r->note = strdup(buf) ?: (char *)protobuf_c_empty_string;
}

static int add_entry(struct lister *l, int dfd, const char *name, const struct stat *st)
{
	Sbx__FileInfo *f;
	char target[SBX_FILES_TARGET_MAX + 1];

	if (l->r->n_files == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *p = realloc(l->r->files, cap * sizeof(*l->r->files));

		if (!p)
			return -ENOMEM;
		l->r->files = p;
		l->cap = cap;
	}
	f = (Sbx__FileInfo *)sbx_message_new(&sbx__file_info__descriptor);
	if (!f)
		return -ENOMEM;
	l->r->files[l->r->n_files++] = f;
	f->path = strdup(l->path);
	f->type = strdup(type_name(st->st_mode));
	f->size = (uint64_t)st->st_size;
	f->mode = st->st_mode & 07777;
	f->modified_at = mtime_of(st);
	if (S_ISLNK(st->st_mode)) {
		/* The link's own text, read from the directory we hold: it
		 * is shown, never resolved. */
		ssize_t n = readlinkat(dfd, name, target, SBX_FILES_TARGET_MAX);

		target[n < 0 ? 0 : n] = 0;
		if (!jpb_utf8_valid(target, strlen(target)))
			target[0] = 0;
		f->target = strdup(target);
		if (!f->target)
			return -ENOMEM;
	}
	return f->path && f->type && f->modified_at ? 0 : -ENOMEM;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Why a directory was listed in part. */
enum cut { CUT_NONE, CUT_ENTRIES, CUT_NAME_BYTES };

/* The names of directory dfd (not consumed), sorted: at most `max`, and
 * no more bytes than l's budget has left (*cut says which stopped it). */
static int read_names(struct lister *l, int dfd, size_t max, char ***ret, size_t *ret_n,
		      enum cut *cut)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int r = 0;

	if (!d) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		return r;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name) + 1;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n == max || l->names_bytes + len > NAMES_BYTES_MAX) {
			*cut = n == max ? CUT_ENTRIES : CUT_NAME_BYTES;
			break;
		}
		if (n == cap) {
			void *p = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!p) {
				r = -ENOMEM;
				break;
			}
			v = p;
		}
		if (!(v[n] = strdup(e->d_name))) {
			r = -ENOMEM;
			break;
		}
		l->names_bytes += len;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), name_cmp);
	*ret = v;
	*ret_n = n;
	return r;
}

static void free_names(struct lister *l, char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		l->names_bytes -= strlen(v[i]) + 1;
		free(v[i]);
	}
	free(v);
}

static int list_dir(struct lister *l, int dfd, size_t plen, uint32_t depth);

/* One name of directory dfd: listed, and entered when a directory. */
static int list_one(struct lister *l, int dfd, const char *name, size_t plen, uint32_t depth)
{
	size_t len = strlen(name), at = plen ? plen + 1 : 0;
	struct stat st;
	int r, sub;

	/* Gone meanwhile (the sandbox runs on): not there to list. */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	/* A name a download could not ask for is left out, and counted. */
	if (at + len > SBX_FILE_PATH_MAX || !jpb_utf8_valid(name, len)) {
		l->r->skipped++;
		return 0;
	}
	if (plen)
		l->path[plen] = '/';
	memcpy(l->path + at, name, len + 1);
	r = add_entry(l, dfd, name, &st);
	if (r < 0 || !S_ISDIR(st.st_mode))
		return r;
	if (depth + 1 >= l->max_depth) {
		truncate_note(l, "directories %u levels down are listed but not entered",
			      l->max_depth);
		return 0;
	}
	/* Opened the same way as a download: swapped for a link since the
	 * fstatat, or a mount point, it is not entered. */
	sub = sbx_files_open_beneath(dfd, name, O_RDONLY | O_DIRECTORY);
	if (sub < 0)
		return 0;
	r = list_dir(l, sub, at + len, depth + 1);
	close(sub);
	return r;
}

static int list_dir(struct lister *l, int dfd, size_t plen, uint32_t depth)
{
	size_t left = l->max_entries - l->r->n_files, n = 0;
	enum cut cut = CUT_NONE;
	char **names = NULL;
	int r = read_names(l, dfd, left, &names, &n, &cut);

	for (size_t i = 0; r == 0 && i < n; i++) {
		if (l->r->n_files >= l->max_entries) {
			cut = CUT_ENTRIES;
			break;
		}
		r = list_one(l, dfd, names[i], plen, depth);
	}
	/* Names were left out once the room for entries was used up (when
	 * some of those read were skipped, the count ends a little short). */
	if (r == 0 && cut == CUT_ENTRIES)
		truncate_note(l, "the listing stops at %u entries (FILES_LIST_MAX_ENTRIES)",
			      l->max_entries);
	else if (r == 0 && cut == CUT_NAME_BYTES)
		truncate_note(l, "directories with more than %u MiB of names are listed in part",
			      NAMES_BYTES_MAX >> 20);
	free_names(l, names, n);
	l->path[plen] = 0;
	return r;
}

int sbx_files_list(const char *workspace, const char *dir, uint32_t max_depth, uint32_t max_entries,
		   struct sbx_rpc_call *call, Sbx__ListFilesReply **ret)
{
	struct lister l = {
		.max_depth = max_depth && max_depth <= SBX_FILES_LIST_DEPTH_MAX
				     ? max_depth
				     : SBX_FILES_LIST_DEPTH_MAX,
		.max_entries = max_entries,
	};
	_cleanup_close_ int wsfd = -1, dfd = -1;
	struct stat st;
	int r;

	dir = dir ? dir : "";
	if ((r = check_path(call, dir, true)) < 0)
		return r;
	if ((wsfd = open_workspace(workspace, call)) < 0)
		return wsfd;
	dfd = sbx_files_open_beneath(wsfd, dir, O_RDONLY);
	if (dfd < 0)
		return open_error(call, dfd, dir);
	if (fstat(dfd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return sbx_rpc_error(call, -EINVAL, "'%.256s' is not a directory", dir);
	l.r = (Sbx__ListFilesReply *)sbx_message_new(&sbx__list_files_reply__descriptor);
	if (!l.r)
		return -ENOMEM;
	snprintf(l.path, sizeof(l.path), "%s", dir);
	r = list_dir(&l, dfd, strlen(dir), 0);
	if (r < 0) {
		protobuf_c_message_free_unpacked(&l.r->base, NULL);
		return r;
	}
	*ret = l.r;
	return 0;
}

/* ---- reading ---- */

/* Up to max + 1 bytes of fd: one more than allowed tells a file that grew
 * past the cap while it was read. */
static int read_capped(int fd, uint64_t hint, uint64_t max, uint8_t **ret, size_t *ret_len)
{
	size_t cap = (size_t)(hint < max ? hint : max) + 1, n = 0;
	uint8_t *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t k;

		if (n == cap && cap <= max) {
			size_t ncap = cap * 2 > max + 1 ? (size_t)max + 1 : cap * 2;
			void *p = realloc(buf, ncap);

			if (!p) {
				free(buf);
				return -ENOMEM;
			}
			buf = p;
			cap = ncap;
		}
		if (n == cap)
			break; /* max + 1 bytes: over the cap */
		k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			free(buf);
			return -errno;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	*ret = buf;
	*ret_len = n;
	return 0;
}

static int too_big(struct sbx_rpc_call *call, const char *path, uint64_t size, uint64_t max)
{
	return sbx_rpc_error(call, -EFBIG,
			     "'%.256s' is %s%llu bytes, over the download limit of %llu bytes "
			     "(FILES_DOWNLOAD_MAX_BYTES)",
			     path, size > max ? "" : "more than ", (unsigned long long)size,
			     (unsigned long long)max);
}

/* Only a plain file with one link is read. A second link would be a name
 * the sandbox gave to an inode it may not own: on a workspace without a
 * volume of its own that could be any file of the host's file system it
 * could link to, read here with root's rights. */
static int check_regular(struct sbx_rpc_call *call, const char *path, const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		return sbx_rpc_error(call, -EINVAL,
				     "'%.256s' is a directory: list it with the files listing",
				     path);
	if (!S_ISREG(st->st_mode))
		return sbx_rpc_error(call, -EINVAL, "'%.256s' is a %s, not a regular file", path,
				     type_name(st->st_mode));
	if (st->st_nlink != 1)
		return sbx_rpc_error(call, -EINVAL,
				     "'%.256s' has %lu hard links: only files with a single link "
				     "are read",
				     path, (unsigned long)st->st_nlink);
	return 0;
}

int sbx_files_read(const char *workspace, const char *path, uint64_t max_bytes,
		   struct sbx_rpc_call *call, Sbx__FileContent **ret)
{
	_cleanup_close_ int wsfd = -1, fd = -1;
	Sbx__FileContent *m;
	struct stat st;
	uint8_t *data = NULL;
	size_t n = 0;
	int r;

	path = path ? path : "";
	if ((r = check_path(call, path, false)) < 0)
		return r;
	if ((wsfd = open_workspace(workspace, call)) < 0)
		return wsfd;
	fd = sbx_files_open_beneath(wsfd, path, O_RDONLY);
	if (fd < 0)
		return open_error(call, fd, path);
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((r = check_regular(call, path, &st)) < 0)
		return r;
	if ((uint64_t)st.st_size > max_bytes)
		return too_big(call, path, (uint64_t)st.st_size, max_bytes);
	r = read_capped(fd, (uint64_t)st.st_size, max_bytes, &data, &n);
	if (r < 0)
		return r;
	if (n > max_bytes) {
		free(data);
		return too_big(call, path, max_bytes, max_bytes);
	}
	m = (Sbx__FileContent *)sbx_message_new(&sbx__file_content__descriptor);
	if (!m) {
		free(data);
		return -ENOMEM;
	}
	m->content.data = data;
	m->content.len = n;
	m->size = n;
	m->mode = st.st_mode & 07777;
	m->path = strdup(path);
	m->content_type = strdup(sbx_files_content_type(path));
	m->modified_at = mtime_of(&st);
	if (!m->path || !m->content_type || !m->modified_at) {
		protobuf_c_message_free_unpacked(&m->base, NULL);
		return -ENOMEM;
	}
	*ret = m;
	return 0;
}

/* ---- content types ---- */

static const struct {
	const char *ext, *type;
} content_types[] = {
	{"txt", "text/plain; charset=utf-8"},
	{"log", "text/plain; charset=utf-8"},
	{"md", "text/markdown; charset=utf-8"},
	{"csv", "text/csv; charset=utf-8"},
	{"tsv", "text/tab-separated-values"},
	{"html", "text/html; charset=utf-8"},
	{"htm", "text/html; charset=utf-8"},
	{"css", "text/css; charset=utf-8"},
	{"js", "text/javascript; charset=utf-8"},
	{"mjs", "text/javascript; charset=utf-8"},
	{"json", "application/json"},
	{"xml", "application/xml"},
	{"yaml", "application/yaml"},
	{"yml", "application/yaml"},
	{"toml", "application/toml"},
	{"py", "text/x-python; charset=utf-8"},
	{"c", "text/x-c; charset=utf-8"},
	{"h", "text/x-c; charset=utf-8"},
	{"ts", "text/plain; charset=utf-8"},
	{"sh", "text/x-shellscript; charset=utf-8"},
	{"png", "image/png"},
	{"jpg", "image/jpeg"},
	{"jpeg", "image/jpeg"},
	{"gif", "image/gif"},
	{"svg", "image/svg+xml"},
	{"webp", "image/webp"},
	{"ico", "image/vnd.microsoft.icon"},
	{"bmp", "image/bmp"},
	{"pdf", "application/pdf"},
	{"zip", "application/zip"},
	{"gz", "application/gzip"},
	{"tar", "application/x-tar"},
	{"wasm", "application/wasm"},
	{"mp3", "audio/mpeg"},
	{"wav", "audio/wav"},
	{"mp4", "video/mp4"},
};

const char *sbx_files_content_type(const char *name)
{
	const char *base = strrchr(name, '/'), *dot;

	base = base ? base + 1 : name;
	dot = strrchr(base, '.');
	/* ".bashrc" is a hidden name, not an extension. */
	if (dot && dot != base)
		for (size_t i = 0; i < SBX_ARRAY_SIZE(content_types); i++)
			if (strcasecmp(dot + 1, content_types[i].ext) == 0)
				return content_types[i].type;
	return "application/octet-stream";
}
