/* See conns.h. */
#include "conns.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

struct sbx_conns {
	struct sbx_conns_opts o;
	int wake[2];
	pthread_t acceptor;

	pthread_mutex_t lock; /* guards the rest */
	pthread_cond_t idle;
	struct sbx_conn *conns;
	unsigned n_conns;
	bool closing;
};

static void conn_unlink(struct sbx_conn *c)
{
	struct sbx_conns *s = c->set;

	pthread_mutex_lock(&s->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	close(c->fd[0]);
	if (c->fd[1] >= 0)
		close(c->fd[1]);
	free(c);
	if (--s->n_conns == 0)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
}

void sbx_conn_set_peer(struct sbx_conn *c, int fd)
{
	pthread_mutex_lock(&c->set->lock);
	c->fd[1] = fd;
	/* A stop that came while connecting has cut fd[0] already; cut this
	 * one too so that what serves it ends at once. */
	if (c->set->closing)
		shutdown(fd, SHUT_RDWR);
	pthread_mutex_unlock(&c->set->lock);
}

static void *conn_main(void *arg)
{
	struct sbx_conn *c = arg;

	c->set->o.serve(c, c->set->o.arg);
	conn_unlink(c);
	return NULL;
}

static void accept_one(struct sbx_conns *s)
{
	int fd = accept4(s->o.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	struct sbx_conn *c = NULL;
	pthread_attr_t attr;
	pthread_t t;

	if (fd < 0)
		return;
	if (s->o.accepted)
		s->o.accepted(s->o.arg);
	pthread_mutex_lock(&s->lock);
	if (!s->o.max || s->n_conns < s->o.max)
		c = calloc(1, sizeof(*c));
	if (c) {
		c->set = s;
		c->fd[0] = fd;
		c->fd[1] = -1;
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->n_conns++;
	}
	pthread_mutex_unlock(&s->lock);
	if (!c) {
		if (s->o.refuse)
			s->o.refuse(fd);
		close(fd);
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&t, &attr, conn_main, c) != 0)
		conn_unlink(c);
	pthread_attr_destroy(&attr);
}

static void *acceptor_main(void *arg)
{
	struct sbx_conns *s = arg;

	for (;;) {
		struct pollfd p[2] = {{s->o.listen_fd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN)
			accept_one(s);
	}
	return NULL;
}

int sbx_conns_start(const struct sbx_conns_opts *o, struct sbx_conns **ret)
{
	struct sbx_conns *s = calloc(1, sizeof(*s));
	int r;

	if (!s) {
		close(o->listen_fd);
		return -ENOMEM;
	}
	s->o = *o;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	r = pipe2(s->wake, O_CLOEXEC) < 0 ? -errno : 0;
	if (r == 0) {
		r = -pthread_create(&s->acceptor, NULL, acceptor_main, s);
		if (r < 0) {
			close(s->wake[0]);
			close(s->wake[1]);
		}
	}
	if (r < 0) {
		close(o->listen_fd);
		pthread_cond_destroy(&s->idle);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

unsigned sbx_conns_count(struct sbx_conns *s)
{
	unsigned n;

	pthread_mutex_lock(&s->lock);
	n = s->n_conns;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void sbx_conns_stop(struct sbx_conns *s)
{
	if (!s)
		return;
	if (write(s->wake[1], "x", 1) < 0)
		log_warn("cannot wake an acceptor: %m");
	pthread_join(s->acceptor, NULL);
	close(s->o.listen_fd);
	pthread_mutex_lock(&s->lock);
	s->closing = true;
	for (struct sbx_conn *c = s->conns; c; c = c->next) {
		shutdown(c->fd[0], SHUT_RDWR);
		if (c->fd[1] >= 0)
			shutdown(c->fd[1], SHUT_RDWR);
	}
	while (s->n_conns > 0)
		pthread_cond_wait(&s->idle, &s->lock);
	pthread_mutex_unlock(&s->lock);
	close(s->wake[0]);
	close(s->wake[1]);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
