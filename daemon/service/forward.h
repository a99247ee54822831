/* The forwarder: a unix stream socket on the host whose every connection
 * is relayed, byte for byte in both directions, to a TCP port on the
 * loopback of a service's network namespace (daemon/service/service.h).
 * It is how the gateway, another process, possibly in another container
 * sharing the socket directory, reaches a web service that has no network
 * but its own loopback.
 *
 * One acceptor thread per forwarder and one relay thread per connection
 * (conns.h); a relay moves data through two bounded buffers with
 * non-blocking I/O, so neither direction can stall the other, and passes
 * half-closes on (relay.h). The proxy tunnel (tunnel/tunnel.h) reaches
 * these sockets from other hosts. */
#ifndef SBX_FORWARD_H
#define SBX_FORWARD_H

#include <stdint.h>

struct sbx_forward;

/* The namespace to connect into for a new connection: a new fd the
 * forwarder closes, or -errno when the service cannot be reached (the
 * connection is then closed at once: the gateway answers 502). Called on
 * the connection's own thread: it may block (to start the service). */
typedef int (*sbx_forward_target_fn)(void *arg);

/* Listen on `path` (an existing file there is replaced; mode 0666: the
 * directory decides who may connect) and relay to 127.0.0.1:port inside
 * target(arg)'s namespace. arg must outlive the forwarder. 0 or -errno. */
int sbx_forward_open(const char *path, uint16_t port, sbx_forward_target_fn target, void *arg,
		     struct sbx_forward **ret);

/* Stop accepting, cut every open connection, wait for the relay threads
 * and remove the socket file. NULL is a no-op. */
void sbx_forward_close(struct sbx_forward *f);

/* The socket of the forwarder of object `id` in `dir` (the proxy
 * directory): "<dir>/<id>.sock", in *ret (free it). 0 or -ENOMEM. */
int sbx_forward_socket_path(const char *dir, const char *id, char **ret);

/* Wall clock (ms since the epoch) of the last connection or byte
 * relayed; 0 = none yet. Requests on a kept connection count too. */
int64_t sbx_forward_last_activity(struct sbx_forward *f);

/* Connections being relayed now. */
unsigned sbx_forward_connections(struct sbx_forward *f);

#endif
