/* See service.h. */
#include "service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "engine.h"
#include "forward.h"
#include "log.h"

/* How often wait_ready knocks on the port. */
#define READY_POLL_MS 20

struct sbx_service {
	const struct sbx_service_ops *ops;
	void *arg;
	uint16_t port;
	uint32_t wake_ms; /* a connection to a stopped service starts it; 0: never */
	struct sbx_forward *fw;
	char *socket_path;

	pthread_mutex_t lock; /* guards the rest */
	pthread_cond_t changed;
	enum sbx_service_state state;
	bool thread_live, joinable, stopping;
	pthread_t thread;
	int netns_fd; /* of the run in progress, -1 between runs */
	unsigned starts;
	int64_t started_ms;
	char note[SBX_SENTENCE_MAX];
};

/* The namespace of the run in progress (a new fd), or -ECONNREFUSED. */
static int current_netns(void *arg)
{
	struct sbx_service *s = arg;
	int fd;

	pthread_mutex_lock(&s->lock);
	fd = s->netns_fd < 0 ? -ECONNREFUSED : fcntl(s->netns_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0 && s->netns_fd >= 0)
		fd = -errno;
	pthread_mutex_unlock(&s->lock);
	return fd;
}

static void *service_main(void *arg)
{
	struct sbx_service *s = arg;
	char *note = NULL;
	int netns_fd, r;

	pthread_mutex_lock(&s->lock);
	netns_fd = s->netns_fd;
	pthread_mutex_unlock(&s->lock);
	r = s->ops->run(s->arg, netns_fd, &note);

	pthread_mutex_lock(&s->lock);
	s->thread_live = false;
	s->netns_fd = -1;
	if (s->stopping) {
		s->state = SBX_SERVICE_STOPPED;
		snprintf(s->note, sizeof(s->note), "stopped");
	} else {
		s->state = SBX_SERVICE_EXITED;
		sbx_sentence(s->note, sizeof(s->note), "%s",
			     note    ? note
			     : r < 0 ? strerror(-r)
				     : "the service ended");
	}
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
	close(netns_fd);
	free(note);
	return NULL;
}

/* The forwarder's view: the namespace of the run in progress, once its
 * port accepts connections; a service stopped (scaled to zero) or ended is
 * started first. So a client holding on to the socket's path (the gateway
 * caches it) gets what OpenProxy would have given it. */
static int forward_target(void *arg)
{
	struct sbx_service *s = arg;
	int r;

	if (!s->wake_ms)
		return current_netns(s);
	r = sbx_service_start(s);
	if (r == 0)
		r = sbx_service_wait_ready(s, s->wake_ms);
	return r < 0 ? r : current_netns(s);
}

