#include "request.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "gw_server.h"

/* Control bytes in a client's path could forge access-log lines. */
static void copy_for_log(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; src && src[i] && i + 1 < size; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? '?' : src[i];
	dst[i] = '\0';
}

struct gw_request *gw_request_new(struct gw_server *srv, struct MHD_Connection *conn,
				  const char *method, const char *url)
{
	struct gw_request *req = calloc(1, sizeof(*req));

	if (!req)
		return NULL;
	req->srv = srv;
	req->conn = conn;
	req->id = atomic_fetch_add(&srv->next_id, 1);
	req->start_us = sbx_clock_mono_us();
	req->refs = 1;
	req->state = GW_REQ_BODY;
	copy_for_log(req->method, sizeof(req->method), method);
	copy_for_log(req->log_path, sizeof(req->log_path), url);
	sbx_buf_init(&req->body, srv->cfg.max_body);
	pthread_mutex_init(&req->lock, NULL);
	return req;
}

struct gw_request *gw_request_ref(struct gw_request *req)
{
	pthread_mutex_lock(&req->lock);
	req->refs++;
	pthread_mutex_unlock(&req->lock);
	return req;
}

void gw_request_unref(struct gw_request *req)
{
	int left;

	if (!req)
		return;
	pthread_mutex_lock(&req->lock);
	left = --req->refs;
	pthread_mutex_unlock(&req->lock);
	if (left > 0)
		return;
	if (req->ctx_free)
		req->ctx_free(req->ctx);
	sbx_buf_fini(&req->body);
	sbx_reply_fini(&req->reply);
	pthread_mutex_destroy(&req->lock);
	free(req);
}

void gw_request_suspend(struct gw_request *req, gw_resume_fn on_resume)
{
	req->on_resume = on_resume;
	req->state = GW_REQ_SUSPENDED;
	pthread_mutex_lock(&req->lock);
	req->resume_sent = false;
	pthread_mutex_unlock(&req->lock);
	gw_server_count_suspended(req->srv, 1);
	MHD_suspend_connection(req->conn);
}

void gw_request_finish_call(struct gw_request *req, int err, struct sbx_reply *reply)
{
	pthread_mutex_lock(&req->lock);
	req->call_err = err;
	if (err == 0 && reply)
		req->reply = *reply;
	/* The lock orders this against gw_request_gone(): a connection is
	 * only resumed while libmicrohttpd still holds it. */
	if (!req->gone && !req->resume_sent) {
		req->resume_sent = true;
		MHD_resume_connection(req->conn);
	}
	pthread_mutex_unlock(&req->lock);
}

void gw_request_resume(struct gw_request *req)
{
	pthread_mutex_lock(&req->lock);
	if (!req->gone && !req->resume_sent) {
		req->resume_sent = true;
		MHD_resume_connection(req->conn);
	}
	pthread_mutex_unlock(&req->lock);
}

void gw_request_resumed(struct gw_request *req)
{
	req->state = GW_REQ_HANDLING;
	gw_server_count_suspended(req->srv, -1);
}

bool gw_request_gone(struct gw_request *req)
{
	bool was_suspended;

	pthread_mutex_lock(&req->lock);
	req->gone = true;
	pthread_mutex_unlock(&req->lock);
	was_suspended = req->state == GW_REQ_SUSPENDED;
	if (was_suspended)
		gw_server_count_suspended(req->srv, -1);
	return was_suspended;
}

bool gw_request_has_body(struct MHD_Connection *conn)
{
	const char *cl =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (cl && strcmp(cl, "0") != 0) ||
	       MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_TRANSFER_ENCODING);
}
