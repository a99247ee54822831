/* Files out of a workspace (daemon/objects/files_out.c): listing (types,
 * sizes, modes, order, symlinks shown and never followed, depth and count
 * bounds, a subdirectory, names that cannot be named), reading (bytes,
 * content types, the size cap, a file growing past it) and every trap a
 * sandbox can leave: symlinks out (to a file, in a middle directory,
 * dangling), a hard link, a FIFO (no hang), a socket, a directory, and
 * the bad paths (absolute, "..", empty, too long). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "files.h"
#include "files_out.h"
#include "testlib.h"

static char ws[512], outside[512];
static struct sbx_rpc_call call;

static void make(const char *rel, const char *content, mode_t mode)
{
	char p[1024];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", ws, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	CHECKF(fd >= 0, "create %s", p);
	CHECK(write(fd, content, strlen(content)) == (ssize_t)strlen(content));
	CHECK(fchmod(fd, mode) == 0);
	close(fd);
}

static void at(char *p, size_t n, const char *rel)
{
	snprintf(p, n, "%s/%s", ws, rel);
}

/* Read rel; on success the content must be `want` (NULL: expect failure
 * with errno `err` and the sentence containing `says`). */
static void expect_read(const char *rel, const char *want, int err, const char *says)
{
	Sbx__FileContent *m = NULL;
	int r;

	call.error[0] = 0;
	r = sbx_files_read(ws, rel, 1 << 20, &call, &m);
	if (want) {
		CHECKF(r == 0, "read '%s': %d %s", rel, r, call.error);
		if (r == 0) {
			CHECK_INT(m->content.len, strlen(want));
			CHECK(memcmp(m->content.data, want, m->content.len) == 0);
			CHECK_INT(m->size, strlen(want));
			protobuf_c_message_free_unpacked(&m->base, NULL);
		}
		return;
	}
	CHECKF(r == err, "read '%s': %d, wanted %d (%s)", rel, r, err, call.error);
	CHECKF(!says || strstr(call.error, says), "read '%s': '%s' lacks '%s'", rel, call.error,
	       says);
	if (r == 0)
		protobuf_c_message_free_unpacked(&m->base, NULL);
}

static const Sbx__FileInfo *find(const Sbx__ListFilesReply *l, const char *path)
{
	for (size_t i = 0; i < l->n_files; i++)
		if (strcmp(l->files[i]->path, path) == 0)
			return l->files[i];
	return NULL;
}

