/* Live output in the spawner: stdout/stderr chunks sent to the daemon as
 * they are read (wire.h), for executions that asked for stream_output.
 *
 * The spawner serves every sandbox from one thread, so it must never wait
 * for one daemon reader: chunks are sent with MSG_DONTWAIT, and when the
 * socket is full they are dropped and counted (STREAM_END reports the
 * count). A stream socket may take part of a frame; its tail is kept
 * (at most one frame, in a buffer allocated at start) and sent first when the socket drains, so
 * frames stay whole. The result frame carries the capped output regardless. Also here: the
 * interleaved copy of both streams that want_output asks for (sbx_output_both). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "spawner_exec.h"
#include "wire.h"

/* Send-buffer size of a streaming execution socket: enough for a burst of
 * output while the daemon's reader is busy (a few ms at pipe speed). */
#define STREAM_SNDBUF (4 << 20)

static bool streaming(const struct sbx_exec *ex)
{
	return ex->req && ex->req->stream_output;
}

static void want_writable(struct sbx_ctx *ctx, struct sbx_exec *ex, bool on)
{
	struct epoll_event ev = {.events = EPOLLRDHUP | (on ? EPOLLOUT : 0),
				 .data.ptr = &ex->w_sock};

	epoll_ctl(ctx->epfd, EPOLL_CTL_MOD, ex->fd, &ev);
}

void sbx_stream_setup(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	int sz = STREAM_SNDBUF;

	if (!streaming(ex) || ex->fd < 0)
		return;
	/* Room for one torn frame, allocated once: when it is missing every
	 * chunk counts as dropped. */
	ex->sfrag = malloc(SBX_FRAME_HDR + SBX_FRAME_CHUNK_MAX);
	/* FORCE goes past net.core.wmem_max (the spawner is privileged);
	 * the plain option is the fallback. */
	if (setsockopt(ex->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(ex->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

static bool pending(const struct sbx_exec *ex)
{
	return ex->sfrag_off < ex->sfrag_len;
}

/* Send the pending tail; true when nothing is pending any more. */
static bool flush_frag(struct sbx_exec *ex)
{
	while (pending(ex)) {
		ssize_t n = send(ex->fd, ex->sfrag + ex->sfrag_off, ex->sfrag_len - ex->sfrag_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false; /* EAGAIN, or the daemon is gone (EOF handling follows) */
		ex->sfrag_off += (size_t)n;
	}
	ex->sfrag_len = ex->sfrag_off = 0;
	return true;
}

static void drop(struct sbx_exec *ex, size_t len)
{
	ex->sdrop_chunks++;
	ex->sdrop_bytes += len;
}

void sbx_stream_chunk(struct sbx_ctx *ctx, struct sbx_exec *ex, int which, const void *data,
		      size_t len)
{
	if (!streaming(ex) || ex->fd < 0 || len == 0)
		return;
	if (!ex->sfrag || !flush_frag(ex)) {
		drop(ex, len);
		return;
	}
	for (size_t off = 0; off < len;) {
		size_t n = len - off < SBX_FRAME_CHUNK_MAX ? len - off : SBX_FRAME_CHUNK_MAX;
		uint8_t hdr[SBX_FRAME_HDR];
		struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(char *)data + off, n}};
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
		ssize_t sent;

		sbx_frame_hdr(hdr, which == 0 ? SBX_FRAME_STDOUT : SBX_FRAME_STDERR, (uint32_t)n);
		do
			sent = sendmsg(ex->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		while (sent < 0 && errno == EINTR);
		if (sent < 0) {
			drop(ex, len - off);
			return;
		}
		if ((size_t)sent < sizeof(hdr) + n) {
			/* Keep the rest of this frame; later chunks wait behind it. */
			memcpy(ex->sfrag, hdr, sizeof(hdr));
			memcpy(ex->sfrag + sizeof(hdr), (const char *)data + off, n);
			ex->sfrag_off = (size_t)sent;
			ex->sfrag_len = sizeof(hdr) + n;
			want_writable(ctx, ex, true);
			if (off + n < len)
				drop(ex, len - off - n);
			return;
		}
		off += n;
	}
}

void sbx_stream_on_writable(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	if (ex->fd < 0)
		return;
	if (flush_frag(ex))
		want_writable(ctx, ex, false);
}

size_t sbx_stream_trailer_len(const struct sbx_exec *ex)
{
	if (!streaming(ex))
		return 0;
	return ex->sfrag_len - ex->sfrag_off + SBX_FRAME_HDR + sizeof(struct sbx_stream_end);
}

size_t sbx_stream_trailer(struct sbx_exec *ex, uint8_t *buf)
{
	struct sbx_stream_end end = {ex->sdrop_chunks, ex->sdrop_bytes};
	size_t off = 0;

	if (!streaming(ex))
		return 0;
	if (pending(ex)) {
		off = ex->sfrag_len - ex->sfrag_off;
		memcpy(buf, ex->sfrag + ex->sfrag_off, off);
		ex->sfrag_len = ex->sfrag_off = 0;
	}
	sbx_frame_hdr(buf + off, SBX_FRAME_STREAM_END, sizeof(end));
	memcpy(buf + off + SBX_FRAME_HDR, &end, sizeof(end));
	return off + SBX_FRAME_HDR + sizeof(end);
}

/* Piston's `output`: both streams in the order the spawner read them. The
 * buffer grows like the per-stream ones, up to the same cap. */
void sbx_output_both(struct sbx_exec *ex, const void *data, size_t len)
{
	struct sbx_outbuf *o = &ex->both;
	size_t n = len < o->cap - o->len ? len : o->cap - o->len;

	if (o->cap == 0) /* not asked for */
		return;
	o->total += len;
	if (n < len)
		o->truncated = true;
	if (n == 0)
		return;
	if (sbx_outbuf_keep(o, data, n) < 0)
		o->truncated = true;
}

int sbx_outbuf_keep(struct sbx_outbuf *o, const void *data, size_t n)
{
	if (o->len + n > o->alloc) {
		size_t na = o->alloc ? o->alloc * 2 : 16384;
		if (na < o->len + n)
			na = o->len + n;
		if (na > o->cap)
			na = o->cap;
		char *nd = realloc(o->data, na);
		if (!nd)
			return -ENOMEM;
		o->data = nd;
		o->alloc = na;
	}
	memcpy(o->data + o->len, data, n);
	o->len += n;
	return 0;
}
