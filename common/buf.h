/* A growable byte buffer with a hard maximum (curl's dynbuf). Appends past
 * the maximum fail with -E2BIG and leave the buffer as it was. */
#ifndef SBX_BUF_H
#define SBX_BUF_H

#include <stddef.h>

struct sbx_buf {
	char *data;   /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max;   /* bytes, not counting the NUL */
};

void sbx_buf_init(struct sbx_buf *b, size_t max);
void sbx_buf_fini(struct sbx_buf *b);
/* 0, -E2BIG when len would pass max, -ENOMEM. */
int sbx_buf_append(struct sbx_buf *b, const void *p, size_t n);
/* Append as much of p as fits under max; returns the bytes taken. */
size_t sbx_buf_append_some(struct sbx_buf *b, const void *p, size_t n);
void sbx_buf_reset(struct sbx_buf *b);
/* Hand the data to the caller (free() it); the buffer becomes empty. */
char *sbx_buf_steal(struct sbx_buf *b, size_t *ret_len);

#endif
