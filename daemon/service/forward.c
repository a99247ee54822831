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
#include "conns.h"
#include "log.h"
#include "relay.h"

struct sbx_forward {
	char *path;
	uint16_t port;
	sbx_forward_target_fn target;
	void *arg;
	_Atomic int64_t last_ms; /* wall clock of the last byte relayed */
	struct sbx_conns *conns;
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

static void serve(struct sbx_conn *c, void *arg)
{
	struct sbx_forward *f = arg;
	int s = connect_service(f);

	if (s < 0)
		return;
	sbx_conn_set_peer(c, s);
	sbx_relay(c->fd[0], s, &f->last_ms);
}

static void accepted(void *arg)
{
	struct sbx_forward *f = arg;

	atomic_store(&f->last_ms, sbx_clock_ms(CLOCK_REALTIME_COARSE));
}

int sbx_forward_open(const char *path, uint16_t port, sbx_forward_target_fn target, void *arg,
		     struct sbx_forward **ret)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct sbx_forward *f;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->port = port;
	f->target = target;
	f->arg = arg;
	f->path = strdup(path);
	if (!f->path) {
		free(f);
		return -ENOMEM;
	}
	strcpy(sa.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0666) < 0 ||
	    listen(fd, 128) < 0) {
		r = -errno;
		if (fd >= 0)
			close(fd);
	} else {
		r = sbx_conns_start(&(struct sbx_conns_opts){.listen_fd = fd,
							     .serve = serve,
							     .accepted = accepted,
							     .arg = f},
				    &f->conns);
	}
	if (r < 0) {
		unlink(path);
		free(f->path);
		free(f);
		return r;
	}
	*ret = f;
	return 0;
}

void sbx_forward_close(struct sbx_forward *f)
{
	if (!f)
		return;
	sbx_conns_stop(f->conns);
	unlink(f->path);
	free(f->path);
	free(f);
}

unsigned sbx_forward_connections(struct sbx_forward *f)
{
	return sbx_conns_count(f->conns);
}

int sbx_forward_socket_path(const char *dir, const char *id, char **ret)
{
	return asprintf(ret, "%s/%s.sock", dir, id) < 0 ? -ENOMEM : 0;
}

int64_t sbx_forward_last_activity(struct sbx_forward *f)
{
	return atomic_load(&f->last_ms);
}
