/* bench-http-ref: the reference of bench-http. A bare libmicrohttpd
 * responder in the gateway's threading mode (internal polling thread,
 * epoll, a pool of 4 threads by default, suspend/resume allowed) that
 * answers GET /health with the gateway's JSON body and no RPC behind it, so
 * gateway/reference is what routing, the RPC to the daemon and the JSON
 * mapping cost on top of MHD itself.
 *
 *   bench-http-ref --listen 127.0.0.1:PORT [--threads N]
 *
 * Serves until SIGTERM or SIGINT. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REF_BODY "{\"status\":\"ok\",\"service\":\"sandbox-service\",\"version\":\"0.1.0\"}"
#define REF_NOT_FOUND "{\"error\":\"not found\"}"

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const char *body)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	/* One response per request, as a real handler builds one. */
	resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	static int request_seen; /* its address marks a request's first call */

	/* The first call comes with the headers only. A response queued then
	 * makes MHD close the connection after it (it has not read the whole
	 * request yet), which would cost a TCP handshake per request: answer
	 * on the next call, as the gateway does once the request is read. */
	if (*con_cls != &request_seen) {
		*con_cls = &request_seen;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* a body is read and ignored */
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) == 0 && strcmp(url, "/health") == 0)
		return respond(conn, MHD_HTTP_OK, REF_BODY);
	return respond(conn, MHD_HTTP_NOT_FOUND, REF_NOT_FOUND);
}

/* "127.0.0.1:PORT" -> *sin; only loopback addresses are accepted. */
static int parse_listen(const char *s, struct sockaddr_in *sin)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	unsigned long port;
	char *end;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port == 0 || port > 65535)
		return -EINVAL;
	*sin = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1 ||
	    (ntohl(sin->sin_addr.s_addr) >> 24) != 127)
		return -EINVAL;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-http-ref --listen 127.0.0.1:PORT [--threads N (1-64)]\n");
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {0};
	struct MHD_Daemon *d;
	unsigned long threads = 4;
	sigset_t sigs;
	char *end;
	int sig;

	if (argc != 3 && argc != 5) {
		usage();
		return 2;
	}
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--listen") == 0 && parse_listen(argv[i + 1], &sin) == 0)
			continue;
		if (strcmp(argv[i], "--threads") == 0) {
			errno = 0;
			threads = strtoul(argv[i + 1], &end, 10);
			if (!errno && !*end && threads >= 1 && threads <= 64)
				continue;
		}
		usage();
		return 2;
	}
	if (sin.sin_family != AF_INET) {
		usage();
		return 2;
	}
	/* Blocked before MHD starts its threads, so sigwait() gets them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* The gateway's flags: it suspends connections while their RPC is in
	 * flight, and MHD_ALLOW_SUSPEND_RESUME changes its event loop (an
	 * inter-thread channel), so the reference carries that cost too. */
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
				     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG,
			     0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
			     (struct sockaddr *)&sin, MHD_OPTION_THREAD_POOL_SIZE,
			     (unsigned)threads, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "bench-http-ref: cannot listen on 127.0.0.1:%u\n",
			ntohs(sin.sin_port));
		return 1;
	}
	sigwait(&sigs, &sig);
	MHD_stop_daemon(d);
	return 0;
}
