/* A listening socket whose every accepted connection is served on a
 * detached thread of its own (256 KiB of stack), and the set of those
 * connections, so that stopping cuts them all (shutdown of both fds) and
 * waits for their threads. The forwarder (forward.h) and the proxy tunnel
 * (tunnel/tunnel.h) are each one of these with their own serve function.
 * The set's acceptor is one more thread. */
#ifndef SBX_CONNS_H
#define SBX_CONNS_H

#include <stdbool.h>

struct sbx_conns;

/* One accepted connection. fd[0] is the accepted socket; fd[1] the peer
 * that serve connected (sbx_conn_set_peer), -1 until then. The set closes
 * both once serve returns. */
struct sbx_conn {
	struct sbx_conn *next, *prev;
	struct sbx_conns *set;
	int fd[2];
};

/* Serve c on its own thread (it may block: a stop cuts its fds). */
typedef void (*sbx_conn_serve_fn)(struct sbx_conn *c, void *arg);

struct sbx_conns_opts {
	int listen_fd; /* listening and non-blocking; the set owns it from start */
	unsigned max;  /* connections at once; 0: no limit */
	sbx_conn_serve_fn serve;
	/* A connection beyond max, on the acceptor thread, before it is
	 * closed (say why without blocking); NULL: closed silently. */
	void (*refuse)(int fd);
	/* Every accepted connection, on the acceptor thread; NULL: none. */
	void (*accepted)(void *arg);
	void *arg; /* of serve and accepted */
};

/* Start accepting. 0 or -errno (listen_fd is closed then too). */
int sbx_conns_start(const struct sbx_conns_opts *o, struct sbx_conns **ret);
/* Keep fd as c's peer, so that a stop cuts it too; one that began while
 * serve was connecting shuts it down at once (the relay then ends). */
void sbx_conn_set_peer(struct sbx_conn *c, int fd);
/* Connections being served now. */
unsigned sbx_conns_count(struct sbx_conns *s);
/* Stop accepting and close the listening fd, cut every connection, wait
 * for their threads, free. NULL is a no-op. */
void sbx_conns_stop(struct sbx_conns *s);

#endif
