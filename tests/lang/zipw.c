/* Zip archives for tests (zipw.h): libzip writes into a buffer source,
 * kept past zip_close so its bytes can be read back. */
#include "zipw.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

#include "judge0.h"

static int add(zip_t *za, const struct zipw_entry *e)
{
	size_t n = e->content ? (e->size ? e->size : strlen(e->content)) : e->size;
	size_t len = strlen(e->name);
	char *data;
	zip_source_t *s;
	zip_int64_t i;

	if (len && e->name[len - 1] == '/')
		return zip_dir_add(za, e->name, ZIP_FL_ENC_UTF_8) < 0 ? -1 : 0;
	/* libzip does not take (nor free) the data of an empty buffer. */
	data = n ? malloc(n) : NULL;
	if (n && !data)
		return -1;
	if (n && e->content)
		memcpy(data, e->content, n);
	else if (n)
		memset(data, 'x', n);
	s = zip_source_buffer(za, data, n, n > 0);
	if (!s) {
		free(data);
		return -1;
	}
	i = zip_file_add(za, e->name, s, ZIP_FL_ENC_UTF_8);
	if (i < 0) {
		zip_source_free(s);
		return -1;
	}
	return zip_file_set_external_attributes(za, (zip_uint64_t)i, 0, ZIP_OPSYS_UNIX,
						(e->mode ? e->mode : S_IFREG | 0644) << 16);
}

int zipw_make(const struct zipw_entry *e, size_t n, uint8_t **ret, size_t *len)
{
	zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, NULL);
	zip_t *za;
	zip_stat_t st;
	int r = 0;

	if (!src)
		return -1;
	zip_source_keep(src);
	za = zip_open_from_source(src, ZIP_TRUNCATE, NULL);
	for (size_t i = 0; za && i < n && r == 0; i++)
		r = add(za, &e[i]);
	if (!za || r < 0 || zip_close(za) < 0 || zip_source_stat(src, &st) < 0 ||
	    zip_source_open(src) < 0) {
		if (za && r < 0)
			zip_discard(za);
		zip_source_free(src);
		return -1;
	}
	*ret = malloc(st.size ? st.size : 1);
	*len = *ret ? (size_t)zip_source_read(src, *ret, st.size) : 0;
	zip_source_close(src);
	zip_source_free(src);
	if (!*ret || *len != st.size) {
		free(*ret);
		return -1;
	}
	return 0;
}

char *zipw_make_base64(const struct zipw_entry *e, size_t n)
{
	uint8_t *z;
	size_t len;
	char *out;

	if (zipw_make(e, n, &z, &len) < 0)
		return NULL;
	out = sbx_j0_base64_encode(z, len);
	free(z);
	return out;
}
