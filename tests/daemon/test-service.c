/* daemon/service/: the forwarder relays a unix socket to a port inside a
 * network namespace of the daemon's (both directions, large transfers,
 * half-close, a target that is down, close with connections open), and a
 * service starts, becomes ready, stops, starts again in a fresh namespace
 * and reports a run that ended by itself. The "process" here is a thread
 * listening inside the namespace, so no sandbox is needed; making a
 * network namespace needs CAP_SYS_ADMIN, so the test skips without it. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "engine.h"
#include "forward.h"
#include "service.h"
#include "testlib.h"

#define PORT 3000
#define BIG (8u << 20)

static char dir[] = "/tmp/sbx-test-service-XXXXXX";

/* A listening socket on 127.0.0.1:PORT inside netns. */
static int listen_in(int netns)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	int one = 1, fd = sbx_engine_netns_socket(netns, AF_INET, SOCK_STREAM);

	if (fd < 0)
		return fd;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* Echo every connection until EOF, then half-close; until the listener
 * is shut down. */
static void *echo_server(void *arg)
{
	int lfd = (int)(intptr_t)arg;
	char buf[65536];

	for (;;) {
		int c = accept(lfd, NULL, NULL);
		ssize_t n;

		if (c < 0)
			break;
		while ((n = read(c, buf, sizeof(buf))) > 0)
			if (write(c, buf, (size_t)n) != n)
				break;
		shutdown(c, SHUT_WR);
		close(c);
	}
	return NULL;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(path);
	int fd;

	/* A truncated path would connect to another socket, or none. */
	if (n >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, n + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int netns_of_test = -1;

static int target(void *arg)
{
	(void)arg;
	return netns_of_test < 0 ? -ECONNREFUSED : dup(netns_of_test);
}

struct pump {
	int fd;
	size_t sent;
};

static void *writer(void *arg)
{
	struct pump *p = arg;
	char *buf = malloc(65536);

	for (size_t i = 0; i < 65536; i++)
		buf[i] = (char)(i * 7);
	while (p->sent < BIG) {
		ssize_t n = write(p->fd, buf, 65536);

		if (n <= 0)
			break;
		p->sent += (size_t)n;
	}
	shutdown(p->fd, SHUT_WR);
	free(buf);
	return NULL;
}

static void test_forward(void)
{
	char path[128], buf[65536];
	struct sbx_forward *f = NULL;
	struct pump p = {0};
	pthread_t srv, w;
	size_t got = 0;
	ssize_t n;
	int lfd, fd;

	CHECK(sbx_engine_netns_new(&netns_of_test) == 0);
	lfd = listen_in(netns_of_test);
	CHECKF(lfd >= 0, "listen in the netns: %s", strerror(-lfd));
	if (lfd < 0)
		return;
	pthread_create(&srv, NULL, echo_server, (void *)(intptr_t)lfd);
	snprintf(path, sizeof(path), "%s/fw.sock", dir);
	CHECK(sbx_forward_open(path, PORT, target, NULL, &f) == 0);

	/* 8 MiB both ways at once: neither direction stalls the other. */
	fd = connect_unix(path);
	CHECK(fd >= 0);
	p.fd = fd;
	pthread_create(&w, NULL, writer, &p);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		got += (size_t)n;
	pthread_join(w, NULL);
	CHECKF(p.sent == BIG && got == BIG, "sent %zu, echoed %zu", p.sent, got);
	close(fd);

	/* Nothing listens on the host's own loopback port 3000 for it: the
	 * namespace is the service's, not ours. */
	{
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT)};
		int s = socket(AF_INET, SOCK_STREAM, 0);

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		CHECK(connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0);
		close(s);
	}

	/* A connection left open is cut by the close, which then returns. */
	fd = connect_unix(path);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1 && read(fd, buf, 1) == 1);
	sbx_forward_close(f);
	CHECK(read(fd, buf, 1) <= 0);
	close(fd);
	CHECK(access(path, F_OK) != 0);

	/* A target that is down: connections close at once. */
	close(netns_of_test);
	netns_of_test = -1;
	CHECK(sbx_forward_open(path, PORT, target, NULL, &f) == 0);
	fd = connect_unix(path);
	CHECK(fd >= 0 && read(fd, buf, 1) == 0);
	close(fd);
	sbx_forward_close(f);

	shutdown(lfd, SHUT_RDWR);
	pthread_join(srv, NULL);
	close(lfd);
}

/* A fake service process: listens in the namespace (after a short boot,
 * so wait_ready has to wait), echoes until cancelled, or exits at once
 * when told to. */
struct fake {
	pthread_mutex_t lock;
	int lfd;
	bool cancelled, exit_at_once;
	unsigned runs;
};

