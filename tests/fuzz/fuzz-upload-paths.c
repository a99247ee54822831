/* Upload paths: the daemon's check of a request's files and the write that
 * follows it (daemon/objects/files.h), into a workspace a sandbox has
 * filled with traps (symbolic links out, a FIFO, a hard link to a file
 * outside); and the engine's own checks of a spawn request's paths
 * (sbx_engine_check, sbx_file_path_ok). Each is held against a plain
 * re-statement of the rule, and nothing outside the workspace may change.
 *
 * Downloads go through the same rule (daemon/objects/files_out.h): a path
 * it refuses is never opened, and what is read or listed is the
 * workspace's own, never the secret outside, whatever the traps.
 *
 * Input: byte 0 bit 0: 0, the rest is up to 8 paths, one a line, uploaded
 * together (bit 1 set: downloaded and listed instead); 1, the rest is a
 * packed sbx.SpawnRequest for sbx_engine_check. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "files.h"
#include "files_out.h"
#include "workspace.h"

#define MAX_UPLOAD 8

static char base[64], ws[96], outside[96], secret[128];

static void cleanup(void)
{
	sbx_files_rmtree(base);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* On tmpfs where there is one: every accepted upload rebuilds the
	 * workspace. */
	snprintf(base, sizeof(base), "/dev/shm/fuzz-upload-XXXXXX");
	if (!mkdtemp(base)) {
		snprintf(base, sizeof(base), "/tmp/fuzz-upload-XXXXXX");
		if (!mkdtemp(base))
			abort();
	}
	snprintf(ws, sizeof(ws), "%s/ws", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	snprintf(secret, sizeof(secret), "%s/secret", outside);
	if (mkdir(outside, 0755) < 0)
		abort();
	int fd = open(secret, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "s", 1) != 1)
		abort();
	close(fd);
	atexit(cleanup);
	return 0;
}

/* The rule of files.h, stated again: relative, non-empty, at most
 * SBX_FILE_PATH_MAX bytes and SBX_FILE_DEPTH_MAX components, none of them
 * "", "." or ".." or longer than 255 bytes. */
static bool daemon_rule(const char *p)
{
	size_t n = strlen(p), depth = 0, len = 0;

	if (n == 0 || n > SBX_FILE_PATH_MAX || p[0] == '/')
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] != '/') {
			len++;
			continue;
		}
		if (len == 0 || len > 255 || (len == 1 && p[i - 1] == '.') ||
		    (len == 2 && p[i - 1] == '.' && p[i - 2] == '.'))
			return false;
		depth++;
		len = 0;
	}
	return depth <= SBX_FILE_DEPTH_MAX;
}

