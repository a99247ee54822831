/* Files out of an object's workspace (files_out.h), for the RPC handlers
 * of sandboxes and sessions alike: the kind says where its workspace is. */
#include <errno.h>

#include "daemon_config.h"
#include "files_out.h"
#include "kind.h"

/* Object `id` of kind k and its workspace path; release with
 * sbx_obj_unref. The workspace is set at creation (or load) and never
 * changes, so it is read without the object's lock; the reference keeps
 * its files until we are done. */
static struct sbx_obj *with_workspace(struct sbx_objects *o, const struct sbx_kind *k,
				      struct sbx_rpc_call *call, const char *id,
				      const char **ret_ws, int *ret_err)
{
	struct sbx_obj *obj = sbx_objects_get(o, k, call, id, ret_err);

	if (obj)
		*ret_ws = *(char *const *)((const char *)obj + k->workspace);
	return obj;
}

int sbx_objects_list_files(struct sbx_objects *o, const struct sbx_kind *k,
			   struct sbx_rpc_call *call, const char *id, const char *path,
			   uint32_t max_depth, Sbx__ListFilesReply **ret)
{
	const char *ws = NULL;
	int r = 0;
	struct sbx_obj *obj = with_workspace(o, k, call, id, &ws, &r);

	if (!obj)
		return r;
	r = sbx_files_list(ws, path, max_depth, o->cfg->files_list_max_entries, call, ret);
	sbx_obj_unref(obj);
	return r;
}

int sbx_objects_download(struct sbx_objects *o, const struct sbx_kind *k, struct sbx_rpc_call *call,
			 const char *id, const char *path, Sbx__FileContent **ret)
{
	const char *ws = NULL;
	int r = 0;
	struct sbx_obj *obj = with_workspace(o, k, call, id, &ws, &r);

	if (!obj)
		return r;
	r = sbx_files_read(ws, path, o->cfg->files_download_max_bytes, call, ret);
	sbx_obj_unref(obj);
	return r;
}
