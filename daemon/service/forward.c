/* See forward.h. */
#include "forward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "clock.h"
#include "engine.h"
#include "log.h"
#include "relay.h"

struct conn {
	struct conn *next, *prev;
	struct sbx_forward *f;
	int fd[2]; /* 0: the client (unix), 1: the service (tcp) */
};

struct sbx_forward {
	char *path;
	uint16_t port;
	sbx_forward_target_fn target;
	void *arg;
	int listen_fd, wake[2];
	pthread_t acceptor;
	_Atomic int64_t last_ms; /* wall clock of the last byte relayed */

	pthread_mutex_t lock; /* guards the rest */
	pthread_cond_t idle;
	struct conn *conns;
	unsigned n_conns;
	bool closing;
};

static int connect_service(struct sbx_forward *f)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(f->port)};
	_cleanup_close_ int ns = f->target(f->arg);
	int s, one = 1;

	if (ns < 0)
		return ns;
	s = sbx_engine_netns_socket(ns, AF_INET, SOCK_STREAM);
	if (s < 0)
		return s;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(s);
		return r;
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return s;
}

static void conn_unlink(struct conn *c)
{
	struct sbx_forward *f = c->f;

	pthread_mutex_lock(&f->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		f->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	close(c->fd[0]);
	if (c->fd[1] >= 0)
		close(c->fd[1]);
	free(c);
	if (--f->n_conns == 0)
		pthread_cond_broadcast(&f->idle);
	pthread_mutex_unlock(&f->lock);
}

static void *relay_main(void *arg)
{
	struct conn *c = arg;
	int s = connect_service(c->f);

	if (s >= 0) {
		pthread_mutex_lock(&c->f->lock);
		c->fd[1] = s;
		/* A close that came while connecting has cut fd[0] already;
		 * cut this one too so the relay ends at once. */
		if (c->f->closing)
			shutdown(s, SHUT_RDWR);
		pthread_mutex_unlock(&c->f->lock);
		sbx_relay(c->fd[0], s, &c->f->last_ms);
	}
	conn_unlink(c);
	return NULL;
}

static void accept_one(struct sbx_forward *f)
{
	int fd = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	pthread_attr_t attr;
	pthread_t t;
	struct conn *c;

	if (fd < 0)
		return;
	atomic_store(&f->last_ms, sbx_clock_ms(CLOCK_REALTIME_COARSE));
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->f = f;
	c->fd[0] = fd;
	c->fd[1] = -1;
	pthread_mutex_lock(&f->lock);
	c->next = f->conns;
	if (f->conns)
		f->conns->prev = c;
	f->conns = c;
	f->n_conns++;
	pthread_mutex_unlock(&f->lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&t, &attr, relay_main, c) != 0)
		conn_unlink(c);
	pthread_attr_destroy(&attr);
}

static void *acceptor_main(void *arg)
{
	struct sbx_forward *f = arg;

	for (;;) {
		struct pollfd p[2] = {{f->listen_fd, POLLIN, 0}, {f->wake[0], POLLIN, 0}};

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN)
			accept_one(f);
	}
	return NULL;
}

int sbx_forward_open(const char *path, uint16_t port, sbx_forward_target_fn target, void *arg,
		     struct sbx_forward **ret)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct sbx_forward *f;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->listen_fd = f->wake[0] = f->wake[1] = -1;
	f->port = port;
	f->target = target;
	f->arg = arg;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->idle, NULL);
	f->path = strdup(path);
	if (!f->path) {
		r = -ENOMEM;
		goto fail;
	}
	strcpy(sa.sun_path, path);
	unlink(path);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0666) < 0 || listen(f->listen_fd, 128) < 0 ||
	    pipe2(f->wake, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	r = -pthread_create(&f->acceptor, NULL, acceptor_main, f);
	if (r < 0)
		goto fail;
	*ret = f;
	return 0;
fail:
	if (f->listen_fd >= 0) {
		close(f->listen_fd);
		unlink(path);
	}
	if (f->wake[0] >= 0) {
		close(f->wake[0]);
		close(f->wake[1]);
	}
	free(f->path);
	free(f);
	return r;
}

void sbx_forward_close(struct sbx_forward *f)
{
	if (!f)
		return;
	if (write(f->wake[1], "x", 1) < 0)
		log_warn("forwarder %s: cannot wake the acceptor", f->path);
	pthread_join(f->acceptor, NULL);
	close(f->listen_fd);
	unlink(f->path);
	pthread_mutex_lock(&f->lock);
	f->closing = true;
	for (struct conn *c = f->conns; c; c = c->next) {
		shutdown(c->fd[0], SHUT_RDWR);
		if (c->fd[1] >= 0)
			shutdown(c->fd[1], SHUT_RDWR);
	}
	while (f->n_conns > 0)
		pthread_cond_wait(&f->idle, &f->lock);
	pthread_mutex_unlock(&f->lock);
	close(f->wake[0]);
	close(f->wake[1]);
	pthread_cond_destroy(&f->idle);
	pthread_mutex_destroy(&f->lock);
	free(f->path);
	free(f);
}

unsigned sbx_forward_connections(struct sbx_forward *f)
{
	unsigned n;

	pthread_mutex_lock(&f->lock);
	n = f->n_conns;
	pthread_mutex_unlock(&f->lock);
	return n;
}

int sbx_forward_socket_path(const char *dir, const char *id, char **ret)
{
	return asprintf(ret, "%s/%s.sock", dir, id) < 0 ? -ENOMEM : 0;
}

int64_t sbx_forward_last_activity(struct sbx_forward *f)
{
	return atomic_load(&f->last_ms);
}
