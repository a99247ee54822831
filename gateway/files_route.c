#include "files_route.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json_pb.h"
#include "objects.pb-c.h"
#include "respond.h"
#include "rpc_handler.h"
#include "status.h"

/* What the file's bytes must never do in a browser that opens the URL:
 * they are whatever the sandbox wrote, served from the gateway's own
 * origin (the admin page's too). nosniff keeps the type the extension
 * gave; the CSP sandbox runs an HTML or SVG file as an opaque origin
 * without scripts, so it cannot call the API with the user's rights. */
static const struct gw_header safety[] = {
	{"X-Content-Type-Options", "nosniff"},
	{"Content-Security-Policy", "sandbox"},
	{NULL, NULL},
};

static void content_free(void *p)
{
	free(p);
}

static int download_done(struct gw_server *srv, struct gw_request *req)
{
	Sbx__FileContent *m = (Sbx__FileContent *)req->reply.msg;
	struct MHD_Response *resp;
	void *data;
	int err;

	(void)srv;
	pthread_mutex_lock(&req->lock);
	err = req->call_err;
	pthread_mutex_unlock(&req->lock);
	if (err < 0 || req->reply.status != SBX_OK || !m ||
	    m->base.descriptor != &sbx__file_content__descriptor)
		return gw_rpc_respond_call_failure(req);
	/* The bytes move to the response: no copy of up to the cap. */
	data = m->content.data;
	m->content.data = NULL;
	resp = MHD_create_response_from_buffer_with_free_callback(m->content.len, data,
								  content_free);
	m->content.len = 0;
	if (!resp) {
		free(data);
		return -ENOMEM;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				*m->content_type ? m->content_type : "application/octet-stream");
	for (const struct gw_header *h = safety; h->name; h++)
		MHD_add_response_header(resp, h->name, h->value);
	return gw_respond_response(req, 200, resp);
}

int gw_files_download_handler(struct gw_server *srv, struct gw_request *req)
{
	const struct gw_route *rt = req->match.route;
	const char *rest = req->match.rest ? req->match.rest : "";
	ProtobufCMessage *msg = NULL;
	_cleanup_free_ char *path = NULL;
	char err[256];
	int r;

	/* The router refused %2F, %00, "." and ".." segments already; the
	 * daemon checks the path again (sbx_files_path_problem). */
	if (*rest == '/')
		rest++;
	path = malloc(strlen(rest) + 1);
	if (!path)
		return -ENOMEM;
	if (gw_percent_decode(rest, strlen(rest), path) < 0) {
		r = gw_respond_error(req, 400, NULL,
				     "the file path has a malformed percent-escape");
		return r < 0 ? r : 0;
	}
	r = gw_rpc_build_request(req, rt->rpc, rt->dialect, &msg);
	if (r != 0)
		return r < 0 ? r : 0;
	r = jpb_set_from_string(msg, "path", path, NULL, err, sizeof(err));
	if (r < 0) {
		protobuf_c_message_free_unpacked(msg, NULL);
		r = gw_respond_error(req, 400, NULL, "%s", err);
		return r < 0 ? r : 0;
	}
	r = gw_rpc_start(srv, req, rt->rpc, msg, download_done);
	protobuf_c_message_free_unpacked(msg, NULL);
	return r;
}
