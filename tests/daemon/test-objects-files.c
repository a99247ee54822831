/* Files written into a workspace (daemon/objects/files.c): paths checked
 * (absolute, "..", empty, too long, too deep, too many, too large), files
 * and directories created with the right modes and owner, and the traps
 * a sandbox can leave refused without anything written outside:
 * symlinked directories and files, FIFOs, hard links. Also the tree
 * removal that never follows a symlink. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "testlib.h"

static char ws[512], outside[512];

static int put(const char *path, const char *content, bool exec, struct sbx_rpc_call *call)
{
	Sbx__File f = SBX__FILE__INIT, *v[1] = {&f};

	f.path = (char *)path;
	f.content.data = (uint8_t *)content;
	f.content.len = strlen(content);
	f.is_executable = exec;
	call->error[0] = 0;
	return sbx_files_write(ws, v, 1, call);
}

static int check_one(const char *path, size_t len, struct sbx_rpc_call *call)
{
	Sbx__File f = SBX__FILE__INIT, *v[1] = {&f};

	f.path = (char *)path;
	f.content.len = len;
	return sbx_files_check(v, 1, 4, 100, call);
}

static bool file_is(const char *rel, const char *content)
{
	char p[1024], buf[256] = "";
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", ws, rel);
	f = fopen(p, "r");
	if (!f)
		return false;
	buf[fread(buf, 1, sizeof(buf) - 1, f)] = 0;
	fclose(f);
	return strcmp(buf, content) == 0;
}

int main(void)
{
	struct sbx_rpc_call call = {0};
	char *dir = tl_tmpdir("sbx-files"), p[1024], deep[2048] = "", big[1100];
	struct stat st;

	if (!dir)
		SKIP("no temporary directory");
	snprintf(ws, sizeof(ws), "%s/workspace", dir);
	snprintf(outside, sizeof(outside), "%s/outside", dir);
	CHECK(sbx_files_mkdir(ws, 0755) == 0);
	CHECK(sbx_files_mkdir(ws, 0755) == 0); /* already there: fine */
	CHECK(mkdir(outside, 0755) == 0);
	/* The workspace's owner is what files get. */
	CHECK(chown(ws, 4242, 4343) == 0);

	/* Path checks. */
	CHECK(check_one("a/b.txt", 1, &call) == 0);
	CHECK(check_one("/etc/passwd", 1, &call) == -EINVAL && strstr(call.error, "absolute"));
	CHECK(check_one("../x", 1, &call) == -EINVAL && strstr(call.error, ".."));
	CHECK(check_one("a/../../x", 1, &call) == -EINVAL);
	CHECK(check_one("a/./x", 1, &call) == -EINVAL);
	CHECK(check_one("a//x", 1, &call) == -EINVAL);
	CHECK(check_one("", 1, &call) == -EINVAL && strstr(call.error, "empty"));
	CHECK(check_one("dir/", 1, &call) == -EINVAL);
	CHECK(check_one("..", 1, &call) == -EINVAL);
	CHECK(check_one("a..b/..c", 1, &call) == 0); /* dots inside names are fine */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	CHECK(check_one(big, 1, &call) == -EINVAL && strstr(call.error, "too long"));
	for (int i = 0; i < 70; i++)
		strcat(deep, "d/");
	strcat(deep, "f");
	CHECK(check_one(deep, 1, &call) == -EINVAL && strstr(call.error, "too deep"));
	CHECK(check_one("x", 101, &call) == -EINVAL && strstr(call.error, "100 bytes"));
	{
		Sbx__File f = SBX__FILE__INIT, *v[5] = {&f, &f, &f, &f, &f};

		f.path = "x";
		CHECK(sbx_files_check(v, 5, 4, 100, &call) == -EINVAL &&
		      strstr(call.error, "too many files"));
		CHECK(sbx_files_check(v, 4, 4, 100, &call) == 0);
	}

	/* Plain writes: directories made, modes, owner, replacement. */
	CHECK(put("src/lib/util.js", "one", false, &call) == 0);
	CHECK(file_is("src/lib/util.js", "one"));
	snprintf(p, sizeof(p), "%s/src/lib/util.js", ws);
	CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0644 && st.st_uid == 4242 &&
	      st.st_gid == 4343);
	snprintf(p, sizeof(p), "%s/src/lib", ws);
	CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 4242);
	CHECK(put("src/lib/util.js", "2", true, &call) == 0);
	CHECK(file_is("src/lib/util.js", "2")); /* truncated, not "2ne" */
	snprintf(p, sizeof(p), "%s/src/lib/util.js", ws);
	CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0755);
	CHECK(sbx_files_exists(ws, "src") == false); /* a directory */
	CHECK(put("package.json", "{}", false, &call) == 0);
	CHECK(sbx_files_exists(ws, "package.json"));

	/* Traps. A symlinked directory: nothing lands outside. */
	snprintf(p, sizeof(p), "%s/link", ws);
	CHECK(symlink(outside, p) == 0);
	CHECK(put("link/x", "pwned", false, &call) == -EINVAL &&
	      strstr(call.error, "symbolic link"));
	CHECK(put("link/sub/x", "pwned", false, &call) == -EINVAL);
	snprintf(p, sizeof(p), "%s/x", outside);
	CHECK(access(p, F_OK) < 0);
	snprintf(p, sizeof(p), "%s/sub", outside);
	CHECK(access(p, F_OK) < 0);
	/* A symlinked file, dangling or not. */
	snprintf(p, sizeof(p), "%s/target", outside);
	CHECK(close(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) == 0);
	snprintf(big, sizeof(big), "%s/flink", ws);
	CHECK(symlink(p, big) == 0);
	CHECK(put("flink", "pwned", false, &call) == -EINVAL);
	CHECK(stat(p, &st) == 0 && st.st_size == 0);
	snprintf(big, sizeof(big), "%s/dangling", ws);
	CHECK(symlink("/nonexistent-sbx-test", big) == 0);
	CHECK(put("dangling", "pwned", false, &call) == -EINVAL);
	CHECK(access("/nonexistent-sbx-test", F_OK) < 0);
	/* A FIFO: refused at once, not a hung open. */
	snprintf(p, sizeof(p), "%s/fifo", ws);
	CHECK(mkfifo(p, 0644) == 0);
	CHECK(put("fifo", "x", false, &call) == -EINVAL);
	/* A hard link to a file outside. */
	snprintf(p, sizeof(p), "%s/target", outside);
	snprintf(big, sizeof(big), "%s/hard", ws);
	CHECK(link(p, big) == 0);
	CHECK(put("hard", "pwned", false, &call) == -EINVAL);
	CHECK(stat(p, &st) == 0 && st.st_size == 0);
	/* A directory where a file should go. */
	CHECK(put("src", "x", false, &call) == -EINVAL);
	/* The check runs in the writer too. */
	CHECK(put("../escape", "x", false, &call) == -EINVAL);
	snprintf(p, sizeof(p), "%s/escape", dir);
	CHECK(access(p, F_OK) < 0);

	/* rmtree removes the workspace, links and all, but not their targets. */
	CHECK(sbx_files_rmtree(ws) == 0);
	CHECK(access(ws, F_OK) < 0);
	snprintf(p, sizeof(p), "%s/target", outside);
	CHECK(access(p, F_OK) == 0);
	CHECK(sbx_files_rmtree(ws) == 0); /* gone already: fine */
	CHECK(sbx_files_rmtree(dir) == 0);
	free(dir);
	TEST_DONE();
}
