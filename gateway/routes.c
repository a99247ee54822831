/* Every endpoint the gateway serves. Adding one is adding a row: HTTP
 * method, path pattern (gateway/router.h), RPC of proto/api.proto's service,
 * the seed's dialect (gateway/dialects.c), success status. A row naming an
 * RPC the method table does not have yet answers 501 after the body is
 * checked to be JSON. Rows with a handler are the hand-written exceptions. */
#include "routes.h"

#include "admin_page.h"
#include "admin_test.h"
#include "cleanup.h"
#include "dialects.h"
#include "gw_judge0.h"
#include "files_route.h"
#include "logstream.h"
#include "metrics.h"
#include "piston.h"
#include "proxy.h"

const struct gw_route gw_routes[] = {
	/* sandbox-service (its API document wins where seeds disagree) */
	/* Health checks are polled hard: one daemon round trip per 250 ms. */
	GW_RPC_CACHED("GET", "/health", "Health", &gw_dialect_service_health, 200, 250),

	/* OpenSandbox */
	GW_RPC_LIMITED("POST", "/run", "Run", &gw_dialect_opensandbox_run, 200),

	/* codesandbox-rust */
	GW_RPC_LIMITED("POST", "/execute", "Execute", &gw_dialect_codesandbox_execute, 200),
	GW_RPC("GET", "/languages", "ListLanguages", &gw_dialect_codesandbox_languages, 200),

	/* Judge0 CE (gateway/judge0.h), under the base URL /judge0: its
	 * clients take a base URL, and /languages is codesandbox's. Running
	 * submissions count against the rate limit. */
	GW_HANDLER_RPC("GET", "/judge0/languages", "ListLanguages", NULL,
		       gw_judge0_languages_handler, false),
	GW_HANDLER_RPC("GET", "/judge0/languages/{id}", "ListLanguages", NULL,
		       gw_judge0_language_handler, false),
	GW_HANDLER("GET", "/judge0/statuses", gw_judge0_statuses_handler),
	/* batch before {token}, which would take "batch" for a token. */
	GW_HANDLER_RPC("POST", "/judge0/submissions/batch", "Judge0Submit", NULL,
		       gw_judge0_batch_submit_handler, true),
	GW_HANDLER_RPC("GET", "/judge0/submissions/batch", "Judge0Get", NULL,
		       gw_judge0_batch_get_handler, false),
	GW_HANDLER_RPC("POST", "/judge0/submissions", "Execute", NULL, gw_judge0_submit_handler,
		       true),
	GW_HANDLER_RPC("GET", "/judge0/submissions", "Judge0List", NULL, gw_judge0_list_handler,
		       false),
	GW_HANDLER_RPC("GET", "/judge0/submissions/{token}", "Judge0Get", NULL,
		       gw_judge0_get_handler, false),
	GW_HANDLER_RPC("DELETE", "/judge0/submissions/{token}", "Judge0Delete", NULL,
		       gw_judge0_delete_handler, false),

	/* sandbox-executor */
	GW_RPC("GET", "/api/v1/health", "Health", &gw_dialect_executor_health, 200),
	GW_RPC("GET", "/api/v1/config", "GetConfig", NULL, 200),
	GW_RPC_LIMITED("POST", "/api/v1/execute", "Execute", &gw_dialect_executor_execute, 200),
	/* "Streaming Output": the same body, the output as Server-Sent Events,
	 * then the same result (gateway/logstream.h). */
	GW_HANDLER_RPC("POST", "/api/v1/execute/stream", "Execute", &gw_dialect_executor_execute,
		       gw_execute_stream_handler, true),

	/* Piston v2 (engineer-man/piston api/src/api/v2.js): the installed
	 * runtimes, and execution with a version selector (gateway/piston.h:
	 * ListLanguages, then Execute). Errors are {"message": ...}. */
	GW_RPC("GET", "/api/v2/runtimes", "ListLanguages", &gw_dialect_piston_runtimes, 200),
	GW_HANDLER_RPC("POST", "/api/v2/execute", "Execute", &gw_dialect_piston_execute,
		       gw_piston_execute_handler, true),

	/* Stateful objects: sandbox-service sandboxes, OpenSandbox sessions,
	 * sandbox-executor history (gateway/dialects_objects.c). Creating and
	 * running count against the client's rate limit; reading does not. */
	GW_RPC_LIMITED("POST", "/sandbox", "CreateSandbox", &gw_dialect_service_sandbox, 200),
	GW_RPC("GET", "/sandbox/{id}", "GetSandbox", &gw_dialect_service_sandbox, 200),
	GW_RPC_LIMITED("POST", "/sandbox/{id}/execute", "ExecuteSandbox",
		       &gw_dialect_service_execute, 200),
	GW_RPC_LIMITED("POST", "/sandbox/{id}/files", "UploadFiles", &gw_dialect_service_upload,
		       200),
	/* Files out (README "Files out"): the listing as JSON, then one
	 * file's raw bytes; the list row first, since `*` also matches
	 * nothing at all. */
	GW_RPC("GET", "/sandbox/{id}/files", "ListSandboxFiles", NULL, 200),
	GW_HANDLER_RPC("GET", "/sandbox/{id}/files/*", "DownloadSandboxFile", NULL,
		       gw_files_download_handler, false),
	GW_RPC("DELETE", "/sandbox/{id}", "DeleteSandbox", NULL, 204),
	GW_RPC("GET", "/sandboxes", "ListSandboxes", &gw_dialect_service_sandboxes, 200),
	GW_RPC_LIMITED("POST", "/sessions", "CreateSession", &gw_dialect_opensandbox_session_create,
		       200),
	GW_RPC("GET", "/sessions", "ListSessions", &gw_dialect_opensandbox_sessions, 200),
	GW_RPC("GET", "/sessions/{session_id}", "GetSession", NULL, 200),
	GW_RPC("DELETE", "/sessions/{session_id}", "DeleteSession", NULL, 204),
	GW_RPC_LIMITED("POST", "/sessions/{session_id}/run", "SessionRun",
		       &gw_dialect_opensandbox_session_run, 200),
	GW_RPC("POST", "/sessions/{session_id}/env", "SetSessionEnv", NULL, 200),
	GW_RPC("POST", "/sessions/{session_id}/cwd", "SetSessionCwd", NULL, 200),
	/* The runs' output, as a deployment's logs (gateway/logstream.h). */
	GW_HANDLER("GET", "/sessions/{session_id}/logs", gw_logs_session_handler),
	GW_RPC("GET", "/sessions/{session_id}/files", "ListSessionFiles", NULL, 200),
	GW_HANDLER_RPC("GET", "/sessions/{session_id}/files/*", "DownloadSessionFile", NULL,
		       gw_files_download_handler, false),
	GW_RPC("GET", "/api/v1/executions", "ListExecutions", &gw_dialect_executor_executions, 200),
	GW_RPC("GET", "/api/v1/executions/{execution_id}", "GetExecution",
	       &gw_dialect_executor_execution, 200),
	GW_RPC("GET", "/api/v1/stats", "GetStats", NULL, 200),
	/* end of the stateful objects */

	/* FaaS deployments (sandbox-service-API.md); before the proxy rows
	 * (/faas/{id}/...), which would match these paths too. Deploying installs
	 * dependencies and waits for the service to answer: seconds. */
	GW_RPC_LIMITED("POST", "/faas/deploy", "Deploy", &gw_dialect_faas_deploy, 200),
	GW_RPC("GET", "/faas/deployments", "ListDeployments", &gw_dialect_faas_deployments, 200),
	GW_RPC("GET", "/faas/deployments/{id}", "GetDeployment", &gw_dialect_faas_deployment, 200),
	GW_RPC_LIMITED("PUT", "/faas/deployments/{id}/files", "UpdateDeploymentFiles",
		       &gw_dialect_faas_update_files, 200),
	GW_RPC("DELETE", "/faas/deployments/{id}", "DeleteDeployment", NULL, 204),
	/* end of FaaS deployments */

	/* /admin: sandbox-service-API.md, "Admin API Endpoints", and the admin
	 * page that shows them (gateway/admin/index.html). `lines` defaults to
	 * 100 (the dialects); a sandbox's logs with follow=true are a live
	 * stream (gateway/logstream.h), without it the RPC's answer. */
	GW_HANDLER("GET", "/admin", gw_admin_page_handler),
	GW_HANDLER("GET", "/admin/assets/{name}", gw_admin_asset_handler),
	GW_RPC("GET", "/admin/api/status", "AdminStatus", &gw_dialect_admin_status, 200),
	GW_RPC("GET", "/admin/api/resources", "AdminStatus", &gw_dialect_admin_host_resources, 200),
	GW_RPC("GET", "/admin/api/sandboxes", "AdminListSandboxes", &gw_dialect_admin_sandboxes,
	       200),
	GW_RPC("GET", "/admin/api/sandboxes/{id}", "AdminGetSandbox", &gw_dialect_admin_sandbox,
	       200),
	GW_RPC("POST", "/admin/api/sandboxes/{id}/force-stop", "AdminForceStop",
	       &gw_dialect_admin_force_stop, 200),
	GW_RPC("GET", "/admin/api/sandboxes/{id}/resources", "AdminSandboxResources",
	       &gw_dialect_admin_resources, 200),
	GW_HANDLER_RPC("GET", "/admin/api/sandboxes/{id}/logs", "AdminSandboxLogs",
		       &gw_dialect_admin_logs, gw_logs_sandbox_handler, false),
	GW_RPC("GET", "/admin/api/logs", "AdminLogs", &gw_dialect_admin_logs, 200),
	/* Every field of the deployments (auto_scale, note, restarts,
	 * last_request_at), canonical JSON: the seed's list has seven. */
	GW_RPC("GET", "/admin/api/deployments", "ListDeployments", NULL, 200),
	GW_HANDLER("GET", "/admin/api/docs", gw_admin_docs_handler),
	/* This table as an OpenAPI 3.1 document (gateway/openapi.c). */
	GW_HANDLER("GET", "/openapi.json", gw_openapi_handler),
	/* ...rendered by swagger-ui (npm swagger-ui-dist, served from disk:
	 * gateway/docs_page.c); the page first, since `*` also matches no
	 * segment at all. */
	GW_HANDLER("GET", "/docs", gw_docs_page_handler),
	GW_HANDLER("GET", "/docs/*", gw_docs_file_handler),
	/* The gateway sends the request to itself, on its own thread
	 * (gateway/admin_test.h). */
	GW_HANDLER("POST", "/admin/api/test", gw_admin_test_handler),

	/* Deployment logs (gateway/logstream.h): the ring's last `lines` as a
	 * JSON array, or with follow=true a live stream. Kept before any
	 * proxy row for /faas/{id}/..., which would otherwise take this path. */
	GW_HANDLER("GET", "/faas/deployments/{id}/logs", gw_logs_deployment_handler),
	/* end of deployment logs */

	/* Prometheus' text format: the gateway's counters and every node's
	 * GetMetrics (gateway/metrics.h, README "Metrics"). */
	GW_HANDLER_RPC("GET", "/metrics", "GetMetrics", NULL, gw_metrics_handler, false),

	/* The reverse proxy (gateway/proxy.h): a deployment's web service and a
	 * persistent sandbox's dev server. `*` also matches no segment at all,
	 * so "/faas/ID" is "/faas/ID/". Not rate limited, no body limit. */
	GW_PROXY_ROWS("/faas/{id}/*", "faas"),
	GW_PROXY_ROWS("/proxy/{id}/*", "proxy"),
};

const size_t gw_n_routes = SBX_ARRAY_SIZE(gw_routes);
