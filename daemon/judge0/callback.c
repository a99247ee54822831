/* Judge0's callback_url: when a submission is done, PUT its default
 * fields, Base64-encoded, as JSON (isolate_job.rb call_callback), in up to
 * three tries of 5 s each. A callback is a request the daemon makes for a
 * client, so it goes only where the operator allows: public addresses,
 * and the CIDRs and host names of JUDGE0_CALLBACK_ALLOW; loopback,
 * private, link-local, unique-local and the other special ranges only
 * when listed. The name is resolved once, the address checked, and the
 * connection pinned to it (CURLOPT_RESOLVE, and checked again when the
 * socket opens), with no redirects and no proxy, so that DNS cannot point
 * the request elsewhere between the check and the connect. */
#include "callback.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "cleanup.h"
#include "judge0.h"
#include "log.h"

#define TRIES 3
#define TIMEOUT_MS 5000

/* Ranges refused unless listed: (address, prefix length). */
static const struct {
	const char *net;
	unsigned bits;
} special[] = {
	{"0.0.0.0", 8},	     {"10.0.0.0", 8},	 {"100.64.0.0", 10}, {"127.0.0.0", 8},
	{"169.254.0.0", 16}, {"172.16.0.0", 12}, {"192.0.0.0", 24},  {"192.168.0.0", 16},
	{"198.18.0.0", 15},  {"224.0.0.0", 3},	 {"::", 128},	     {"::1", 128},
	{"fc00::", 7},	     {"fe80::", 10},	 {"ff00::", 8},
};

/* An address as 16 bytes (IPv4 as ::ffff:a.b.c.d) for prefix tests. */
static bool to16(const struct sockaddr *sa, unsigned char out[16])
{
	if (sa->sa_family == AF_INET) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

/* Is a (16 bytes) within net/bits (text; IPv4 bits count from its own
 * 32)? */
static bool in_net(const unsigned char a[16], const char *net, unsigned bits)
{
	unsigned char n[16] = {[10] = 0xff, [11] = 0xff};

	/* The same layout as to16's, written in place. */
	if (inet_pton(AF_INET, net, n + 12) == 1) {
		bits += 96;
	} else if (inet_pton(AF_INET6, net, n) == 1) {
		/* n is the address as it is */
	} else {
		return false;
	}
	if (bits > 128)
		return false;
	for (unsigned i = 0; i < bits; i++)
		if (((a[i / 8] ^ n[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

/* Does the allowlist (blank- or comma-separated CIDRs, addresses, host
 * names) list this host or address? */
static bool listed(const char *allow, const char *host, const unsigned char a[16])
{
	_cleanup_free_ char *copy = strdup(allow ? allow : "");
	char *save = NULL;

	for (char *e = copy ? strtok_r(copy, " ,", &save) : NULL; e;
	     e = strtok_r(NULL, " ,", &save)) {
		char *slash = strchr(e, '/');
		unsigned bits = 128;

		if (strcasecmp(e, host) == 0)
			return true;
		if (slash) {
			*slash = 0;
			bits = (unsigned)strtoul(slash + 1, NULL, 10);
		} else {
			bits = strchr(e, ':') ? 128 : 32;
		}
		if (in_net(a, e, bits))
			return true;
	}
	return false;
}

bool sbx_j0_address_allowed(const char *allow, const char *host, const struct sockaddr *sa)
{
	unsigned char a[16];

	if (!to16(sa, a))
		return false;
	if (listed(allow, host, a))
		return true;
	/* IPv4 ranges match their IPv4-mapped IPv6 forms too (to16). */
	for (size_t i = 0; i < SBX_ARRAY_SIZE(special); i++)
		if (in_net(a, special[i].net, special[i].bits))
			return false;
	return true;
}

int sbx_j0_callback_target(const char *allow, const char *url, struct sbx_j0_target *t, char *why,
			   size_t size)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	int r = -EPERM;

	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		snprintf(why, size, "is not a valid URL");
		goto out;
	}
	if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
		snprintf(why, size, "must be an http or https URL");
		goto out;
	}
	/* [::1] comes back with its brackets. */
	snprintf(t->host, sizeof(t->host), "%.*s", (int)strlen(host) - (host[0] == '[' ? 2 : 0),
		 host + (host[0] == '['));
	t->port = (unsigned)strtoul(port, NULL, 10);
	if (getaddrinfo(t->host, port, &hints, &res) != 0 || !res) {
		snprintf(why, size, "host %.100s cannot be resolved", t->host);
		goto out;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (!sbx_j0_address_allowed(allow, t->host, ai->ai_addr))
			continue;
		getnameinfo(ai->ai_addr, ai->ai_addrlen, t->addr, sizeof(t->addr), NULL, 0,
			    NI_NUMERICHOST);
		r = 0;
		break;
	}
	if (r < 0)
		snprintf(why, size,
			 "host %.100s is not an address callbacks may go to "
			 "(JUDGE0_CALLBACK_ALLOW)",
			 t->host);
out:
	if (res)
		freeaddrinfo(res);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return r;
}

struct open_check {
	const char *allow, *host;
};

/* The socket curl is about to connect: to a checked address only. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct open_check *c = arg;

	if (purpose != CURLSOCKTYPE_IPCXN || !sbx_j0_address_allowed(c->allow, c->host, &a->addr))
		return CURL_SOCKET_BAD;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* One PUT; the HTTP status, or -1 when none came. */
static long put_once(const char *allow, const char *url, const char *body)
{
	struct sbx_j0_target t;
	struct open_check oc = {.allow = allow};
	struct curl_slist *hdrs = NULL, *pin = NULL;
	char why[200], pin_line[400];
	long code = -1;
	CURL *h;

	if (sbx_j0_callback_target(allow, url, &t, why, sizeof(why)) < 0) {
		log_warn("judge0 callback %.200s: %s", url, why);
		return -2; /* refused: no retry */
	}
	oc.host = t.host;
	snprintf(pin_line, sizeof(pin_line), "%s:%u:%s%s%s", t.host, t.port,
		 strchr(t.addr, ':') ? "[" : "", t.addr, strchr(t.addr, ':') ? "]" : "");
	h = curl_easy_init();
	hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	pin = curl_slist_append(NULL, pin_line);
	if (h && hdrs && pin) {
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_RESOLVE, pin);
		curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
		curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &oc);
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(h, CURLOPT_PROXY, "");
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)TIMEOUT_MS);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
		if (curl_easy_perform(h) == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	}
	curl_slist_free_all(hdrs);
	curl_slist_free_all(pin);
	curl_easy_cleanup(h);
	return code;
}

void sbx_j0_callback_send(const char *allow, const char *url, const char *body)
{
	for (int i = 1; i <= TRIES; i++) {
		long code = put_once(allow, url, body);

		/* Judge0 tries again when the request failed; we also when the
		 * receiver answered 5xx (gateway/SEED-DIFFERENCES.md). */
		if (code == -2 || (code > 0 && code < 500))
			return;
		if (code < 0)
			log_warn("judge0 callback %.200s: try %d of %d got no answer", url, i,
				 TRIES);
		else
			log_warn("judge0 callback %.200s: try %d of %d got HTTP %ld", url, i, TRIES,
				 code);
	}
}

char *sbx_j0_callback_body(const Sbx__Judge0Submission *s)
{
	bool not_utf8;
	json_t *j = sbx_j0_render(s, sbx_j0_default_fields(), true, &not_utf8);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	return text;
}
