/* Judge0's additional_files into Execute's files (judge0_zip.h). Judge0
 * runs `unzip -n` in its box; here the archive is read in the gateway's
 * memory, so everything in it is checked before a byte reaches a
 * workspace: what kind of entry, its path, its declared size and then
 * the size it really inflates to (a zip bomb lies in the first). */
#include "judge0_zip.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

#include "cleanup.h"

static int refuse(char *why, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int refuse(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void gw_j0_files_free(Sbx__File **files, size_t n)
{
	for (size_t i = 0; files && i < n; i++)
		if (files[i])
			protobuf_c_message_free_unpacked(&files[i]->base, NULL);
	free(files);
}

/* A relative path of non-empty components, none "." or "..". */
static bool path_ok(const char *p, size_t n)
{
	if (n == 0 || n > GW_J0_ZIP_MAX_PATH || p[0] == '/')
		return false;
	for (size_t i = 0; i < n;) {
		size_t k = strcspn(p + i, "/");

		if (k == 0 || (k == 1 && p[i] == '.') || (k == 2 && p[i] == '.' && p[i + 1] == '.'))
			return false;
		i += k + 1;
	}
	return p[n - 1] != '/';
}

/* The Unix mode of entry i, 0 when the archive was not made on Unix. */
static mode_t entry_mode(zip_t *za, zip_uint64_t i)
{
	zip_uint8_t os;
	zip_uint32_t attr;

	if (zip_file_get_external_attributes(za, i, 0, &os, &attr) < 0 || os != ZIP_OPSYS_UNIX)
		return 0;
	return (mode_t)(attr >> 16);
}

/* Entry i checked by what the archive declares: 1 a file to read, 0 a
 * directory to skip, or -EINVAL. */
static int check_entry(zip_t *za, zip_uint64_t i, const zip_stat_t *st, uint64_t *declared,
		       char *why, size_t size)
{
	mode_t m = entry_mode(za, i);
	size_t n = strlen(st->name);
	bool dir = n && st->name[n - 1] == '/';

	if (m && !S_ISREG(m) && !S_ISDIR(m))
		return refuse(why, size, "%.*s is not a regular file or a directory",
			      GW_J0_ZIP_MAX_PATH, st->name);
	if ((st->valid & ZIP_STAT_ENCRYPTION_METHOD) && st->encryption_method != ZIP_EM_NONE)
		return refuse(why, size, "%.*s is encrypted", GW_J0_ZIP_MAX_PATH, st->name);
	if (!path_ok(st->name, dir ? n - 1 : n))
		return refuse(why, size,
			      "%.*s: paths must be relative, at most %d bytes, without '.', "
			      "'..' or empty components",
			      GW_J0_ZIP_MAX_PATH, st->name, GW_J0_ZIP_MAX_PATH);
	if (dir || (m && S_ISDIR(m)))
		return 0;
	if (!(st->valid & ZIP_STAT_SIZE) || st->size > GW_J0_ZIP_MAX_TOTAL - *declared)
		return refuse(why, size, "the files are larger than %u bytes uncompressed",
			      GW_J0_ZIP_MAX_TOTAL);
	*declared += st->size;
	return 1;
}

/* The bytes of entry i, at most `room`: more than it declared (or than
 * room) is refused without inflating further. */
static int read_entry(zip_t *za, zip_uint64_t i, const zip_stat_t *st, size_t room, Sbx__File *f,
		      char *why, size_t size)
{
	size_t cap = (size_t)st->size < room ? (size_t)st->size : room;
	zip_file_t *zf = zip_fopen_index(za, i, 0);
	uint8_t extra;
	zip_int64_t got = 0, more = 0;
	int r = 0;

	if (!zf)
		return refuse(why, size, "%.*s cannot be read: %s", GW_J0_ZIP_MAX_PATH, st->name,
			      zip_strerror(za));
	f->content.data = malloc(cap ? cap : 1);
	if (!f->content.data) {
		zip_fclose(zf);
		return -ENOMEM;
	}
	if (cap)
		got = zip_fread(zf, f->content.data, cap);
	if (got >= 0 && (size_t)got == cap)
		more = zip_fread(zf, &extra, 1);
	if (got < 0 || more < 0)
		r = refuse(why, size, "%.*s cannot be read: %s", GW_J0_ZIP_MAX_PATH, st->name,
			   zip_file_strerror(zf));
	else if (more > 0 || (size_t)got != (size_t)st->size)
		r = refuse(why, size, "%.*s does not inflate to the size the archive declares",
			   GW_J0_ZIP_MAX_PATH, st->name);
	f->content.len = got > 0 ? (size_t)got : 0;
	zip_fclose(zf);
	return r;
}

/* No path twice, none both a file and a directory of another's. */
static int check_clashes(Sbx__File **files, size_t n, char *why, size_t size)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < n; k++) {
			const char *a = files[i]->path, *b = files[k]->path;
			size_t la = strlen(a);

			if (i != k && strncmp(a, b, la) == 0 && (b[la] == 0 || b[la] == '/'))
				return refuse(
					why, size, "%.*s is in the archive %s", GW_J0_ZIP_MAX_PATH,
					a, b[la] ? "both as a file and as a directory" : "twice");
		}
	return 0;
}

