/* The proxy tunnel (cluster mode, README "Cluster"): how a gateway on
 * another host reaches this node's deployments and dev servers, whose
 * forwarder sockets (daemon/service/forward.h) are unix sockets in the
 * node's proxy directory and so reach no further than this host.
 *
 * The protocol is HTTP CONNECT (RFC 9110 9.3.6), so that the gateway's
 * libcurl uses the tunnel as an ordinary HTTP proxy
 * (CURLOPT_HTTPPROXYTUNNEL):
 *
 *   CONNECT <uuid>:<port> HTTP/1.1\r\n
 *   Proxy-Authorization: Bearer <cluster key>\r\n      (when the node has one)
 *   \r\n
 *
 * <uuid> is the basename of OpenProxyReply.socket_path without ".sock" (a
 * lowercase UUID: the tunnel never builds a path from anything else, so
 * no request reaches outside the proxy directory); <port> must be a port
 * number and is otherwise ignored (the forwarder knows its service's).
 * The tunnel connects to <proxy_dir>/<uuid>.sock (the forwarder, which
 * wakes a stopped service and holds the connection until it is ready),
 * answers "HTTP/1.1 200 Connection established\r\n\r\n" and then relays
 * bytes both ways (service/relay.h: bounded buffers, backpressure,
 * half-closes passed on); bytes the client sent after the head are
 * forwarded first. Refusals, each followed by closing the connection:
 *   400 a malformed request line, header or port
 *   405 a method other than CONNECT
 *   407 (with "Proxy-Authenticate: Bearer") the key missing or wrong
 *   404 a target that is not a lowercase UUID, or no such socket
 *   408 the head not complete within 10 s
 *   431 a head of more than 8 KiB
 *   502 the socket is there but cannot be connected to
 *   503 more connections than the limit
 *
 * Why a key: the tunnel reaches services that run users' code, and RPC
 * runs code; once either listens beyond loopback, the network alone is
 * not a boundary worth trusting (any container on an overlay network
 * reaches it), so both require the cluster key (compared in constant
 * time). sandboxd warns at start when either listens beyond loopback
 * without one. The events socket (nng pub, no authentication without
 * TLS) must stay on the internal network.
 *
 * Threads: one acceptor, and one thread per connection (256 KiB stacks,
 * at most max_conns), the forwarder's connection set (service/conns.h). Each tunnel connection is one connection of a
 * forwarder, which already spends a relay thread on it, so an event loop
 * here would not change the number of threads on the path, while sharing
 * the forwarder's relay (one tested piece of code for both) and reading
 * the head with plain blocking-with-deadline code. */
#ifndef SBX_TUNNEL_H
#define SBX_TUNNEL_H

#include <stdbool.h>
#include <stdint.h>

struct sbx_tunnel;

/* tcp://HOST:PORT split: host without brackets ("" = every address). */
struct sbx_tunnel_addr {
	char host[256];
	char port[8];
};

/* Parse "tcp://HOST:PORT" ([v6]:PORT for IPv6; PORT 0..65535). 0 or
 * -EINVAL. */
int sbx_tunnel_parse_url(const char *url, struct sbx_tunnel_addr *ret);

struct sbx_tunnel_opts {
	const char *url;       /* tcp://HOST:PORT; port 0: any free port */
	const char *proxy_dir; /* where the forwarders' <uuid>.sock are */
	const char *key;       /* "" or NULL: no Proxy-Authorization needed */
	unsigned max_conns;    /* 0: 1024 */
	unsigned head_ms;      /* 0: 10 s to send the CONNECT head */
};

/* Listen and serve. 0, or -errno: -EINVAL for a bad URL or host,
 * -EADDRINUSE; the reason is logged. opts' strings are copied. */
int sbx_tunnel_start(const struct sbx_tunnel_opts *opts, struct sbx_tunnel **ret);
/* The TCP port listened on (the real one when opts asked for 0). */
uint16_t sbx_tunnel_port(const struct sbx_tunnel *t);
/* Connections open now (the head being read or relaying). */
unsigned sbx_tunnel_connections(struct sbx_tunnel *t);
/* Stop accepting, cut every connection, wait for their threads, free.
 * NULL is a no-op. */
void sbx_tunnel_stop(struct sbx_tunnel *t);

#endif