static int fake_run(void *arg, int netns_fd, char **ret_note)
{
	struct fake *fk = arg;
	pthread_t srv;
	int lfd;

	pthread_mutex_lock(&fk->lock);
	fk->runs++;
	pthread_mutex_unlock(&fk->lock);
	if (fk->exit_at_once) {
		*ret_note = strdup("exited with code 3");
		return 0;
	}
	usleep(100 * 1000);
	lfd = listen_in(netns_fd);
	if (lfd < 0)
		return lfd;
	pthread_mutex_lock(&fk->lock);
	fk->lfd = lfd;
	if (fk->cancelled)
		shutdown(lfd, SHUT_RDWR);
	pthread_mutex_unlock(&fk->lock);
	pthread_create(&srv, NULL, echo_server, (void *)(intptr_t)lfd);
	pthread_join(srv, NULL);
	close(lfd);
	pthread_mutex_lock(&fk->lock);
	fk->lfd = -1;
	fk->cancelled = false;
	pthread_mutex_unlock(&fk->lock);
	return 0;
}

static void fake_cancel(void *arg)
{
	struct fake *fk = arg;

	pthread_mutex_lock(&fk->lock);
	fk->cancelled = true;
	if (fk->lfd >= 0)
		shutdown(fk->lfd, SHUT_RDWR);
	pthread_mutex_unlock(&fk->lock);
}

static const struct sbx_service_ops fake_ops = {fake_run, fake_cancel};

static void test_service(void)
{
	struct fake fk = {.lock = PTHREAD_MUTEX_INITIALIZER, .lfd = -1};
	struct sbx_service_info info;
	struct sbx_service *s = NULL;
	char path[128], buf[4];
	int fd;

	snprintf(path, sizeof(path), "%s/svc.sock", dir);
	CHECK(sbx_service_new(path, PORT, 0, &fake_ops, &fk, &s) == 0);
	if (!s)
		return;
	CHECK(sbx_service_wait_ready(s, 100) == -ECONNREFUSED); /* never started */
	for (int round = 0; round < 3; round++) {
		CHECK(sbx_service_start(s) == 0);
		CHECK(sbx_service_start(s) == 0); /* starting already: a no-op */
		CHECK(sbx_service_wait_ready(s, 10000) == 0);
		sbx_service_info(s, &info);
		CHECK(info.state == SBX_SERVICE_RUNNING && info.starts == (unsigned)round + 1);
		fd = connect_unix(path);
		CHECK(fd >= 0 && write(fd, "ping", 4) == 4 && read(fd, buf, 4) == 4 &&
		      memcmp(buf, "ping", 4) == 0);
		close(fd);
		sbx_service_stop(s);
		sbx_service_info(s, &info);
		CHECK(info.state == SBX_SERVICE_STOPPED);
		fd = connect_unix(path);
		CHECK(fd >= 0 && read(fd, buf, 1) == 0); /* down: closed at once */
		close(fd);
	}
	fk.exit_at_once = true;
	CHECK(sbx_service_start(s) == 0);
	CHECK(sbx_service_wait_ready(s, 10000) == -ECONNREFUSED);
	sbx_service_info(s, &info);
	CHECKF(info.state == SBX_SERVICE_EXITED && strcmp(info.note, "exited with code 3") == 0,
	       "state %s, note '%s'", sbx_service_state_name(info.state), info.note);
	fk.exit_at_once = false;
	CHECK(sbx_service_start(s) == 0);
	CHECK(sbx_service_wait_ready(s, 10000) == 0);
	sbx_service_free(s); /* stops it */
	CHECK(fk.runs == 5);

	/* With wake_ms, a connection to the stopped service starts it and
	 * waits for its port: a client that kept the socket's path wakes it. */
	CHECK(sbx_service_new(path, PORT, 10000, &fake_ops, &fk, &s) == 0);
	if (!s)
		return;
	fd = connect_unix(path);
	CHECK(fd >= 0 && write(fd, "wake", 4) == 4 && read(fd, buf, 4) == 4 &&
	      memcmp(buf, "wake", 4) == 0);
	close(fd);
	sbx_service_info(s, &info);
	CHECK(info.state == SBX_SERVICE_RUNNING && info.last_activity_ms > 0);
	sbx_service_free(s);
	CHECK(fk.runs == 6);
}

int main(void)
{
	int probe = -1, r = sbx_engine_netns_new(&probe);

	if (r == -EPERM)
		SKIP("network namespaces need CAP_SYS_ADMIN here (%s)", strerror(-r));
	CHECK(r == 0);
	if (probe >= 0)
		close(probe);
	CHECK(mkdtemp(dir) != NULL);
	test_forward();
	test_service();
	rmdir(dir);
	TEST_DONE();
}