static int add_file(zip_t *za, zip_uint64_t i, const zip_stat_t *st, size_t *used,
		    Sbx__File **files, size_t *n, char *why, size_t size)
{
	Sbx__File *f = malloc(sizeof(*f));
	mode_t m = entry_mode(za, i);
	int r;

	if (!f)
		return -ENOMEM;
	sbx__file__init(f);
	files[(*n)++] = f;
	if (!(f->path = strdup(st->name)))
		return -ENOMEM;
	f->is_executable = (m & 0111) != 0;
	r = read_entry(za, i, st, GW_J0_ZIP_MAX_TOTAL - *used, f, why, size);
	*used += f->content.len;
	return r;
}

static int read_all(zip_t *za, Sbx__File **files, size_t *n, char *why, size_t size)
{
	zip_int64_t count = zip_get_num_entries(za, 0);
	uint64_t declared = 0;
	size_t used = 0;
	int r = 0;

	if (count > GW_J0_ZIP_MAX_FILES)
		return refuse(why, size, "the archive has more than %d entries",
			      GW_J0_ZIP_MAX_FILES);
	for (zip_int64_t i = 0; i < count && r >= 0; i++) {
		zip_stat_t st;

		if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) < 0 || !(st.valid & ZIP_STAT_NAME))
			return refuse(why, size, "entry %lld cannot be read: %s", (long long)i,
				      zip_strerror(za));
		r = check_entry(za, (zip_uint64_t)i, &st, &declared, why, size);
		if (r > 0)
			r = add_file(za, (zip_uint64_t)i, &st, &used, files, n, why, size);
	}
	return r < 0 ? r : check_clashes(files, *n, why, size);
}

int gw_j0_unzip(const void *zip, size_t len, Sbx__File ***ret, size_t *n_ret, char *why,
		size_t why_size)
{
	Sbx__File **files = calloc(GW_J0_ZIP_MAX_FILES, sizeof(*files));
	zip_error_t err;
	zip_source_t *src;
	zip_t *za;
	size_t n = 0;
	int r;

	if (!files)
		return -ENOMEM;
	zip_error_init(&err);
	src = zip_source_buffer_create(zip, len, 0, &err);
	za = src ? zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err) : NULL;
	if (!za) {
		r = zip_error_code_zip(&err) == ZIP_ER_MEMORY
			    ? -ENOMEM
			    : refuse(why, why_size, "is not a valid zip archive: %s",
				     zip_error_strerror(&err));
		zip_source_free(src);
		zip_error_fini(&err);
		free(files);
		return r;
	}
	zip_error_fini(&err);
	r = read_all(za, files, &n, why, why_size);
	zip_discard(za);
	if (r < 0) {
		gw_j0_files_free(files, n);
		return r;
	}
	*ret = files;
	*n_ret = n;
	return 0;
}
