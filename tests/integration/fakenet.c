/* Fake hosts behind veths (fakenet.h). The plumbing is iproute2's `ip`:
 * this is test set-up, not the daemon (which never runs `ip`). */
#include "fakenet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define HELD_MAX 128

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	if (st != 0)
		fprintf(stderr, "fakenet: '%s' failed (%d)\n", cmd, st);
	return st == 0 ? 0 : -1;
}

bool fakenet_possible(void)
{
	return geteuid() == 0 && system("ip -V >/dev/null 2>&1") == 0;
}

static int listen_tcp(unsigned short port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);

	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 64) < 0)
		return -1;
	return s;
}

/* A: name -> dns_addr; anything else NXDOMAIN. Queries as our resolver
 * sends them: one question, uncompressed. */
static void dns_answer(const struct fakenet_host *h, int s)
{
	unsigned char q[512], out[600];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(s, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
	char name[256] = "";
	size_t off = 12, k = 0;

	if (n < 17)
		return;
	while (off < (size_t)n && q[off] && k + q[off] + 1 < sizeof(name)) {
		if (k)
			name[k++] = '.';
		memcpy(name + k, q + off + 1, q[off]);
		k += q[off];
		off += 1 + q[off];
	}
	name[k] = 0;
	off += 5; /* root label, type, class */
	if (off > (size_t)n)
		return;
	bool hit = strcasecmp(name, h->dns_name) == 0 && q[off - 3] == 1;
	memcpy(out, q, off);
	out[2] = 0x81, out[3] = hit ? 0x80 : 0x83;
	out[6] = 0, out[7] = hit, out[8] = out[9] = out[10] = out[11] = 0;
	if (hit) {
		unsigned char rr[12] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4};
		memcpy(out + off, rr, 12);
		inet_pton(AF_INET, h->dns_addr, out + off + 12);
		off += 16;
	}
	sendto(s, out, off, 0, (struct sockaddr *)&from, fl);
}

/* The servers' loop, in the fake host's namespace: TCP greets and holds
 * each connection until the peer closes (so conntrack counts it). */
static void serve(const struct fakenet_host *h)
{
	struct pollfd p[FAKENET_MAX_PORTS + 1 + HELD_MAX];
	unsigned np = 0, nl;

	for (unsigned i = 0; i < FAKENET_MAX_PORTS && h->ports[i]; i++)
		p[np++] = (struct pollfd){.fd = listen_tcp(h->ports[i]), .events = POLLIN};
	nl = np;
	if (h->dns_name) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(53)};
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		inet_pton(AF_INET, h->addrs[0], &a.sin_addr);
		if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0)
			p[np++] = (struct pollfd){.fd = s, .events = POLLIN};
	}
	unsigned fixed = np;
	for (;;) {
		if (poll(p, np, -1) < 0)
			continue;
		for (unsigned i = 0; i < np; i++) {
			if (!p[i].revents)
				continue;
			if (i < nl) {
				struct sockaddr_in peer;
				socklen_t pl = sizeof(peer);
				int c = accept(p[i].fd, (struct sockaddr *)&peer, &pl);
				char msg[64], ip[INET_ADDRSTRLEN];
				if (c < 0)
					continue;
				inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip));
				int m = snprintf(msg, sizeof(msg), "hello %u from %s\n",
						 h->ports[i], ip);
				if (write(c, msg, (size_t)m) < 0 || np >= fixed + HELD_MAX)
					close(c);
				else
					p[np++] = (struct pollfd){.fd = c, .events = POLLIN};
			} else if (i < fixed) {
				dns_answer(h, p[i].fd);
			} else {
				char b[64];
				if (read(p[i].fd, b, sizeof(b)) <= 0) {
					close(p[i].fd);
					p[i--] = p[--np];
				}
			}
		}
	}
}

static pid_t start_server(const struct fakenet_host *h)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	char path[64];
	snprintf(path, sizeof(path), "/run/netns/%s", h->ns);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
		_exit(1);
	serve(h);
	_exit(0);
}

int fakenet_up(struct fakenet_host *h)
{
	if (sh("ip netns add %s", h->ns) < 0)
		return -1;
	if (sh("ip link add %s type veth peer name eth0 netns %s", h->veth, h->ns) < 0 ||
	    sh("ip addr add %s dev %s && ip link set %s up", h->host_cidr, h->veth, h->veth) < 0 ||
	    sh("echo 1 > /proc/sys/net/ipv4/conf/%s/forwarding", h->veth) < 0 ||
	    sh("ip -n %s link set lo up && ip -n %s link set eth0 up", h->ns, h->ns) < 0)
		return -1;
	for (unsigned i = 0; i < FAKENET_MAX_ADDRS && h->addrs[i]; i++)
		if (sh("ip -n %s addr add %s/24 dev eth0", h->ns, h->addrs[i]) < 0)
			return -1;
	char gw[24];
	snprintf(gw, sizeof(gw), "%.*s", (int)strcspn(h->host_cidr, "/"), h->host_cidr);
	if (sh("ip -n %s route add default via %s", h->ns, gw) < 0)
		return -1;
	h->server = start_server(h);
	usleep(200000); /* the servers bind */
	return h->server > 0 ? 0 : -1;
}

void fakenet_fini(struct fakenet_host *h)
{
	if (h->server > 0) {
		kill(h->server, SIGKILL);
		waitpid(h->server, NULL, 0);
		h->server = 0;
	}
	if (!h->ns[0])
		return;
	char cmd[160];
	/* The namespace's end goes with it, and the host end with its peer. */
	snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null; ip link del %s 2>/dev/null", h->ns,
		 h->veth);
	if (system(cmd) < 0)
		perror("system");
	h->ns[0] = 0;
}
