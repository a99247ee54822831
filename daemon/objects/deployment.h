/* Deployments (seed sandbox-service-API.md, "FaaS/Serverless API"): a
 * web service built on a persistent sandbox of its own (sandbox_obj.h) that
 * the deployment owns: the sandbox holds the files, the entry point and
 * the process; the deployment adds the URL and the scaling policy. With
 * auto_scale.min_instances 0 an idle deployment is stopped after
 * scale_down_after_minutes and started again by the next proxied request.
 *
 * Errors as in sandbox_obj.h: -EINVAL, -ENOENT, -EAGAIN (too many), -EBUSY. */
#ifndef SBX_DEPLOYMENT_H
#define SBX_DEPLOYMENT_H

#include "api.pb-c.h"
#include "objects.h"
#include "rpc_server.h"

/* Create the sandbox, start the service and wait (up to the ready
 * timeout) until it accepts connections; status "Running" then, else what
 * it is ("Starting", "Failed" with a note). */
int sbx_deployment_create(struct sbx_objects *o, struct sbx_rpc_call *call,
			  const Sbx__DeployRequest *req, Sbx__Deployment **ret);
int sbx_deployment_get(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
		       Sbx__Deployment **ret);
int sbx_deployment_list(struct sbx_objects *o, struct sbx_rpc_call *call,
			Sbx__ListDeploymentsReply **ret);
int sbx_deployment_delete(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id);
/* Write files; restart the service when asked (hot reload). */
int sbx_deployment_update_files(struct sbx_objects *o, struct sbx_rpc_call *call,
				const Sbx__UpdateDeploymentFilesRequest *req,
				Sbx__UpdateDeploymentFilesReply **ret);
/* OpenProxy: kind "faas" (a deployment; wakes one scaled to zero) or
 * "proxy" (a persistent sandbox). */
int sbx_deployment_open_proxy(struct sbx_objects *o, struct sbx_rpc_call *call,
			      const Sbx__OpenProxyRequest *req, Sbx__OpenProxyReply **ret);

#endif
