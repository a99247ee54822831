#include "subframe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rpc.pb-c.h"

/* Initial read buffer; grows to one largest frame when needed. */
#define SUB_BUF_MIN (256u << 10)

int sbx_sub_reader_init(struct sbx_sub_reader *r, bool ipc, const char *prefix, sbx_event_cb cb,
			void *arg, const int *stop)
{
	*r = (struct sbx_sub_reader){.ipc = ipc,
				     .prefix = prefix,
				     .plen = strlen(prefix),
				     .cb = cb,
				     .arg = arg,
				     .stop = stop,
				     .cap = SUB_BUF_MIN};
	r->buf = malloc(r->cap);
	return r->buf ? 0 : -ENOMEM;
}

void sbx_sub_reader_fini(struct sbx_sub_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = r->have = 0;
}

uint8_t *sbx_sub_reader_space(struct sbx_sub_reader *r, size_t *ret_room)
{
	*ret_room = r->cap - r->have;
	return r->buf + r->have;
}

void sbx_sub_deliver(const uint8_t *body, size_t len, const char *prefix, size_t plen,
		     sbx_event_cb cb, void *arg)
{
	const uint8_t *nul;
	Sbx__Event *e;

	if (len < plen || memcmp(body, prefix, plen) != 0)
		return;
	nul = memchr(body, 0, len);
	if (!nul)
		return;
	e = sbx__event__unpack(NULL, len - (size_t)(nul + 1 - body), nul + 1);
	if (!e)
		return;
	struct sbx_event ev = {
		.topic = (const char *)body,
		.seq = e->seq,
		.time_us = e->time_us,
		.kind = e->kind ? e->kind : "",
		/* Never NULL, even empty: callbacks memcpy from it. */
		.data = e->data.data ? (const void *)e->data.data : "",
		.len = e->data.len,
	};
	cb(arg, &ev);
	sbx__event__free_unpacked(e, NULL);
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static bool stopping(const struct sbx_sub_reader *r)
{
	return r->stop && __atomic_load_n(r->stop, __ATOMIC_RELAXED);
}

int sbx_sub_reader_commit(struct sbx_sub_reader *r, size_t n)
{
	size_t hdr = r->ipc ? 9 : 8, off = 0;
	int ret = 0;

	r->have += n;
	while (r->have - off >= hdr && !stopping(r)) {
		const uint8_t *h = r->buf + off;
		uint64_t len = be64(h + hdr - 8);

		if ((r->ipc && h[0] != 1) || len > SBX_SUB_MSG_MAX) {
			ret = -EBADMSG;
			break;
		}
		if (r->have - off < hdr + len) {
			/* Incomplete: make room for the whole message. */
			if (hdr + len > r->cap) {
				size_t nc = hdr + SBX_SUB_MSG_MAX;
				uint8_t *nb = realloc(r->buf, nc);

				if (!nb) {
					ret = -ENOMEM;
					break;
				}
				r->buf = nb;
				r->cap = nc;
			}
			break;
		}
		sbx_sub_deliver(r->buf + off + hdr, (size_t)len, r->prefix, r->plen, r->cb, r->arg);
		off += hdr + (size_t)len;
	}
	memmove(r->buf, r->buf + off, r->have - off);
	r->have -= off;
	return ret;
}
