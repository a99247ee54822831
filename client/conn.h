/* One daemon's connection (private to libsandbox): an nng req socket that
 * dials one URL and redials after the daemon restarts, and the call slots
 * driven over it (client/libsandbox.c). A client of one daemon has one; a
 * cluster client one per node (client/cluster.c). */
#ifndef SBX_CONN_H
#define SBX_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "methods.h"
#include "sandbox.h"

struct sbx_conn;

/* Completion of one request on a connection, on an nng thread. sent tells
 * whether the request was handed to the daemon's connection (false: it was
 * never accepted and may go elsewhere). On err 0 the callback owns *reply. */
typedef void (*sbx_conn_cb)(void *arg, int err, bool sent, struct sbx_reply *reply);
/* The connection came up (true) or went down (false), on an nng thread. */
typedef void (*sbx_conn_pipe_cb)(void *arg, bool up);

struct sbx_conn_opts {
	const char *url;
	/* The error of requests in flight when the connection drops:
	 * -ECONNREFUSED for a client of one daemon (as before clusters),
	 * -ECONNRESET in a cluster. */
	int reset_err;
	/* A request made while the connection is down fails at once with
	 * -ECONNREFUSED (never accepted) instead of waiting in nng's queue
	 * until the daemon is back or the call times out: a cluster, where
	 * another node may take it (a client of one daemon waits, so it may
	 * start before its daemon). */
	bool fail_when_down;
	sbx_conn_pipe_cb on_pipe;  /* NULL: none */
	void *pipe_arg;
};

/* Dial opts->url without waiting. -EINVAL for a URL nng does not take. */
int sbx_conn_open(const struct sbx_conn_opts *opts, struct sbx_conn **ret);
/* Close the socket: requests in flight complete with -ECANCELED (their
 * callbacks may still be running when this returns). */
void sbx_conn_shutdown(struct sbx_conn *conn);
/* Free after sbx_conn_shutdown; waits for every callback. NULL is ok. */
void sbx_conn_free(struct sbx_conn *conn);
/* 1 when the connection to the daemon is up. */
int sbx_conn_connected(struct sbx_conn *conn);
/* Send the packed envelope buf (request id `id`, copied) for method m;
 * cb runs exactly once unless this returns an error (-EAGAIN: too many
 * calls in flight, -ENOMEM, -ECANCELED after shutdown, -ECONNREFUSED with
 * fail_when_down while down). */
int sbx_conn_send(struct sbx_conn *conn, const sbx_method *m, uint64_t id, const void *buf,
		  size_t len, uint32_t timeout_ms, sbx_conn_cb cb, void *arg);

#endif