int sbx_service_new(const char *socket_path, uint16_t port, uint32_t wake_ms,
		    const struct sbx_service_ops *ops, void *arg, struct sbx_service **ret)
{
	struct sbx_service *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->ops = ops;
	s->arg = arg;
	s->port = port;
	s->wake_ms = wake_ms;
	s->netns_fd = -1;
	s->state = SBX_SERVICE_STOPPED;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->changed, NULL);
	s->socket_path = strdup(socket_path);
	r = s->socket_path ? sbx_forward_open(socket_path, port, forward_target, s, &s->fw)
			   : -ENOMEM;
	if (r < 0) {
		free(s->socket_path);
		pthread_cond_destroy(&s->changed);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void sbx_service_free(struct sbx_service *s)
{
	if (!s)
		return;
	sbx_service_stop(s);
	sbx_forward_close(s->fw);
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
	free(s->socket_path);
	free(s);
}

/* Join a thread that ended by itself; call with the lock held. */
static void reap_locked(struct sbx_service *s)
{
	if (s->joinable && !s->thread_live) {
		pthread_join(s->thread, NULL);
		s->joinable = false;
	}
}

int sbx_service_start(struct sbx_service *s)
{
	int netns_fd = -1, r;

	pthread_mutex_lock(&s->lock);
	reap_locked(s);
	if (s->thread_live || s->stopping) {
		/* Starting or running already (or being stopped: the caller
		 * raced a stop and loses). */
		r = s->stopping ? -EBUSY : 0;
		pthread_mutex_unlock(&s->lock);
		return r;
	}
	r = sbx_engine_netns_new(&netns_fd);
	if (r == 0) {
		s->netns_fd = netns_fd;
		s->thread_live = s->joinable = true;
		s->state = SBX_SERVICE_STARTING;
		s->note[0] = '\0';
		s->starts++;
		s->started_ms = sbx_clock_wall_ms();
		r = -pthread_create(&s->thread, NULL, service_main, s);
		if (r < 0) {
			s->thread_live = s->joinable = false;
			s->netns_fd = -1;
			s->state = SBX_SERVICE_EXITED;
			close(netns_fd);
		}
	}
	if (r < 0)
		snprintf(s->note, sizeof(s->note), "cannot start: %s", strerror(-r));
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
	return r;
}

void sbx_service_stop(struct sbx_service *s)
{
	struct timespec ts;

	pthread_mutex_lock(&s->lock);
	if (s->stopping) {
		/* Another thread is stopping it: wait for that. */
		while (s->stopping)
			pthread_cond_wait(&s->changed, &s->lock);
		pthread_mutex_unlock(&s->lock);
		return;
	}
	s->stopping = true;
	/* The run may not have reached the point where it can be cancelled:
	 * cancel again until it returned. */
	while (s->thread_live) {
		pthread_mutex_unlock(&s->lock);
		s->ops->cancel(s->arg);
		pthread_mutex_lock(&s->lock);
		ts = sbx_clock_deadline(CLOCK_REALTIME, 50);
		if (s->thread_live)
			pthread_cond_timedwait(&s->changed, &s->lock, &ts);
	}
	reap_locked(s);
	s->state = SBX_SERVICE_STOPPED;
	s->stopping = false;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
}

/* Whether something accepts connections on the port now. */
static int knock(struct sbx_service *s)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(s->port)};
	int ns = current_netns(s), fd, r;

	if (ns < 0)
		return ns;
	fd = sbx_engine_netns_socket(ns, AF_INET, SOCK_STREAM);
	close(ns);
	if (fd < 0)
		return fd;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	close(fd);
	return r;
}

int sbx_service_wait_ready(struct sbx_service *s, uint32_t timeout_ms)
{
	int64_t deadline = sbx_clock_mono_ms() + timeout_ms;

	for (;;) {
		bool live;
		int r;

		pthread_mutex_lock(&s->lock);
		live = s->thread_live && !s->stopping;
		if (live && s->state == SBX_SERVICE_RUNNING) {
			pthread_mutex_unlock(&s->lock);
			return 0;
		}
		pthread_mutex_unlock(&s->lock);
		if (!live)
			return -ECONNREFUSED;
		r = knock(s);
		if (r == 0) {
			pthread_mutex_lock(&s->lock);
			if (s->thread_live && s->state == SBX_SERVICE_STARTING)
				s->state = SBX_SERVICE_RUNNING;
			pthread_mutex_unlock(&s->lock);
			return 0;
		}
		if (sbx_clock_mono_ms() >= deadline)
			return -ETIMEDOUT;
		usleep(READY_POLL_MS * 1000);
	}
}

void sbx_service_info(struct sbx_service *s, struct sbx_service_info *ret)
{
	pthread_mutex_lock(&s->lock);
	ret->state = s->state;
	ret->starts = s->starts;
	ret->started_ms = s->started_ms;
	ret->last_activity_ms = sbx_forward_last_activity(s->fw);
	snprintf(ret->note, sizeof(ret->note), "%s", s->note);
	pthread_mutex_unlock(&s->lock);
}

const char *sbx_service_socket(const struct sbx_service *s)
{
	return s->socket_path;
}

const char *sbx_service_state_name(enum sbx_service_state st)
{
	static const char *const names[] = {"stopped", "starting", "running", "exited"};

	return st < sizeof(names) / sizeof(names[0]) ? names[st] : "unknown";
}
