#include "docker_tar.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLOCK 512
/* Directory entries remembered to avoid writing one twice. Past this many,
 * duplicates are written: harmless, tar merges them. */
#define MAX_SEEN_DIRS 512

struct ustar {
	char name[100], mode[8], uid[8], gid[8], size[12], mtime[12], chksum[8], typeflag;
	char linkname[100], magic[6], version[2], uname[32], gname[32], devmajor[8], devminor[8];
	char prefix[155], pad[12];
};
_Static_assert(sizeof(struct ustar) == BLOCK, "ustar header is one block");

static void octal(char *f, size_t width, unsigned long long v)
{
	/* width-1 digits and a NUL, as GNU tar writes them. */
	snprintf(f, width, "%0*llo", (int)width - 1, v);
}

/* Split path over prefix/name at a '/', as ustar wants for names > 100. */
static int set_name(struct ustar *h, const char *path, size_t len)
{
	if (len <= sizeof(h->name)) {
		memcpy(h->name, path, len);
		return 0;
	}
	for (size_t i = len - 1; i > 0; i--) {
		if (path[i] != '/')
			continue;
		if (i <= sizeof(h->prefix) && len - i - 1 <= sizeof(h->name) && len - i - 1 > 0) {
			memcpy(h->prefix, path, i);
			memcpy(h->name, path + i + 1, len - i - 1);
			return 0;
		}
	}
	return -ENAMETOOLONG;
}

static int entry(struct sbx_buf *out, const char *path, size_t len, char type, unsigned mode,
		 const void *data, size_t size)
{
	static const char zeros[BLOCK];
	struct ustar h;
	unsigned sum = 0;
	int r;

	memset(&h, 0, sizeof(h));
	r = set_name(&h, path, len);
	if (r < 0)
		return r;
	octal(h.mode, sizeof(h.mode), mode);
	octal(h.uid, sizeof(h.uid), SBX_TAR_UID);
	octal(h.gid, sizeof(h.gid), SBX_TAR_GID);
	octal(h.size, sizeof(h.size), size);
	octal(h.mtime, sizeof(h.mtime), (unsigned long long)time(NULL));
	h.typeflag = type;
	memcpy(h.magic, "ustar", 6);
	memcpy(h.version, "00", 2);
	memcpy(h.uname, "sandbox", 7);
	memcpy(h.gname, "sandbox", 7);
	memset(h.chksum, ' ', sizeof(h.chksum));
	for (size_t i = 0; i < BLOCK; i++)
		sum += ((const unsigned char *)&h)[i];
	snprintf(h.chksum, sizeof(h.chksum), "%06o", sum);
	if ((r = sbx_buf_append(out, &h, BLOCK)) < 0)
		return r;
	if (size && (r = sbx_buf_append(out, data, size)) < 0)
		return r;
	if (size % BLOCK)
		r = sbx_buf_append(out, zeros, BLOCK - size % BLOCK);
	return r;
}

struct seen {
	const char *path[MAX_SEEN_DIRS];
	size_t len[MAX_SEEN_DIRS];
	size_t n;
};

static bool seen_add(struct seen *s, const char *path, size_t len)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->len[i] == len && memcmp(s->path[i], path, len) == 0)
			return false;
	if (s->n < MAX_SEEN_DIRS) {
		s->path[s->n] = path;
		s->len[s->n++] = len;
	}
	return true;
}

int sbx_tar_files(struct sbx_buf *out, Sbx__File *const *files, size_t n)
{
	static const char zeros[2 * BLOCK];
	struct seen *seen = calloc(1, sizeof(*seen));
	int r;

	if (!seen)
		return -ENOMEM;
	r = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		const char *p = files[i]->path;
		size_t len = strlen(p);

		if (len > 255) {
			r = -ENAMETOOLONG;
			break;
		}
		/* Parents first, each as "dir/" (len includes the slash). */
		for (const char *s = strchr(p, '/'); r == 0 && s; s = strchr(s + 1, '/'))
			if (seen_add(seen, p, (size_t)(s - p) + 1))
				r = entry(out, p, (size_t)(s - p) + 1, '5', 0755, NULL, 0);
		if (r == 0)
			r = entry(out, p, len, '0', files[i]->is_executable ? 0755 : 0644,
				  files[i]->content.data, files[i]->content.len);
	}
	if (r == 0)
		r = sbx_buf_append(out, zeros, sizeof(zeros));
	free(seen);
	return r;
}
