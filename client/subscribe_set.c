/* A subscription to several publishers (cluster mode): one client/
 * subscribe.c subscription per publisher, each with its own thread, all
 * calling the user's callback through one mutex, so it still runs one
 * event at a time. With events_dns, a DNS watch (client/urls.h) adds the
 * publishers the name gains and closes the ones it loses, every
 * SUBSET_DNS_MS. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"
#include "subscribe.h"
#include "urls.h"

#define SUBSET_MAX 64
#define SUBSET_DNS_MS 5000

struct member {
	char url[SBX_URL_MAX];
	struct sub_one *sub;
	bool from_dns;
};

struct sbx_subscription {
	char *prefix;
	sbx_event_cb cb;
	void *arg;
	pthread_mutex_t cb_lock;   /* held while the user's callback runs */
	pthread_mutex_t lock;      /* members, stop */
	struct member members[SUBSET_MAX];
	size_t n;
	struct sbx_dns_watch *dns;
	bool stop;
};

static void on_event(void *arg, const struct sbx_event *ev)
{
	struct sbx_subscription *s = arg;

	pthread_mutex_lock(&s->cb_lock);
	s->cb(s->arg, ev);
	pthread_mutex_unlock(&s->cb_lock);
}

static bool has(struct sbx_subscription *s, const char *url)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->members[i].url, url) == 0)
			return true;
	return false;
}

/* Make the DNS members what the name resolves to now (on the DNS
 * watch's thread). */
static void dns_update(void *arg, char (*urls)[SBX_URL_MAX], size_t n_urls)
{
	struct sbx_subscription *s = arg;
	struct sub_one *gone[SUBSET_MAX];
	size_t n_gone = 0;

	for (size_t j = 0; j < n_urls; j++) {
		struct sub_one *sub;

		pthread_mutex_lock(&s->lock);
		bool known = has(s, urls[j]) || s->n >= SUBSET_MAX || s->stop;
		pthread_mutex_unlock(&s->lock);
		if (known || sub_one_open(urls[j], s->prefix, on_event, s, &sub) < 0)
			continue;
		pthread_mutex_lock(&s->lock);
		s->members[s->n++] = (struct member){ .sub = sub, .from_dns = true };
		memcpy(s->members[s->n - 1].url, urls[j], SBX_URL_MAX);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n;) {
		bool named = !s->members[i].from_dns;

		for (size_t j = 0; j < n_urls && !named; j++)
			named = strcmp(urls[j], s->members[i].url) == 0;
		if (named) {
			i++;
			continue;
		}
		gone[n_gone++] = s->members[i].sub;
		s->members[i] = s->members[--s->n];
	}
	pthread_mutex_unlock(&s->lock);
	/* Not under the lock: closing waits for a callback in progress. */
	for (size_t i = 0; i < n_gone; i++)
		sub_one_close(gone[i]);
}

void sbx_subscribe_close(struct sbx_subscription *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_mutex_unlock(&s->lock);
	sbx_dns_watch_stop(s->dns);
	for (size_t i = 0; i < s->n; i++)
		sub_one_close(s->members[i].sub);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->cb_lock);
	free(s->prefix);
	free(s);
}

/* The publishers of a comma-separated list. */
static int add_list(struct sbx_subscription *s, const char *list)
{
	char(*urls)[SBX_URL_MAX] = calloc(SUBSET_MAX, SBX_URL_MAX);
	size_t n = 0;
	int r;

	if (!urls)
		return -ENOMEM;
	r = sbx_url_split(list, urls, SUBSET_MAX, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = sub_one_open(urls[i], s->prefix, on_event, s, &s->members[s->n].sub);
		if (r == 0)
			memcpy(s->members[s->n++].url, urls[i], SBX_URL_MAX);
	}
	free(urls);
	return r == -E2BIG ? -EINVAL : r;
}

int sbx_subscribe_open_opts(const struct sbx_subscribe_opts *o, struct sbx_subscription **ret)
{
	const char *dns = o && o->events_dns && *o->events_dns ? o->events_dns : NULL;
	const char *list = o ? o->events_url : NULL;
	struct sbx_subscription *s;
	int r = 0;

	if (!o || !o->cb || !o->topic_prefix || (dns && sbx_dns_url_check(dns) < 0))
		return -EINVAL;
	if (!list && !dns)
		list = SBX_DEFAULT_EVENTS_URL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->cb_lock, NULL);
	pthread_mutex_init(&s->lock, NULL);
	s->cb = o->cb;
	s->arg = o->arg;
	s->prefix = strdup(o->topic_prefix);
	if (!s->prefix)
		r = -ENOMEM;
	if (r == 0 && list)
		r = add_list(s, list);
	if (r == 0 && dns)
		r = sbx_dns_watch_start(dns, SUBSET_DNS_MS, SUBSET_MAX, dns_update, s, &s->dns);
	if (r < 0) {
		sbx_subscribe_close(s);
		return r;
	}
	*ret = s;
	return 0;
}

int sbx_subscribe_open(const char *events_url, const char *topic_prefix, sbx_event_cb cb, void *arg,
		       struct sbx_subscription **ret)
{
	struct sbx_subscribe_opts o = { .events_url = events_url, .topic_prefix = topic_prefix,
					.cb = cb, .arg = arg };

	return sbx_subscribe_open_opts(&o, ret);
}

int sbx_subscribe_connected(struct sbx_subscription *s)
{
	int up = 0;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n && !up; i++)
		up = sub_one_connected(s->members[i].sub);
	pthread_mutex_unlock(&s->lock);
	return up;
}
