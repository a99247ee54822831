/* One publisher's subscription (several make a struct sbx_subscription,
 * client/subscribe_set.c): a minimal SP subscriber of the daemon's pub socket,
 * on a plain stream socket, and one thread that reads, filters on the
 * topic prefix, decodes each message ("<topic>\0" + packed sbx.Event) and
 * hands it to the callback.
 *
 * Why not an nng sub0 socket: nng 1.5.2 (Debian bookworm) can deadlock in
 * nng_close when a sub socket is closed while messages are still arriving
 * (nanomsg/nng#1543, #1813; fixed only in nng 1.8): the pipe's receive aio
 * is caught between nni_aio_begin and nni_aio_schedule, nni_aio_stop waits
 * for a task that nobody will run, the reaper thread blocks for good and
 * every later close in the process with it. A subscriber only reads, so
 * speaking the wire protocol ourselves is small, and closing is close(2).
 *
 * Wire (nng's SP transports): each side sends "\0SP\0", its 16-bit
 * protocol id (big-endian; pub0 0x20, sub0 0x21) and two zero bytes; then
 * the publisher sends messages, each prefixed with a 64-bit big-endian
 * length, which ipc:// precedes with a one-byte message type (1). SP
 * subscribers filter on their side: the publisher sends every event. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sandbox.h"
#include "subframe.h"
#include "subscribe.h"

#define SUB_URL_MAX 512
#define SUB_HANDSHAKE_MS 5000
#define SUB_REDIAL_MIN_MS 10
#define SUB_REDIAL_MAX_MS 1000
#define SP_PROTO_PUB0 0x20
#define SP_PROTO_SUB0 0x21

struct sub_one {
	char url[SUB_URL_MAX];
	bool ipc; /* ipc://: frames carry a type byte */
	char *prefix;
	int wake[2]; /* close writes here: the thread's polls end */
	pthread_t thread;
	int connected; /* atomic */
	int stop;      /* atomic: set by close, checked between messages */
	struct sbx_sub_reader reader; /* frames -> events (client/subframe.h) */
};

static bool stopping(struct sub_one *s)
{
	struct pollfd p = {.fd = s->wake[0], .events = POLLIN};

	return poll(&p, 1, 0) > 0;
}

/* Wait until fd has `events` or ms pass (-1: no limit). 1 ready, 0 timed
 * out, -1 stopping or error. */
static int wait_fd(struct sub_one *s, int fd, short events, int ms)
{
	struct pollfd p[2] = {{.fd = s->wake[0], .events = POLLIN}, {.fd = fd, .events = events}};

	for (;;) {
		int n = poll(p, fd >= 0 ? 2 : 1, ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || p[0].revents)
			return -1;
		return n > 0 ? 1 : 0;
	}
}

/* A connected, non-blocking stream socket, or -1. */
static int dial(struct sub_one *s)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	const struct sockaddr *sa;
	socklen_t salen;
	int fd, err = 0;

	if (s->ipc) {
		snprintf(un.sun_path, sizeof(un.sun_path), "%s", s->url + 6);
		sa = (const struct sockaddr *)&un;
		salen = sizeof(un);
	} else {
		/* tcp://host:port, host may be [v6]. */
		char host[256], *port;
		snprintf(host, sizeof(host), "%s", s->url + 6);
		port = strrchr(host, ':');
		if (!port)
			return -1;
		*port++ = 0;
		char *h = host;
		if (*h == '[' && h[strlen(h) - 1] == ']') {
			h[strlen(h) - 1] = 0;
			h++;
		}
		/* An address needs no resolver (nor its modules' memory). */
		hints.ai_flags = AI_NUMERICHOST;
		if (getaddrinfo(*h ? h : NULL, port, &hints, &ai) != 0) {
			hints.ai_flags = 0;
			if (getaddrinfo(*h ? h : NULL, port, &hints, &ai) != 0 || !ai)
				return -1;
		}
		sa = ai->ai_addr;
		salen = ai->ai_addrlen;
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0 && connect(fd, sa, salen) < 0) {
		socklen_t l = sizeof(err);
		if (errno != EINPROGRESS || wait_fd(s, fd, POLLOUT, SUB_HANDSHAKE_MS) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0 || err != 0) {
			close(fd);
			fd = -1;
		}
	}
	if (ai)
		freeaddrinfo(ai);
	return fd;
}

