#include "urls.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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
