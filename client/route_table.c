/* The routing table: where each method of proto/api.proto's service goes
 * in a cluster (README "Cluster"). One row per method; test-cluster-route
 * fails when a method has no row, so a new RPC cannot be forgotten here. */
#include <string.h>

#include "route.h"

#define ROW(m, k) { m, ROUTE_##k, NULL, MERGE_NONE }
#define BY_ID(m, f) { m, ROUTE_BY_ID, f, MERGE_NONE }
#define FANOUT(m, rule) { m, ROUTE_FANOUT, NULL, MERGE_##rule }

static const struct sbx_route routes[] = {
	ROW("Health", ANY),
	ROW("GetConfig", ANY),
	ROW("ListLanguages", ANY),
	ROW("Run", SPREAD),
	ROW("Execute", SPREAD),
	ROW("CreateSandbox", PLACE),
	ROW("CreateSession", PLACE),
	ROW("Deploy", PLACE),
	BY_ID("GetSandbox", "id"),
	BY_ID("DeleteSandbox", "id"),
	BY_ID("ExecuteSandbox", "id"),
	BY_ID("UploadFiles", "id"),
	BY_ID("ListSandboxFiles", "id"),
	BY_ID("DownloadSandboxFile", "id"),
	BY_ID("GetSession", "session_id"),
	BY_ID("DeleteSession", "session_id"),
	BY_ID("SessionRun", "session_id"),
	BY_ID("SetSessionEnv", "session_id"),
	BY_ID("SetSessionCwd", "session_id"),
	BY_ID("ListSessionFiles", "session_id"),
	BY_ID("DownloadSessionFile", "session_id"),
	BY_ID("GetExecution", "execution_id"),
	BY_ID("AdminGetSandbox", "id"),
	BY_ID("AdminForceStop", "id"),
	BY_ID("AdminSandboxResources", "id"),
	BY_ID("AdminSandboxLogs", "id"),
	BY_ID("GetLogs", "id"),
	BY_ID("GetDeployment", "id"),
	BY_ID("UpdateDeploymentFiles", "id"),
	BY_ID("DeleteDeployment", "id"),
	BY_ID("OpenProxy", "id"),
	/* Judge0 submissions (daemon/judge0/): queued where there is room,
	 * then found by their token. */
	ROW("Judge0Submit", SPREAD),
	BY_ID("Judge0Get", "token"),
	BY_ID("Judge0Delete", "token"),
	FANOUT("Judge0List", CONCAT),
	FANOUT("ListSandboxes", CONCAT),
	FANOUT("ListSessions", CONCAT),
	FANOUT("ListDeployments", CONCAT),
	FANOUT("AdminListSandboxes", CONCAT),
	FANOUT("AdminLogs", ADMIN_LOGS),
	FANOUT("ListExecutions", EXECUTIONS),
	FANOUT("GetStats", STATS),
	FANOUT("AdminStatus", STATUS),
	/* One NodeMetrics per node, labelled by node in /metrics. */
	FANOUT("GetMetrics", CONCAT),
};

const struct sbx_route *sbx_route_find(const char *method)
{
	for (size_t i = 0; method && i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(routes[i].method, method) == 0)
			return &routes[i];
	return NULL;
}

size_t sbx_route_count(void) { return sizeof(routes) / sizeof(routes[0]); }

const struct sbx_route *sbx_route_at(size_t i) { return i < sbx_route_count() ? &routes[i] : NULL; }

const char *sbx_route_kind_name(enum route_kind k)
{
	static const char *const names[] = { "DIRECT", "ANY", "SPREAD", "PLACE", "BY_ID", "FANOUT" };

	return (size_t)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}
