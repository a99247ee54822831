/* Every endpoint the gateway serves. Adding one is adding a row: HTTP
 * method, path pattern (gateway/router.h), RPC of proto/api.proto's service,
 * the seed's dialect (gateway/dialects.c), success status. A row naming an
 * RPC the method table does not have yet answers 501 after the body is
 * checked to be JSON. Rows with a handler are the hand-written exceptions. */
#include "routes.h"

#include "cleanup.h"
#include "dialects.h"

const struct gw_route gw_routes[] = {
	/* sandbox-service (its API document wins where seeds disagree) */
	GW_RPC("GET", "/health", "Health", &gw_dialect_service_health, 200),

	/* OpenSandbox */
	GW_RPC("POST", "/run", "Run", &gw_dialect_opensandbox_run, 200),

	/* codesandbox-rust */
	GW_RPC("POST", "/execute", "Execute", &gw_dialect_codesandbox_execute, 200),
	GW_RPC("GET", "/languages", "ListLanguages", &gw_dialect_codesandbox_languages, 200),

	/* sandbox-executor */
	GW_RPC("GET", "/api/v1/health", "Health", &gw_dialect_executor_health, 200),
	GW_RPC("GET", "/api/v1/config", "GetConfig", NULL, 200),
	GW_RPC("POST", "/api/v1/execute", "Execute", &gw_dialect_executor_execute, 200),
};

const size_t gw_n_routes = SBX_ARRAY_SIZE(gw_routes);
