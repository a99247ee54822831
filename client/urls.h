/* URL lists and DNS names of nodes (private to libsandbox): shared by the
 * RPC client (client/cluster.c) and the subscriptions (client/subscribe_set.c). */
#ifndef SBX_URLS_H
#define SBX_URLS_H

#include <stddef.h>

/* Room for one URL with its NUL. */
#define SBX_URL_MAX 256

/* Split a comma-separated list (spaces around items ignored) into out
 * (at most max items), each URL once. -EINVAL for an empty item or one
 * too long, -E2BIG past max items. */
int sbx_url_split(const char *list, char (*out)[SBX_URL_MAX], size_t max, size_t *ret_n);
/* Every address "tcp://NAME:PORT" names now, as "tcp://ADDR:PORT" ("[v6]"
 * bracketed), deduplicated, at most max. Blocks in getaddrinfo: call it on
 * a thread of its own. -EINVAL when dns_url is not tcp://NAME:PORT,
 * -EHOSTUNREACH when the name does not resolve (now). */
int sbx_dns_resolve(const char *dns_url, char (*out)[SBX_URL_MAX], size_t max, size_t *ret_n);
/* -EINVAL unless dns_url is tcp://NAME:PORT. */
int sbx_dns_url_check(const char *dns_url);

/* A thread that resolves dns_url at once and every period_ms, and hands
 * each answer to cb (on that thread); an answer that fails (the name does
 * not resolve now) is not handed on: a resolver hiccup must not drop the
 * nodes that answer. */
typedef void (*sbx_dns_cb)(void *arg, char (*urls)[SBX_URL_MAX], size_t n);
struct sbx_dns_watch;
/* At most max addresses per answer. 0, -ENOMEM. */
int sbx_dns_watch_start(const char *dns_url, unsigned period_ms, size_t max, sbx_dns_cb cb,
			void *arg, struct sbx_dns_watch **ret);
/* Stop and free; cb is not running when this returns. NULL is ok. */
void sbx_dns_watch_stop(struct sbx_dns_watch *w);

#endif
