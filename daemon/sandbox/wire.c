/* See wire.h. */
#include "wire.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int send_fds(int sock, const int *fds, size_t n, int flags)
{
	char byte = 'x';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * SBX_WIRE_MAX_FDS)];
	} u;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = CMSG_SPACE(sizeof(int) * n),
	};
	if (n == 0 || n > SBX_WIRE_MAX_FDS)
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	for (;;) {
		ssize_t r = sendmsg(sock, &msg, MSG_NOSIGNAL | flags);
		if (r == 1)
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -errno : -EIO;
	}
}

int sbx_wire_send_fds(int sock, const int *fds, size_t n)
{
	return send_fds(sock, fds, n, 0);
}

int sbx_wire_send_fd(int sock, int fd)
{
	return send_fds(sock, &fd, 1, 0);
}

int sbx_wire_send_fd_nowait(int sock, int fd)
{
	return send_fds(sock, &fd, 1, MSG_DONTWAIT);
}

int sbx_wire_recv_fds(int sock, int *fds, size_t *n)
{
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * SBX_WIRE_MAX_FDS)];
	} u;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	ssize_t r;
	do
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ECONNRESET;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len < CMSG_LEN(sizeof(int)))
		return -EBADMSG;
	*n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	memcpy(fds, CMSG_DATA(c), sizeof(int) * *n);
	if (msg.msg_flags & MSG_CTRUNC) {
		for (size_t i = 0; i < *n; i++)
			close(fds[i]);
		return -EBADMSG;
	}
	return 0;
}

int sbx_wire_recv_fd(int sock, int *ret_fd)
{
	int fds[SBX_WIRE_MAX_FDS];
	size_t n = 0;
	int r = sbx_wire_recv_fds(sock, fds, &n);
	if (r < 0)
		return r;
	for (size_t i = 1; i < n; i++)
		close(fds[i]);
	*ret_fd = fds[0];
	return 0;
}
