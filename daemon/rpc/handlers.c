/* The daemon's RPC handlers: one table row per method of proto/api.proto's
 * service, one function per row. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "api.pb-c.h"
#include "cleanup.h"
#include "daemon.h"
#include "envelope.h"
#include "server.h"

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* strdup for reply fields; NULL becomes "". */
static char *dup_field(const char *s) { return strdup(s ? s : ""); }

static int handle_health(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
			 ProtobufCMessage **ret)
{
	struct sbx_daemon *d = state;
	Sbx__HealthReply *r = (Sbx__HealthReply *)sbx_message_new(&sbx__health_reply__descriptor);

	if (!r)
		return -ENOMEM;
	r->status = dup_field("ok");
	r->service = dup_field("sandbox-service");
	r->version = dup_field(SBX_VERSION);
	r->backend = dup_field(d->cfg.backend);
	r->uptime_s = (mono_ms() - d->started_ms) / 1000;
	if (!r->status || !r->service || !r->version || !r->backend) {
		protobuf_c_message_free_unpacked(&r->base, NULL);
		return -ENOMEM;
	}
	*ret = &r->base;
	return 0;
}

static int handle_get_config(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
			     ProtobufCMessage **ret)
{
	const struct sbx_config *c = &((struct sbx_daemon *)state)->cfg;
	Sbx__ConfigReply *r = (Sbx__ConfigReply *)sbx_message_new(&sbx__config_reply__descriptor);

	if (!r)
		return -ENOMEM;
	r->backend = dup_field(c->backend);
	r->network_mode = dup_field(c->network_mode);
	r->max_execution_time = c->max_execution_time_s;
	r->max_memory_mb = c->max_memory_mb;
	r->max_concurrent_executions = c->max_concurrent;
	r->default_timeout_ms = c->default_timeout_ms;
	r->default_memory_limit_mb = c->default_memory_limit_mb;
	r->enable_audit_log = c->enable_audit_log;
	r->rate_limit_per_minute = c->rate_limit_per_minute;
	r->rate_limit_burst = c->rate_limit_burst;
	r->max_output_bytes = c->max_output_bytes;
	r->max_body_bytes = SBX_ENVELOPE_MAX;
	if (!r->backend || !r->network_mode) {
		protobuf_c_message_free_unpacked(&r->base, NULL);
		return -ENOMEM;
	}
	*ret = &r->base;
	return 0;
}

const struct sbx_rpc_handler sbx_daemon_handlers[] = {
	{ "Health", handle_health, SBX_RPC_INLINE | SBX_RPC_PUBLIC },
	{ "GetConfig", handle_get_config, SBX_RPC_INLINE },
};
const size_t sbx_daemon_n_handlers = SBX_ARRAY_SIZE(sbx_daemon_handlers);
