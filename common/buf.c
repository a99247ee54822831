#include "buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void sbx_buf_init(struct sbx_buf *b, size_t max) { *b = (struct sbx_buf){ .max = max }; }

void sbx_buf_fini(struct sbx_buf *b)
{
	free(b->data);
	*b = (struct sbx_buf){ .max = b->max };
}

void sbx_buf_reset(struct sbx_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

static int buf_reserve(struct sbx_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (need + 1 <= b->cap)
		return 0;
	while (cap < need + 1)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int sbx_buf_append(struct sbx_buf *b, const void *p, size_t n)
{
	int r;

	if (n > b->max - b->len)
		return -E2BIG;
	r = buf_reserve(b, b->len + n);
	if (r < 0)
		return r;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

size_t sbx_buf_append_some(struct sbx_buf *b, const void *p, size_t n)
{
	size_t room = b->max - b->len;

	if (n > room)
		n = room;
	return sbx_buf_append(b, p, n) < 0 ? 0 : n;
}

char *sbx_buf_steal(struct sbx_buf *b, size_t *ret_len)
{
	char *d = b->data;

	if (!d)
		d = calloc(1, 1);
	if (ret_len)
		*ret_len = b->len;
	*b = (struct sbx_buf){ .max = b->max };
	return d;
}
