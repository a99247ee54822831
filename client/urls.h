/* URL lists and DNS names of nodes (private to libsandbox): shared by the
 * RPC client (client/cluster.c) and the subscriptions (client/subscribe_set.c). */
#ifndef SBX_URLS_H
#define SBX_URLS_H

#include <stddef.h>

/* Room for one URL with its NUL. */
#define SBX_URL_MAX 256

/* Split a comma-separated list (spaces around items ignored) into out
 * (at most max items). -EINVAL for an empty item or one too long, -E2BIG
 * past max items. */
int sbx_url_split(const char *list, char (*out)[SBX_URL_MAX], size_t max, size_t *ret_n);
/* Every address "tcp://NAME:PORT" names now, as "tcp://ADDR:PORT" ("[v6]"
 * bracketed), deduplicated, at most max. Blocks in getaddrinfo: call it on
 * a thread of its own. -EINVAL when dns_url is not tcp://NAME:PORT,
 * -EHOSTUNREACH when the name does not resolve (now). */
int sbx_dns_resolve(const char *dns_url, char (*out)[SBX_URL_MAX], size_t max, size_t *ret_n);
/* -EINVAL unless dns_url is tcp://NAME:PORT. */
int sbx_dns_url_check(const char *dns_url);

#endif
