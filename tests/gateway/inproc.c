#include "inproc.h"

#include <stdio.h>
#include <string.h>

#include "routes.h"

int gw_inproc_start(struct gw_inproc *g, char **argv)
{
	enum gw_config_action action;
	char err[512];
	int argc = 0;

	memset(g, 0, sizeof(*g));
	while (argv[argc])
		argc++;
	if (gw_config_load(&g->cfg, argc, argv, (char *[]){NULL}, &action, err, sizeof(err)) < 0 ||
	    gw_server_new(&g->cfg, gw_routes, gw_n_routes, &g->srv, err, sizeof(err)) < 0 ||
	    gw_server_start(g->srv, err, sizeof(err)) < 0) {
		fprintf(stderr, "gateway: %s\n", err);
		return -1;
	}
	snprintf(g->base, sizeof(g->base), "http://127.0.0.1:%u", g->srv->port);
	return 0;
}

void gw_inproc_stop(struct gw_inproc *g)
{
	if (g->srv)
		gw_server_shutdown(g->srv);
	gw_server_free(g->srv);
	g->srv = NULL;
	gw_config_fini(&g->cfg);
}
