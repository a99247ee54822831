/* The daemon ⇄ spawner wire.
 *
 * Control socket (SOCK_SEQPACKET, one per engine): the daemon sends one
 * 1-byte message per execution carrying, with SCM_RIGHTS, one end of a
 * fresh SOCK_STREAM socketpair. Everything else about that execution
 * travels on the passed socket as frames:
 *
 *   u32 type | u32 length | length bytes        (host byte order: same host)
 *
 * daemon → spawner: SBX_FRAME_REQUEST (packed sbx.SpawnRequest), once.
 * spawner → daemon: SBX_FRAME_RESULT (packed sbx.ExecResult), once, last.
 * With SpawnRequest.stream_output, also SBX_FRAME_STDOUT / SBX_FRAME_STDERR
 * (raw output bytes, at most SBX_FRAME_CHUNK_MAX each, in the order read)
 * while the sandbox runs, and one SBX_FRAME_STREAM_END (struct
 * sbx_stream_end) right before the result. The spawner never waits for the
 * daemon to read them: a chunk that does not fit in the socket is dropped
 * and counted in STREAM_END. The result's output does not depend on them.
 * Closing the socket early cancels: the spawner kills that sandbox.
 *
 * The pools' state (warm.h) takes the same road: a fresh socketpair whose
 * first frame is SBX_FRAME_WARM_STATS_REQUEST (length 0) is answered with
 * one SBX_FRAME_WARM_STATS (struct sbx_warm_stats[n], n <= SBX_WARM_MAX_POOLS:
 * raw, both ends are the same binary), then closed. The spawner answers
 * between two batches of events, so a busy one is slow to answer, never
 * blocked: the daemon waits a bounded time (engine.c).
 * Frame types are a registry so live output (stdout/stderr chunks) and
 * signals for long-running sandboxes can be added without a new channel. */
#ifndef SBX_WIRE_H
#define SBX_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum sbx_frame_type {
	SBX_FRAME_REQUEST = 1,
	SBX_FRAME_RESULT = 2,
	SBX_FRAME_STDOUT = 3,
	SBX_FRAME_STDERR = 4,
	/* reserved: 5 signal */
	SBX_FRAME_STREAM_END = 6,
	SBX_FRAME_WARM_STATS_REQUEST = 7,
	SBX_FRAME_WARM_STATS = 8,
};

#define SBX_FRAME_CHUNK_MAX 65536

/* The payload of SBX_FRAME_STREAM_END. */
struct sbx_stream_end {
	uint64_t dropped_chunks, dropped_bytes;
};

#define SBX_FRAME_HDR 8

static inline void sbx_frame_hdr(uint8_t hdr[SBX_FRAME_HDR], uint32_t type, uint32_t len)
{
	__builtin_memcpy(hdr, &type, 4);
	__builtin_memcpy(hdr + 4, &len, 4);
}

static inline void sbx_frame_parse(const uint8_t hdr[SBX_FRAME_HDR], uint32_t *type,
				   uint32_t *len)
{
	__builtin_memcpy(type, hdr, 4);
	__builtin_memcpy(len, hdr + 4, 4);
}

/* At most this many fds per control message: the execution socket and,
 * for a service, the network namespace it joins (engine.h). */
#define SBX_WIRE_MAX_FDS 2

/* Send fds[0..n) (1 <= n <= SBX_WIRE_MAX_FDS) in one control message.
 * Returns 0 or -errno. */
int sbx_wire_send_fds(int sock, const int *fds, size_t n);

/* Receive one message's fds (O_CLOEXEC) into fds[SBX_WIRE_MAX_FDS], their
 * number in *n (>= 1). Returns 0, -ECONNRESET, -EAGAIN, -EBADMSG. */
int sbx_wire_recv_fds(int sock, int *fds, size_t *n);

/* Send `fd` over the control socket. Returns 0 or -errno (EPIPE: spawner
 * gone). Thread-safe: one sendmsg per SEQPACKET message is atomic. */
int sbx_wire_send_fd(int sock, int fd);
/* sbx_wire_send_fd that never waits: -EAGAIN when the spawner has not
 * read its control socket for so long that the queue is full. */
int sbx_wire_send_fd_nowait(int sock, int fd);

/* Receive one fd (O_CLOEXEC; extra fds in the message are closed). Returns 0 and *ret_fd, -ECONNRESET when the
 * peer closed, -EAGAIN on a non-blocking socket with nothing queued. */
int sbx_wire_recv_fd(int sock, int *ret_fd);

#endif
