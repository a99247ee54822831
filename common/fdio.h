/* Whole reads and writes on a blocking fd; a directory made with its
 * parents. */
#ifndef SBX_FDIO_H
#define SBX_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* Write all len bytes, retrying short writes and EINTR. On a socket the
 * bytes go with MSG_NOSIGNAL: a closed peer is -EPIPE, not SIGPIPE.
 * Returns 0 or -errno. */
int sbx_write_full(int fd, const void *buf, size_t len);

/* Read exactly len bytes, retrying short reads and EINTR. Returns 0,
 * -ECONNRESET on end of file before len bytes, or -errno. */
int sbx_read_full(int fd, void *buf, size_t len);

/* mkdir -p: path (absolute) and its missing parents, each with mode; an
 * existing one is fine. path is written to while it runs and restored.
 * Returns 0 or -errno. */
int sbx_mkdir_p(char *path, mode_t mode);

#endif
