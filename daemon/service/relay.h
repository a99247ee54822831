/* A byte relay between two connected stream sockets, used by the
 * forwarder (forward.h) and the proxy tunnel (tunnel/tunnel.h): two
 * bounded buffers (64 KiB each way) and non-blocking I/O, so that neither
 * direction can stall the other; a side that stops reading stops the other
 * side's reads (backpressure); a half-close (EOF) is passed on with
 * shutdown(SHUT_WR) once what came before it is written. */
#ifndef SBX_RELAY_H
#define SBX_RELAY_H

#include <stdatomic.h>
#include <stdint.h>

/* Relay between a and b until both directions have ended, or one side
 * fails or hangs up for good; blocks the calling thread. Both fds are
 * made non-blocking and left open (the caller closes them; a shutdown()
 * from another thread ends the relay). last_ms (NULL: none) is set to
 * the wall clock after every step that moved bytes or saw an event. */
void sbx_relay(int a, int b, _Atomic int64_t *last_ms);

#endif
