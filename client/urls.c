#include "urls.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"

int sbx_url_split(const char *list, char (*out)[SBX_URL_MAX], size_t max, size_t *ret_n)
{
	size_t n = 0;
	const char *p = list;

	for (;;) {
		const char *end = strchr(p, ',');
		const char *stop = end ? end : p + strlen(p);

		while (p < stop && *p == ' ')
			p++;
		while (stop > p && stop[-1] == ' ')
			stop--;
		if (stop == p || (size_t)(stop - p) >= SBX_URL_MAX)
			return -EINVAL;
		if (n >= max)
			return -E2BIG;
		memcpy(out[n], p, (size_t)(stop - p));
		out[n][stop - p] = 0;
		n++;
		for (size_t i = 0; i + 1 < n; i++)
			if (strcmp(out[i], out[n - 1]) == 0) {
				n--;
				break;
			}
		if (!end)
			break;
		p = end + 1;
	}
	*ret_n = n;
	return 0;
}

/* host and port of tcp://NAME:PORT. */
static int split_host_port(const char *dns_url, char host[SBX_URL_MAX], char port[8])
{
	const char *h, *colon;
	char *end;
	unsigned long v;

	if (!dns_url || strncmp(dns_url, "tcp://", 6) != 0)
		return -EINVAL;
	h = dns_url + 6;
	colon = strrchr(h, ':');
	if (!colon || colon == h || (size_t)(colon - h) >= SBX_URL_MAX - 16 || strchr(h, '/') ||
	    *h == '[')
		return -EINVAL;
	v = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || v == 0 || v > 65535)
		return -EINVAL;
	memcpy(host, h, (size_t)(colon - h));
	host[colon - h] = 0;
	snprintf(port, 8, "%lu", v);
	return 0;
}

int sbx_dns_url_check(const char *dns_url)
{
	char host[SBX_URL_MAX], port[8];

	return split_host_port(dns_url, host, port);
}

int sbx_dns_resolve(const char *dns_url, char (*out)[SBX_URL_MAX], size_t max, size_t *ret_n)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	char host[SBX_URL_MAX], port[8];
	size_t n = 0;
	int r;

	r = split_host_port(dns_url, host, port);
	if (r < 0)
		return r;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -EHOSTUNREACH;
	for (struct addrinfo *a = ai; a && n < max; a = a->ai_next) {
		char addr[INET6_ADDRSTRLEN], url[SBX_URL_MAX];
		const void *src;
		bool dup = false;

		if (a->ai_family == AF_INET)
			src = &((struct sockaddr_in *)a->ai_addr)->sin_addr;
		else if (a->ai_family == AF_INET6)
			src = &((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
		else
			continue;
		if (!inet_ntop(a->ai_family, src, addr, sizeof(addr)))
			continue;
		snprintf(url, sizeof(url), a->ai_family == AF_INET6 ? "tcp://[%s]:%s" : "tcp://%s:%s",
			 addr, port);
		for (size_t i = 0; i < n && !dup; i++)
			dup = strcmp(out[i], url) == 0;
		if (!dup)
			memcpy(out[n++], url, sizeof(url));
	}
	freeaddrinfo(ai);
	*ret_n = n;
	return 0;
}

struct sbx_dns_watch {
	char *url;
	unsigned period_ms;
	size_t max;
	sbx_dns_cb cb;
	void *arg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	pthread_t thread;
};

static void *watch(void *arg)
{
	struct sbx_dns_watch *w = arg;
	char(*urls)[SBX_URL_MAX] = calloc(w->max, SBX_URL_MAX);

	pthread_mutex_lock(&w->lock);
	while (urls && !w->stop) {
		size_t n = 0;

		pthread_mutex_unlock(&w->lock);
		if (sbx_dns_resolve(w->url, urls, w->max, &n) == 0)
			w->cb(w->arg, urls, n);
		pthread_mutex_lock(&w->lock);
		struct timespec until = sbx_clock_deadline(CLOCK_REALTIME, w->period_ms);
		while (!w->stop)
			if (pthread_cond_timedwait(&w->cond, &w->lock, &until) != 0)
				break;
	}
	pthread_mutex_unlock(&w->lock);
	free(urls);
	return NULL;
}

int sbx_dns_watch_start(const char *dns_url, unsigned period_ms, size_t max, sbx_dns_cb cb,
			void *arg, struct sbx_dns_watch **ret)
{
	struct sbx_dns_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	*w = (struct sbx_dns_watch){ .url = strdup(dns_url), .period_ms = period_ms, .max = max,
				     .cb = cb, .arg = arg };
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if (!w->url || pthread_create(&w->thread, NULL, watch, w) != 0) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		free(w->url);
		free(w);
		return -ENOMEM;
	}
	*ret = w;
	return 0;
}

void sbx_dns_watch_stop(struct sbx_dns_watch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w->url);
	free(w);
}
