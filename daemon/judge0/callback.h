/* Judge0 callbacks (daemon/judge0/callback.c): where they may go and how
 * they are sent. `allow` is JUDGE0_CALLBACK_ALLOW. */
#ifndef SBX_JUDGE0_CALLBACK_H
#define SBX_JUDGE0_CALLBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "judge0.pb-c.h"

/* Where a callback goes: the URL's host and port, and the address it was
 * resolved to and checked. */
struct sbx_j0_target {
	char host[256];
	unsigned port;
	char addr[64];
};

/* May a callback connect to sa for host? Public addresses, and whatever
 * allow lists (CIDR, address or host name); never the special ranges
 * (loopback, private, link-local, unique-local, ...) unless listed. */
bool sbx_j0_address_allowed(const char *allow, const char *host, const struct sockaddr *sa);
/* Parse url (http or https), resolve its host and pick an allowed
 * address. 0, or -EPERM with the reason (for 422 {"callback_url": [why]})
 * in why. Blocks on DNS. */
int sbx_j0_callback_target(const char *allow, const char *url, struct sbx_j0_target *t, char *why,
			   size_t size);
/* The PUT body: Judge0's default fields, Base64-encoded; NULL: ENOMEM. */
char *sbx_j0_callback_body(const Sbx__Judge0Submission *s);
/* PUT body to url, up to 3 tries of 5 s, pinned to a checked address.
 * Blocks up to 15 s and some DNS. */
void sbx_j0_callback_send(const char *allow, const char *url, const char *body);

#endif