static void traps(void)
{
	char p[1200], q[1024];

	/* Symlinks: to a file outside, to a directory outside (then a file
	 * through it), to a file inside, dangling. */
	snprintf(q, sizeof(q), "%s/secret", outside);
	at(p, sizeof(p), "to-secret");
	CHECK(symlink(q, p) == 0);
	at(p, sizeof(p), "to-outside");
	CHECK(symlink(outside, p) == 0);
	at(p, sizeof(p), "to-inside");
	CHECK(symlink("hello.txt", p) == 0);
	at(p, sizeof(p), "dangling");
	CHECK(symlink("/nonexistent-sbx-test", p) == 0);
	expect_read("to-secret", NULL, -EINVAL, "symbolic link");
	expect_read("to-outside/secret", NULL, -EINVAL, "symbolic link");
	expect_read("to-inside", NULL, -EINVAL, "symbolic link");
	expect_read("dangling", NULL, -EINVAL, "symbolic link");
	/* A hard link to the secret: refused, though its bytes are a file's. */
	at(p, sizeof(p), "hard");
	CHECK(link(q, p) == 0);
	expect_read("hard", NULL, -EINVAL, "hard links");
	/* A FIFO with no writer: refused at once (alarm catches a hang). */
	at(p, sizeof(p), "fifo");
	CHECK(mkfifo(p, 0644) == 0);
	alarm(10);
	expect_read("fifo", NULL, -EINVAL, "fifo");
	/* A socket: open() says ENXIO. */
	{
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		at(p, sizeof(p), "sock");
		if (strlen(p) < sizeof(a.sun_path)) {
			memcpy(a.sun_path, p, strlen(p) + 1);
			CHECK(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
			expect_read("sock", NULL, -EINVAL, "not a regular file");
		}
		close(s);
	}
	alarm(0);
	/* A directory named like a file. */
	at(p, sizeof(p), "looks.txt");
	CHECK(mkdir(p, 0755) == 0);
	expect_read("looks.txt", NULL, -EINVAL, "is a directory");
	/* Missing things: 404. */
	expect_read("nope.txt", NULL, -ENOENT, "not found");
	expect_read("hello.txt/x", NULL, -ENOENT, "not found");
	/* Bad paths. */
	expect_read("/etc/shadow", NULL, -EINVAL, "absolute");
	expect_read("../outside/secret", NULL, -EINVAL, "..");
	expect_read("sub/../../outside/secret", NULL, -EINVAL, "..");
	expect_read("", NULL, -EINVAL, "empty");
	expect_read("./hello.txt", NULL, -EINVAL, "'.'");
	memset(p, 'a', 1100);
	p[1100] = 0;
	expect_read(p, NULL, -EINVAL, "too long");
}

static void listing(void)
{
	Sbx__ListFilesReply *l = NULL;
	const Sbx__FileInfo *f;
	char p[1024];
	int r;

	CHECK((r = sbx_files_list(ws, "", 0, 1000, &call, &l)) == 0);
	if (r < 0)
		return;
	/* Depth first, names in byte order. */
	for (size_t i = 1; i < l->n_files; i++)
		CHECKF(strcmp(l->files[i - 1]->path, l->files[i]->path) < 0, "'%s' before '%s'",
		       l->files[i - 1]->path, l->files[i]->path);
	CHECK((f = find(l, "hello.txt")) && strcmp(f->type, "file") == 0 && f->size == 5 &&
	      f->mode == 0640 && strlen(f->modified_at) == 24);
	CHECK((f = find(l, "sub")) && strcmp(f->type, "directory") == 0);
	CHECK((f = find(l, "sub/deeper/data.bin")) && f->size == 3);
	CHECK((f = find(l, "to-secret")) && strcmp(f->type, "symlink") == 0 &&
	      strstr(f->target, "/outside/secret"));
	CHECK((f = find(l, "fifo")) && strcmp(f->type, "fifo") == 0);
	/* Never followed: nothing below the link to the outside. */
	CHECK(!find(l, "to-outside/secret"));
	for (size_t i = 0; i < l->n_files; i++)
		CHECKF(!strstr(l->files[i]->path, "secret") ||
			       strcmp(l->files[i]->path, "to-secret") == 0,
		       "'%s' listed", l->files[i]->path);
	CHECK(!l->truncated && l->skipped == 1); /* the non-UTF-8 name */
	protobuf_c_message_free_unpacked(&l->base, NULL);

	/* A subdirectory; one level. */
	CHECK(sbx_files_list(ws, "sub", 1, 1000, &call, &l) == 0);
	CHECK(l->n_files == 2 && find(l, "sub/deeper") && find(l, "sub/a.json"));
	CHECK(l->truncated && strstr(l->note, "not entered"));
	protobuf_c_message_free_unpacked(&l->base, NULL);
	/* The count bound. */
	CHECK(sbx_files_list(ws, "", 0, 3, &call, &l) == 0);
	CHECK(l->n_files == 3 && l->truncated && strstr(l->note, "3 entries"));
	protobuf_c_message_free_unpacked(&l->base, NULL);
	/* Exactly as many as there are: not truncated. */
	CHECK(sbx_files_list(ws, "sub/deeper", 0, 1, &call, &l) == 0);
	CHECK(l->n_files == 1 && !l->truncated);
	protobuf_c_message_free_unpacked(&l->base, NULL);
	/* Not through links, not a file, not outside. */
	CHECK(sbx_files_list(ws, "to-outside", 0, 10, &call, &l) == -EINVAL &&
	      strstr(call.error, "symbolic link"));
	CHECK(sbx_files_list(ws, "hello.txt", 0, 10, &call, &l) == -EINVAL &&
	      strstr(call.error, "not a directory"));
	CHECK(sbx_files_list(ws, "..", 0, 10, &call, &l) == -EINVAL);
	CHECK(sbx_files_list(ws, "missing", 0, 10, &call, &l) == -ENOENT);
	/* No workspace (a volume that did not mount). */
	snprintf(p, sizeof(p), "%s/not-there", outside);
	CHECK(sbx_files_list(p, "", 0, 10, &call, &l) == -EBUSY);
	CHECK(sbx_files_read(NULL, "x", 10, &call, &(Sbx__FileContent *){NULL}) == -EBUSY);
}

static void caps(void)
{
	Sbx__FileContent *m = NULL;
	char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	make("big.txt", big, 0644);
	CHECK(sbx_files_read(ws, "big.txt", 4999, &call, &m) == 0 && m->size == 4999);
	protobuf_c_message_free_unpacked(&m->base, NULL);
	CHECK(sbx_files_read(ws, "big.txt", 4998, &call, &m) == -EFBIG &&
	      strstr(call.error, "4999 bytes") && strstr(call.error, "FILES_DOWNLOAD_MAX_BYTES"));
	/* Content types by extension. */
	CHECK_STR(sbx_files_content_type("a/b/c.JSON"), "application/json");
	CHECK_STR(sbx_files_content_type("out.png"), "image/png");
	CHECK_STR(sbx_files_content_type("x.txt"), "text/plain; charset=utf-8");
	CHECK_STR(sbx_files_content_type(".bashrc"), "application/octet-stream");
	CHECK_STR(sbx_files_content_type("dir.txt/noext"), "application/octet-stream");
	CHECK_STR(sbx_files_content_type("a.unknownext"), "application/octet-stream");
}

/* A directory whose names alone are over the walk's budget (4 MiB held
 * at once): listed in part, and the note says why. */
static void many_names(void)
{
	Sbx__ListFilesReply *l = NULL;
	char p[1200], name[241];

	at(p, sizeof(p), "many");
	CHECK(mkdir(p, 0755) == 0);
	memset(name, 'n', 240);
	name[240] = 0;
	for (int i = 0; i < 18000; i++) {
		int fd;

		snprintf(p, sizeof(p), "%s/many/%05d%s", ws, i, name + 5);
		fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		CHECK(fd >= 0);
		close(fd);
	}
	CHECK(sbx_files_list(ws, "many", 0, 25000, &call, &l) == 0);
	CHECKF(l->truncated && strstr(l->note, "MiB of names") && l->n_files > 16000 &&
		       l->n_files < 18000,
	       "%zu entries, note '%s'", l->n_files, l->note);
	protobuf_c_message_free_unpacked(&l->base, NULL);
	at(p, sizeof(p), "many");
	sbx_files_rmtree(p);
}

/* A file that grows past the cap while it is read: /dev/zero would do,
 * but devices are refused; a writer appending as fast as it can shows
 * the cap holds on the bytes read, not on the size seen at open. */
static void growing(void)
{
	char p[1024];
	pid_t pid;

	make("grow.bin", "", 0644);
	at(p, sizeof(p), "grow.bin");
	pid = fork();
	if (pid == 0) {
		static char chunk[65536];
		int fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);

		for (;;)
			if (write(fd, chunk, sizeof(chunk)) < 0)
				_exit(0);
	}
	CHECK(pid > 0);
	for (int i = 0; i < 200; i++) {
		Sbx__FileContent *m = NULL;
		int r = sbx_files_read(ws, "grow.bin", 1 << 20, &call, &m);

		CHECKF(r == 0 || r == -EFBIG, "read grow.bin: %d", r);
		if (r == 0) {
			CHECK(m->content.len <= 1 << 20);
			protobuf_c_message_free_unpacked(&m->base, NULL);
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(p);
}

int main(void)
{
	char *dir = tl_tmpdir("sbx-files-out"), p[1024];

	if (!dir)
		SKIP("no temporary directory");
	snprintf(ws, sizeof(ws), "%s/workspace", dir);
	snprintf(outside, sizeof(outside), "%s/outside", dir);
	CHECK(mkdir(ws, 0755) == 0 && mkdir(outside, 0755) == 0);
	snprintf(p, sizeof(p), "%s/secret", outside);
	{
		int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		CHECK(fd >= 0 && write(fd, "HOST-SECRET", 11) == 11);
		close(fd);
	}
	{
		int fd = sbx_files_open_beneath(AT_FDCWD, "", O_RDONLY);

		if (fd == -ENOSYS)
			SKIP("this kernel has no openat2 (Linux 5.6)");
		CHECK(fd >= 0 && close(fd) == 0);
	}
	make("hello.txt", "hello", 0640);
	at(p, sizeof(p), "sub");
	CHECK(mkdir(p, 0755) == 0);
	at(p, sizeof(p), "sub/deeper");
	CHECK(mkdir(p, 0755) == 0);
	make("sub/a.json", "{}", 0644);
	make("sub/deeper/data.bin", "\x01\x02\x03", 0644);
	make("bad-\xff-name", "x", 0644);

	expect_read("hello.txt", "hello", 0, NULL);
	expect_read("sub/deeper/data.bin", "\x01\x02\x03", 0, NULL);
	traps();
	listing();
	caps();
	many_names();
	growing();
	sbx_files_rmtree(dir);
	free(dir);
	TEST_DONE();
}
