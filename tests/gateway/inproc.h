/* sandbox-gateway in the test's own process (gw_server_*, the binary's
 * route table), for tests that play the daemons themselves. */
#ifndef SBX_TEST_GW_INPROC_H
#define SBX_TEST_GW_INPROC_H

#include "gw_server.h"

struct gw_inproc {
	struct gw_config cfg;
	struct gw_server *srv;
	char base[64]; /* "http://127.0.0.1:PORT" */
};

/* Configure from argv (argv[0] the program, NULL-terminated; no
 * environment) and start serving on the port --listen names. 0, or -1
 * after printing why. */
int gw_inproc_start(struct gw_inproc *g, char **argv);
/* Shut down and free; after a failed start too. */
void gw_inproc_stop(struct gw_inproc *g);

#endif
