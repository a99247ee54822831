/* One execution inside the spawner (spawner_exec.c), driven by the event
 * loop in spawner.c. All functions run in the spawner process only. */
#ifndef SBX_SPAWNER_EXEC_H
#define SBX_SPAWNER_EXEC_H

#include "module.h"
#include "spawner_state.h"

/* What an epoll registration is for (struct sbx_watch.kind). */
enum { W_CTL, W_SOCK, W_STDOUT, W_STDERR, W_STDIN, W_PIDFD, W_TIMER, W_STATUS };

/* epoll helpers (spawner.c). */
int sbx_epoll_add(struct sbx_ctx *ctx, int fd, uint32_t events, struct sbx_watch *w);
void sbx_epoll_del(struct sbx_ctx *ctx, int fd);
/* Leave the running list (spawner.c keeps the count). */
void sbx_exec_running_remove(struct sbx_ctx *ctx, struct sbx_exec *ex);
/* Close the socket and free `ex` after the current event batch. */
void sbx_exec_retire(struct sbx_ctx *ctx, struct sbx_exec *ex);

/* What the child said on the status pipe (spawner_exec.c reads it). */
struct sbx_child_report {
	struct sbx_child_msg setup, exit, trace;
	bool have_setup, have_exit, have_trace;
};

/* exec_mem.c: an execution's state, zeroed, in pages no sandbox inherits
 * but the one cloned for it (NULL on ENOMEM); its status report, zeroed,
 * in the same pages; memory that lives as long as it (from those pages or
 * else malloc(); NULL only on ENOMEM), freed by sbx_exec_mem_free() (a
 * no-op for the pages' own), and the same as a protobuf-c allocator; open
 * (to_child) or close them to clone()'s child; give them back. */
struct sbx_exec *sbx_exec_mem_get(void);
struct sbx_child_report *sbx_exec_mem_report(struct sbx_exec *ex);
void *sbx_exec_mem_alloc(struct sbx_exec *ex, size_t size);
void sbx_exec_mem_free(struct sbx_exec *ex, void *p);
ProtobufCAllocator *sbx_exec_mem_allocator(struct sbx_exec *ex);
void sbx_exec_mem_fork(struct sbx_exec *ex, bool to_child);
void sbx_exec_mem_put(struct sbx_exec *ex);
/* exec_mem.c: the spawner's buffer for output as it is read, in pages no
 * child inherits (so reading into it never takes a copy-on-write fault);
 * NULL on ENOMEM. */
#define SBX_EXEC_SCRATCH 65536
char *sbx_exec_mem_scratch(void);

/* A new execution for socket `fd` (taken over, made non-blocking). NULL on
 * ENOMEM. */
struct sbx_exec *sbx_exec_new(struct sbx_ctx *ctx, int fd);
void sbx_exec_free(struct sbx_exec *ex);
/* Read what is available of the REQUEST frame. 0 = complete (ex->error
 * set if it is unusable), SBX_EXEC_READ_WARM_STATS = the socket asks for
 * the pools' state instead (wire.h), -EAGAIN = more to come, other <0 =
 * drop it. */
#define SBX_EXEC_READ_WARM_STATS 1
int sbx_exec_read_request(struct sbx_ctx *ctx, struct sbx_exec *ex);
/* Answer a WARM_STATS_REQUEST on ex's socket with the pools' state, then
 * retire ex. */
void sbx_exec_reply_warm_stats(struct sbx_ctx *ctx, struct sbx_exec *ex);
/* Reply INTERNAL_ERROR with ex->error without running anything. */
void sbx_exec_fail_early(struct sbx_ctx *ctx, struct sbx_exec *ex);
/* Build a sandbox for ex->req up to "go": pipes, prepare hooks, clone,
 * parent hooks (warm.c calls it too, for a pre-built one). <0 = failed
 * before the clone (*what names the step); 0 = cloned, ex->error set if a
 * later step failed. */
int sbx_exec_spawn(struct sbx_ctx *ctx, struct sbx_exec *ex, const char **what);
/* Start a queued execution (already on the running list). On failure
 * it replies INTERNAL_ERROR itself. */
void sbx_exec_start(struct sbx_ctx *ctx, struct sbx_exec *ex);
void sbx_exec_on_output(struct sbx_ctx *ctx, struct sbx_exec *ex, int which);
void sbx_exec_on_stdin(struct sbx_ctx *ctx, struct sbx_exec *ex);
void sbx_exec_on_exit(struct sbx_ctx *ctx, struct sbx_exec *ex);
/* The status pipe has messages: read them; once the payload has ended
 * and nothing else of the sandbox is left, the result goes at once. */
void sbx_exec_on_status(struct sbx_ctx *ctx, struct sbx_exec *ex);
/* The reply is written: retire ex, or close its socket and leave it
 * draining until its init is reaped. */
void sbx_exec_replied(struct sbx_ctx *ctx, struct sbx_exec *ex);
void sbx_exec_on_timer(struct sbx_ctx *ctx, struct sbx_exec *ex);
/* SIGKILL the whole sandbox; the first reason given is the one reported. */
void sbx_exec_kill(struct sbx_ctx *ctx, struct sbx_exec *ex, enum sbx_kill_reason why);
/* Write more of the reply: 0 done, -EAGAIN later, <0 peer gone. */
int sbx_exec_reply_more(struct sbx_ctx *ctx, struct sbx_exec *ex);

/* Live output (spawner_stream.c); all no-ops unless the request asked
 * for stream_output. */
/* Size the execution socket's send buffer for streaming. */
void sbx_stream_setup(struct sbx_ctx *ctx, struct sbx_exec *ex);
/* Send one chunk read from stdout (0) or stderr (1), without blocking:
 * dropped and counted when the socket is full. */
void sbx_stream_chunk(struct sbx_ctx *ctx, struct sbx_exec *ex, int which, const void *data,
		      size_t len);
/* want_output: append what was read of either stream to ex->both, up to
 * its cap (the output limit); past it, mark it truncated. */
void sbx_output_both(struct sbx_exec *ex, const void *data, size_t len);
/* spawner_stream.c: append n bytes to o, growing it (doubling, up to its
 * cap, which the caller keeps to). 0, or -ENOMEM with o unchanged. */
int sbx_outbuf_keep(struct sbx_outbuf *o, const void *data, size_t n);
/* The socket became writable while running: send the pending tail. */
void sbx_stream_on_writable(struct sbx_ctx *ctx, struct sbx_exec *ex);
/* What must precede the result frame: the pending tail and STREAM_END.
 * Returns its length (0 when not streaming) after writing it to buf,
 * which has room for sbx_stream_trailer_len(ex) bytes. */
size_t sbx_stream_trailer_len(const struct sbx_exec *ex);
size_t sbx_stream_trailer(struct sbx_exec *ex, uint8_t *buf);

#endif
