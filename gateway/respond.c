#include "respond.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json_pb.h"
#include "sentence.h"
#include "gw_server.h"

/* Sent when even building the error body fails. */
static const char oom_body[] = "{\"error\":\"internal error\"}";

/* Queue resp (destroyed here) on the request's connection. */
static int queue(struct gw_request *req, int status, struct MHD_Response *resp)
{
	enum MHD_Result queued;

	/* While draining, do not keep connections for requests that will
	 * be refused anyway. */
	if (atomic_load(&req->srv->draining))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	queued = MHD_queue_response(req->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	if (queued != MHD_YES)
		return -EIO;
	req->status = status;
	req->state = GW_REQ_RESPONDED;
	return 0;
}

int gw_respond_response(struct gw_request *req, int status, struct MHD_Response *resp)
{
	return queue(req, status, resp);
}

int gw_respond_text(struct gw_request *req, int status, const char *json_text)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(json_text), (void *)json_text, MHD_RESPMEM_MUST_COPY);

	if (!resp)
		return -EIO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return queue(req, status, resp);
}

int gw_respond(struct gw_request *req, int status, json_t *body, const struct gw_header *hdrs)
{
	struct MHD_Response *resp = NULL;
	char *text = NULL;

	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		if (!text)
			status = 500;
	}
	if (text)
		resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	else if (body || status == 500)
		resp = MHD_create_response_from_buffer(sizeof(oom_body) - 1, (void *)oom_body,
						       MHD_RESPMEM_PERSISTENT);
	else
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(text);
		return -EIO;
	}
	if (body || status == 500)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	for (const struct gw_header *h = hdrs; h && h->name; h++)
		MHD_add_response_header(resp, h->name, h->value);
	return queue(req, status, resp);
}

int gw_respond_error(struct gw_request *req, int status, const struct gw_header *hdrs,
		     const char *fmt, ...)
{
	const struct jpb_dialect *dl = req->match.route ? req->match.route->dialect : NULL;
	/* A seed's own error key (Piston's "message"), else ours. */
	const char *key = dl && dl->error_key ? dl->error_key : "error";
	char msg[SBX_SENTENCE_MAX];
	json_t *body;
	va_list ap;

	va_start(ap, fmt);
	sbx_vsentence(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	body = json_pack("{s:s}", key, msg);
	/* Only invalid UTF-8 (from a peer's message) fails here. */
	if (!body)
		body = json_pack("{s:s}", key, MHD_get_reason_phrase_for((unsigned)status));
	return gw_respond(req, status, body, hdrs);
}
