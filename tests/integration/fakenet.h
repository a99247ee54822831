/* Fake hosts for the network tests (fakenet.c): network namespaces the
 * test makes, each behind a veth from the host's namespace, with servers
 * run by a child of the test inside. Never a real address. Everything is
 * removed by fakenet_fini, which an atexit handler also calls. */
#ifndef SBX_TEST_FAKENET_H
#define SBX_TEST_FAKENET_H

#include <stdbool.h>
#include <sys/types.h>

#define FAKENET_MAX_ADDRS 4
#define FAKENET_MAX_PORTS 4

struct fakenet_host {
	char ns[32];				 /* /run/netns name */
	char veth[16];				 /* host end */
	char host_cidr[24];			 /* the host end's address/prefix */
	const char *addrs[FAKENET_MAX_ADDRS];	 /* the fake host's, first = its route's source */
	unsigned short ports[FAKENET_MAX_PORTS]; /* TCP: "hello PORT from PEER\n", held open */
	const char *dns_name;			 /* answered by a DNS server on addrs[0]:53 */
	const char *dns_addr;			 /* ... with this A record; other names NXDOMAIN */
	pid_t server;
};

/* Make the namespace, the veth (host end up with host_cidr and
 * forwarding on, peer with the addresses), start the servers. 0, or -1
 * with the reason printed. */
int fakenet_up(struct fakenet_host *h);
/* Stop the server, delete the namespace and veth. Idempotent. */
void fakenet_fini(struct fakenet_host *h);

/* Is `ip` usable (iproute2 and root)? */
bool fakenet_possible(void);

#endif
