/* See relay.h. */
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define RELAY_BUF (64 * 1024)

/* One direction: bytes read from `from`, not yet written to `to`. */
struct pipe_half {
	char buf[RELAY_BUF];
	size_t len, off;
	bool eof;  /* `from` said EOF; pass it on once the buffer is empty */
	bool shut; /* ...which was done */
};

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Move what can be moved without blocking; false when the connection is
 * done (both halves shut) or broken. */
static bool half_step(struct pipe_half *h, int from, int to, short rev_from)
{
	if (!h->eof && h->len == 0 && (rev_from & (POLLIN | POLLHUP | POLLERR))) {
		ssize_t n = read(from, h->buf, sizeof(h->buf));

		if (n > 0) {
			h->len = (size_t)n;
			h->off = 0;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			h->eof = true;
		}
	}
	if (h->len > 0) {
		ssize_t n = send(to, h->buf + h->off, h->len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			h->off += (size_t)n;
			h->len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return false;
		}
	}
	if (h->eof && h->len == 0 && !h->shut) {
		shutdown(to, SHUT_WR);
		h->shut = true;
	}
	return true;
}

void sbx_relay(int a, int b, _Atomic int64_t *last_ms)
{
	struct pipe_half *h = malloc(2 * sizeof(*h));
	int fds[2] = {a, b};

	if (!h)
		return;
	h[0].len = h[1].len = 0;
	h[0].eof = h[1].eof = h[0].shut = h[1].shut = false;
	set_nonblock(a);
	set_nonblock(b);
	while (!(h[0].shut && h[1].shut)) {
		struct pollfd p[2];

		for (int i = 0; i < 2; i++) {
			/* fd i reads into half i and writes half 1-i. */
			p[i].fd = fds[i];
			p[i].events = (!h[i].eof && h[i].len == 0 ? POLLIN : 0) |
				      (h[1 - i].len > 0 ? POLLOUT : 0);
			p[i].revents = 0;
		}
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (!half_step(&h[0], a, b, p[0].revents) || !half_step(&h[1], b, a, p[1].revents))
			break;
		if (last_ms)
			atomic_store(last_ms, sbx_clock_ms(CLOCK_REALTIME_COARSE));
		/* A side that hung up in both directions, once what it sent
		 * is passed on, ends it all: nothing more can reach it. */
		if ((p[0].revents | p[1].revents) & POLLERR)
			break;
		if ((p[0].revents & POLLHUP && h[0].eof && h[0].len == 0) ||
		    (p[1].revents & POLLHUP && h[1].eof && h[1].len == 0))
			break;
	}
	free(h);
}

