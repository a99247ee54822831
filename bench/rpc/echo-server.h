/* The reference server of bench-rpc: a bare nng rep echo server built like
 * the daemon's RPC server (N contexts, each a two-state machine driven by
 * its aio callback, as in nng's demo/async/server.c) but with no envelope,
 * no dispatch and no handler: every request comes back as its reply. */
#ifndef BENCH_ECHO_SERVER_H
#define BENCH_ECHO_SERVER_H

/* Listen on url with `contexts` contexts and serve until SIGTERM or SIGINT
 * (blocked and sigwait()ed here, so call it before any other thread
 * exists). Returns 0 after a clean stop, or a negative errno. */
int echo_server_run(const char *url, unsigned contexts);

#endif