/* Read exactly len bytes within the handshake time. 0 or -1. */
static int read_exact(struct sub_one *s, int fd, uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = recv(fd, p, len, 0);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR) ||
			   wait_fd(s, fd, POLLIN, SUB_HANDSHAKE_MS) != 1) {
			return -1;
		}
	}
	return 0;
}

static int handshake(struct sub_one *s, int fd)
{
	const uint8_t mine[8] = {0, 'S', 'P', 0, 0, SP_PROTO_SUB0, 0, 0};
	uint8_t peer[8];

	/* Eight bytes always fit in a fresh socket's buffer. */
	if (send(fd, mine, sizeof(mine), MSG_NOSIGNAL) != (ssize_t)sizeof(mine) ||
	    read_exact(s, fd, peer, sizeof(peer)) < 0)
		return -1;
	if (memcmp(peer, "\0SP\0", 4) != 0 || peer[4] != 0 || peer[5] != SP_PROTO_PUB0)
		return -1;
	return 0;
}

/* Read and deliver messages until the connection ends or close is called. */
static void read_loop(struct sub_one *s, int fd)
{
	struct sbx_sub_reader *r = &s->reader;

	r->have = 0; /* a new connection starts with a new frame */
	for (;;) {
		size_t room;
		uint8_t *space = sbx_sub_reader_space(r, &room);
		ssize_t n = recv(fd, space, room, 0);
		if (n == 0)
			return;
		if (n < 0) {
			if ((errno != EAGAIN && errno != EINTR) || wait_fd(s, fd, POLLIN, -1) != 1)
				return;
			continue;
		}
		if (sbx_sub_reader_commit(r, (size_t)n) < 0)
			return; /* not what a pub0 sends: redial */
	}
}

static void *run(void *arg)
{
	struct sub_one *s = arg;
	int backoff = SUB_REDIAL_MIN_MS;

	/* Ends when sub_one_close writes to the wake pipe. */
	while (!stopping(s)) {
		int fd = dial(s);
		if (fd >= 0 && handshake(s, fd) == 0) {
			backoff = SUB_REDIAL_MIN_MS;
			__atomic_store_n(&s->connected, 1, __ATOMIC_RELAXED);
			read_loop(s, fd);
			__atomic_store_n(&s->connected, 0, __ATOMIC_RELAXED);
		}
		if (fd >= 0)
			close(fd);
		if (wait_fd(s, -1, 0, backoff) < 0)
			break;
		backoff = backoff * 2 < SUB_REDIAL_MAX_MS ? backoff * 2 : SUB_REDIAL_MAX_MS;
	}
	return NULL;
}

void sub_one_close(struct sub_one *s)
{
	if (!s)
		return;
	if (s->wake[1] >= 0) {
		__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
		(void)!write(s->wake[1], "x", 1);
		pthread_join(s->thread, NULL);
	}
	if (s->wake[0] >= 0)
		close(s->wake[0]);
	if (s->wake[1] >= 0)
		close(s->wake[1]);
	sbx_sub_reader_fini(&s->reader);
	free(s->prefix);
	free(s);
}

int sub_one_open(const char *events_url, const char *topic_prefix, sbx_event_cb cb, void *arg,
		 struct sub_one **ret)
{
	struct sub_one *s;
	const char *url = events_url ? events_url : SBX_DEFAULT_EVENTS_URL;

	if (!cb || !topic_prefix || strlen(url) >= SUB_URL_MAX ||
	    (strncmp(url, "ipc://", 6) != 0 && strncmp(url, "tcp://", 6) != 0) ||
	    (strncmp(url, "ipc://", 6) == 0 &&
	     strlen(url + 6) >= sizeof(((struct sockaddr_un *)0)->sun_path)))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->wake[0] = s->wake[1] = -1;
	snprintf(s->url, sizeof(s->url), "%s", url);
	s->ipc = strncmp(url, "ipc://", 6) == 0;
	s->prefix = strdup(topic_prefix);
	if (!s->prefix || sbx_sub_reader_init(&s->reader, s->ipc, s->prefix, cb, arg, &s->stop) < 0 ||
	    pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		sub_one_close(s);
		return -ENOMEM;
	}
	if (pthread_create(&s->thread, NULL, run, s) != 0) {
		close(s->wake[1]);
		s->wake[1] = -1; /* no thread to stop */
		sub_one_close(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

int sub_one_connected(struct sub_one *s)
{
	return __atomic_load_n(&s->connected, __ATOMIC_RELAXED);
}
