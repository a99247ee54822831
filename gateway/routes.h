/* The gateway's one route table: every HTTP endpoint is one row. */
#ifndef SBX_GW_ROUTES_H
#define SBX_GW_ROUTES_H

#include <stddef.h>

#include "router.h"

/* The rows, in match order (gateway/router.h), and their number. Static
 * data: passed to gw_server_new(), which checks it once. */
extern const struct gw_route gw_routes[];
extern const size_t gw_n_routes;

#endif
