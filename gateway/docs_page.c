/* GET /docs and its viewer's files (gateway/admin_page.h): swagger-ui-dist,
 * installed from npm by scripts/docs-viewer.sh into the build tree and by
 * `make install` beside the binary, served from disk as it is. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "admin_page.h"
#include "cleanup.h"
#include "gw_server.h"
#include "respond.h"

/* The file that makes the viewer: without it /docs cannot render. */
#define VIEWER_MAIN "swagger-ui-bundle.js"
#define NAME_MAX_BYTES 255

/* Served types by extension: anything else is not the viewer's. */
static const struct {
	const char *ext, *type;
} types[] = {
	{".js", "text/javascript; charset=utf-8"},
	{".css", "text/css; charset=utf-8"},
	{".html", "text/html; charset=utf-8"},
	{".png", "image/png"},
	{".json", "application/json"},
	{".map", "application/json"},
};

static const char not_installed[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	"<title>sandboxd API docs: viewer not installed</title></head><body>\n"
	"<h1>The API docs viewer is not installed</h1>\n"
	"<p>This page renders the OpenAPI document with swagger-ui (npm package "
	"<code>swagger-ui-dist</code>), which this gateway serves from its "
	"<code>--docs-dir</code> (<code>SANDBOX_DOCS_DIR</code>; by default "
	"<code>share/sandboxd/swagger-ui</code> beside the gateway's <code>bin</code> "
	"directory), and it is not there.</p>\n"
	"<p>The build installs it with npm (<code>scripts/docs-viewer.sh</code>, pinned by "
	"<code>gateway/docs/package-lock.json</code>) when npm and its registry are reachable, "
	"and <code>make install</code> copies it; then reload this page.</p>\n"
	"<p>The document itself is always at <a href=\"/openapi.json\">/openapi.json</a>.</p>\n"
	"</body></html>\n";

/* The viewer's directory into buf: --docs-dir, else share/sandboxd/
 * swagger-ui beside the directory holding this binary (bin/), so an
 * installed gateway and one in the build tree both find theirs. */
static int viewer_dir(const struct gw_server *srv, char *buf, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	if (srv->cfg.docs_dir && *srv->cfg.docs_dir)
		return snprintf(buf, size, "%s", srv->cfg.docs_dir) < (int)size ? 0 : -ENAMETOOLONG;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -errno;
	exe[n] = '\0';
	for (int up = 0; up < 2; up++) { /* the binary, then bin/ */
		slash = strrchr(exe, '/');
		if (!slash)
			return -ENOENT;
		*slash = '\0';
	}
	return snprintf(buf, size, "%s/share/sandboxd/swagger-ui", exe) < (int)size ? 0
										     : -ENAMETOOLONG;
}

/* Open rel (checked by the caller) beneath the viewer's directory, no
 * symbolic link followed anywhere on the way: an fd, or a negative errno. */
static int open_beneath(const struct gw_server *srv, const char *rel)
{
	struct open_how how = {
		/* O_NONBLOCK: a FIFO put there must not hang the thread. */
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	char dir[PATH_MAX];
	_cleanup_close_ int dfd = -1;
	int r = viewer_dir(srv, dir, sizeof(dir)), fd;

	if (r < 0)
		return r;
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

static bool viewer_installed(const struct gw_server *srv)
{
	int fd = open_beneath(srv, VIEWER_MAIN);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int gw_docs_page_handler(struct gw_server *srv, struct gw_request *req)
{
	struct MHD_Response *resp;

	if (viewer_installed(srv))
		return gw_docs_html_send(req);
	resp = MHD_create_response_from_buffer(sizeof(not_installed) - 1, (void *)not_installed,
					       MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return -EIO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
	gw_page_headers(resp, "default-src 'none'");
	return gw_respond_response(req, MHD_HTTP_SERVICE_UNAVAILABLE, resp);
}

/* The type of a servable name, or NULL: segments of [A-Za-z0-9._-], none
 * empty or starting with '.' (no "..", no hidden files), a known
 * extension. */
static const char *servable(const char *rel)
{
	const char *dot;
	size_t n = strlen(rel);

	if (n == 0 || n > NAME_MAX_BYTES || strspn(rel,
						   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
						   "0123456789._-/") != n)
		return NULL;
	for (const char *seg = rel; seg; seg = strchr(seg, '/')) {
		seg += *seg == '/';
		if (*seg == '.' || *seg == '/' || *seg == '\0')
			return NULL;
	}
	dot = strrchr(rel, '.');
	for (size_t i = 0; dot && i < SBX_ARRAY_SIZE(types); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

/* The decoded rest of the path without its leading '/', into rel. */
static int rest_path(const struct gw_request *req, char *rel, size_t size)
{
	const char *rest = req->match.rest ? req->match.rest : "";
	size_t n;

	rest += *rest == '/';
	n = strlen(rest);
	if (n >= size)
		return -ENAMETOOLONG;
	return gw_percent_decode(rest, n, rel) < 0 ? -EINVAL : 0;
}

static int send_file(struct gw_request *req, int fd, const struct stat *st, const char *type)
{
	char etag[64];
	bool fresh;
	struct MHD_Response *resp;

	snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st->st_size,
		 (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
			 (unsigned long long)st->st_mtim.tv_nsec);
	fresh = gw_etag_matches(req->conn, etag);
	/* libmicrohttpd owns fd from here, also on a 304 (it sends none of it). */
	resp = MHD_create_response_from_fd(fresh ? 0 : (uint64_t)st->st_size, fd);
	if (!resp) {
		close(fd);
		return -EIO;
	}
	if (!fresh)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	gw_page_headers(resp, NULL);
	return gw_respond_response(req, fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, resp);
}

int gw_docs_file_handler(struct gw_server *srv, struct gw_request *req)
{
	char rel[NAME_MAX_BYTES + 1];
	const char *type;
	struct stat st;
	int fd;

	if (rest_path(req, rel, sizeof(rel)) < 0 || !(type = servable(rel)))
		return gw_respond_error(req, 404, NULL, "the docs viewer has no such file");
	fd = open_beneath(srv, rel);
	if (fd < 0 && !viewer_installed(srv))
		return gw_respond_error(req, 503, NULL,
					"the API docs viewer is not installed (see GET /docs)");
	if (fd < 0)
		return gw_respond_error(req, 404, NULL, "the docs viewer has no such file");
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > GW_DOCS_FILE_MAX) {
		close(fd);
		return gw_respond_error(req, 404, NULL,
					"the docs viewer has no such file (regular files of at "
					"most %u MiB are served)",
					GW_DOCS_FILE_MAX >> 20);
	}
	return send_file(req, fd, &st, type);
}