/* No ".." component (and no "." either when `dot` is false). */
static bool no_dots(const char *p, bool dot)
{
	for (const char *c = p;; c++) {
		const char *e = strchrnul(c, '/');
		size_t len = (size_t)(e - c);

		if ((len == 1 && c[0] == '.' && !dot) || (len == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (!*e)
			return true;
		c = e;
	}
}

/* Does a mount on absolute path t (no "..") cover "/" or one of the
 * engine's own top-level mounts? Worked out by components, as the kernel
 * walks the path (empty and "." components name nothing), independently of
 * the engine's normalising into a string. */
static bool covers_reserved(const char *t)
{
	static const char *const reserved[] = {"proc", "dev", "tmp", &SBX_WORKSPACE[1]};
	char copy[8192], *save = NULL, *c;

	snprintf(copy, sizeof(copy), "%s", t);
	for (c = strtok_r(copy, "/", &save); c && strcmp(c, ".") == 0;
	     c = strtok_r(NULL, "/", &save))
		;
	if (!c)
		return true; /* "/", "//", "/./" */
	for (size_t i = 0; i < sizeof(reserved) / sizeof(*reserved); i++)
		if (strcmp(c, reserved[i]) == 0)
			return true;
	return false;
}

/* A workspace as a sandbox may have left it. */
static void plant_traps(void)
{
	char p[160];

	sbx_files_rmtree(ws);
	if (mkdir(ws, 0755) < 0)
		abort();
#define AT(name) (snprintf(p, sizeof(p), "%s/%s", ws, name), p)
	if (symlink("../outside", AT("link")) < 0 || symlink(outside, AT("abs")) < 0 ||
	    symlink("../outside/secret", AT("file")) < 0 || mkfifo(AT("fifo"), 0644) < 0 ||
	    link(secret, AT("hard")) < 0 || mkdir(AT("dir"), 0755) < 0)
		abort();
	/* The workspace's own bytes, "ws", for downloads to find. */
	int fd = open(AT("dir/own"), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "ws", 2) != 2)
		abort();
	close(fd);
#undef AT
}

/* outside/ still holds exactly "secret", one byte "s", linked twice. */
static void check_outside(void)
{
	char buf[4];
	struct stat st;
	int fd = open(secret, O_RDONLY | O_CLOEXEC), n;

	if (fd < 0 || (n = (int)read(fd, buf, sizeof(buf))) != 1 || buf[0] != 's' ||
	    fstat(fd, &st) < 0 || st.st_nlink != 2)
		abort();
	close(fd);
	if (stat(outside, &st) < 0 || st.st_nlink != 2) /* no new directory */
		abort();
	char p[160];
	snprintf(p, sizeof(p), "%s/x", outside);
	for (const char *const *c = (const char *const[]){"a", "x", "link", "file", NULL}; *c;
	     c++) {
		snprintf(p, sizeof(p), "%s/%s", outside, *c);
		if (access(p, F_OK) == 0)
			abort();
	}
}

static void upload(char *text)
{
	Sbx__File files[MAX_UPLOAD], *fp[MAX_UPLOAD];
	struct sbx_rpc_call call = {.method = "UploadFiles"};
	bool all_ok = true;
	char *cur = text, *l;
	size_t n = 0;
	int r;

	while (n < MAX_UPLOAD && (l = strsep(&cur, "\n"))) {
		sbx__file__init(&files[n]);
		files[n].path = l;
		files[n].content.data = (uint8_t *)"x";
		files[n].content.len = 1;
		fp[n] = &files[n];
		all_ok = all_ok && daemon_rule(l);
		n++;
	}
	r = sbx_files_check(fp, n, MAX_UPLOAD, 1u << 20, &call);
	if ((r == 0) != all_ok) {
		fprintf(stderr, "sbx_files_check %s a path the rule %s\n",
			r ? "refused" : "accepted", r ? "accepts" : "refuses");
		abort();
	}
	if (r < 0) {
		if (!call.error[0])
			abort();
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (!sbx_file_path_ok(fp[i]->path))
			abort(); /* the engine would refuse what the daemon let through */
	plant_traps();
	call.error[0] = 0;
	r = sbx_files_write(ws, fp, n, &call);
	if (r == -EINVAL && !call.error[0])
		abort();
	check_outside();
}

/* Download and list each path of text in the trapped workspace. */
static void download(char *text)
{
	struct sbx_rpc_call call = {.method = "DownloadSandboxFile"};
	char *cur = text, *l;
	size_t n = 0;

	plant_traps();
	while (n++ < MAX_UPLOAD && (l = strsep(&cur, "\n"))) {
		Sbx__FileContent *m = NULL;
		Sbx__ListFilesReply *ls = NULL;
		int r;

		call.error[0] = 0;
		r = sbx_files_read(ws, l, 1 << 20, &call, &m);
		if (!daemon_rule(l) && r != -EINVAL)
			abort(); /* opened a path the rule refuses */
		if (r < 0 && !call.error[0] && r != -ENOMEM)
			abort();
		if (r == 0) {
			/* Only dir/own is a plain file with one link. */
			if (m->content.len != 2 || memcmp(m->content.data, "ws", 2) != 0)
				abort();
			sbx__file_content__free_unpacked(m, NULL);
		}
		call.error[0] = 0;
		r = sbx_files_list(ws, l, 3, 64, &call, &ls);
		if (*l && !daemon_rule(l) && r != -EINVAL)
			abort();
		for (size_t i = 0; r == 0 && i < ls->n_files; i++) {
			const char *p = ls->files[i]->path;

			/* Nothing below a link: the secret is never listed. */
			if (strncmp(p, "link/", 5) == 0 || strncmp(p, "abs/", 4) == 0 ||
			    strstr(p, "secret"))
				abort();
		}
		if (r == 0)
			sbx__list_files_reply__free_unpacked(ls, NULL);
	}
	check_outside();
}

static bool abs_rule(const char *p)
{
	return p[0] == '/' && no_dots(p, true);
}

static void spawn_request(const uint8_t *p, size_t n)
{
	Sbx__SpawnRequest *req = sbx__spawn_request__unpack(NULL, n, p);
	const char *why = NULL;

	if (!req)
		return;
	if (sbx_engine_check(req, &why) == 0) {
		if ((req->cwd[0] && !abs_rule(req->cwd)) ||
		    (req->workspace[0] && !abs_rule(req->workspace)) ||
		    (req->tmp_dir[0] && !abs_rule(req->tmp_dir)))
			abort();
		for (size_t i = 0; i < req->n_files; i++) {
			const char *f = req->files[i]->path;
			if (!f[0] || f[0] == '/' || !no_dots(f, false) || strstr(f, "//") ||
			    f[strlen(f) - 1] == '/')
				abort();
		}
		for (size_t i = 0; i < req->n_binds; i++) {
			const Sbx__BindMount *b = req->binds[i];
			const char *t = b->target[0] ? b->target : b->source;

			if (!abs_rule(b->source) || !abs_rule(t) || covers_reserved(t))
				abort();
		}
	} else if (!why || !why[0]) {
		abort();
	}
	sbx__spawn_request__free_unpacked(req, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		spawn_request(data + 1, size - 1);
		return 0;
	}
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	if (data[0] & 2)
		download(text);
	else
		upload(text);
	free(text);
	return 0;
}
