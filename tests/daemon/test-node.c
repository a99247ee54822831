/* daemon/node.c and the cluster settings of daemon/config.c: the node id
 * made once and kept in state_dir/node-id (0644, read back on the next
 * start, --node-id wins), a bad id refused in either place, the cluster key
 * file (newline dropped, empty or doubled refused), the tunnel URL
 * checked, which listen URLs count as local, ISO 8601 times parsed back
 * (ListExecutionsRequest.started_before), memory lowered to a cgroup's
 * limit, and the Node message of a daemon without a backend. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "node.h"
#include "nodeid.h"
#include "objects/files.h"
#include "objects/objects.h"
#include "testlib.h"

/* Load a config from argv (NULL-terminated, after argv[0]); 0 or the
 * error, with its sentence in err. */
static int load(struct sbx_config *c, const char *const *args, char *err, size_t errlen)
{
	char *argv[32] = {"sandboxd"};
	char *envp[] = {NULL};
	enum sbx_config_action a;
	int n = 1;

	for (; args && *args && n < 31; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	err[0] = 0;
	return sbx_config_load(c, n, argv, envp, &a, err, errlen);
}

static void read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n = f ? fread(buf, 1, len - 1, f) : 0;

	buf[n] = 0;
	if (f)
		fclose(f);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_identity(const char *dir)
{
	const char *args[] = {"--state-dir", dir, NULL};
	char err[512], path[512], first[80], text[128], tag[9];
	struct sbx_config c;
	struct stat st;

	snprintf(path, sizeof(path), "%s/node-id", dir);
	/* First start: a new UUID, kept. */
	CHECK(load(&c, args, err, sizeof(err)) == 0);
	CHECK_STR(c.node_id, "");
	CHECK(sbx_node_identity(&c, err, sizeof(err)) == 0);
	CHECK(strlen(c.node_id) == 36 && sbx_node_id_valid(c.node_id));
	sbx_node_tag(c.node_id, tag);
	CHECKF(strcmp(c.node_tag, tag) == 0, "%s != %s", c.node_tag, tag);
	snprintf(first, sizeof(first), "%s", c.node_id);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
	read_file(path, text, sizeof(text));
	CHECK(strncmp(text, first, 36) == 0 && strcmp(text + 36, "\n") == 0);
	sbx_config_fini(&c);
	/* Next start: the same id, not a new one. */
	CHECK(load(&c, args, err, sizeof(err)) == 0);
	CHECK(sbx_node_identity(&c, err, sizeof(err)) == 0);
	CHECKF(strcmp(c.node_id, first) == 0, "%s != %s", c.node_id, first);
	CHECKF(strcmp(c.node_tag, tag) == 0, "%s != %s", c.node_tag, tag);
	sbx_config_fini(&c);
	/* --node-id wins and leaves the file alone. */
	{
		const char *named[] = {"--state-dir", dir, "--node-id", "node-b.example_1", NULL};

		CHECK(load(&c, named, err, sizeof(err)) == 0);
		CHECK(sbx_node_identity(&c, err, sizeof(err)) == 0);
		CHECK_STR(c.node_id, "node-b.example_1");
		sbx_node_tag("node-b.example_1", tag);
		CHECKF(strcmp(c.node_tag, tag) == 0, "%s != %s", c.node_tag, tag);
		read_file(path, text, sizeof(text));
		CHECK(strncmp(text, first, 36) == 0);
		sbx_config_fini(&c);
	}
	/* A bad id, given or in the file, is refused with a sentence. */
	{
		const char *bad[] = {"--node-id", "-bad id", NULL};

		CHECK(load(&c, bad, err, sizeof(err)) == -EINVAL);
		CHECKF(strstr(err, "node id '-bad id' is not valid") != NULL, "%s", err);
		sbx_config_fini(&c);
	}
	write_file(path, "no/slashes\n");
	CHECK(load(&c, args, err, sizeof(err)) == 0);
	CHECK(sbx_node_identity(&c, err, sizeof(err)) == -EINVAL);
	CHECKF(strstr(err, "does not hold a valid node id") != NULL, "%s", err);
	sbx_config_fini(&c);
	/* A state directory that cannot hold the file. */
	{
		char missing[600];
		const char *nowhere[] = {"--state-dir", missing, NULL};

		snprintf(missing, sizeof(missing), "%s/no/such/dir", dir);
		CHECK(load(&c, nowhere, err, sizeof(err)) == 0);
		CHECK(sbx_node_identity(&c, err, sizeof(err)) < 0);
		CHECKF(strstr(err, "cannot keep the new node id") != NULL, "%s", err);
		sbx_config_fini(&c);
	}
}

static void test_key_file(const char *dir)
{
	char path[512], err[512];
	const char *args[] = {"--cluster-key-file", path, NULL};
	const char *both[] = {"--cluster-key-file", path, "--cluster-key", "k", NULL};
	struct sbx_config c;

	snprintf(path, sizeof(path), "%s/key", dir);
	write_file(path, "from a secret\n");
	CHECK(load(&c, args, err, sizeof(err)) == 0);
	CHECK_STR(c.cluster_key, "from a secret");
	sbx_config_fini(&c);
	write_file(path, "crlf\r\n");
	CHECK(load(&c, args, err, sizeof(err)) == 0);
	CHECK_STR(c.cluster_key, "crlf");
	sbx_config_fini(&c);
	write_file(path, "\n");
	CHECK(load(&c, args, err, sizeof(err)) == -EINVAL);
	CHECKF(strstr(err, "is empty") != NULL, "%s", err);
	sbx_config_fini(&c);
	write_file(path, "k\n");
	CHECK(load(&c, both, err, sizeof(err)) == -EINVAL);
	CHECKF(strstr(err, "not both") != NULL, "%s", err);
	sbx_config_fini(&c);
	unlink(path);
	CHECK(load(&c, args, err, sizeof(err)) == -EINVAL);
	CHECKF(strstr(err, "cannot read the cluster key file") != NULL, "%s", err);
	sbx_config_fini(&c);
}

static void test_tunnel_setting(void)
{
	const char *bad[] = {"--tunnel", "0.0.0.0:7002", NULL};
	const char *good[] = {"--tunnel", "tcp://0.0.0.0:7002", NULL};
	struct sbx_config c;
	char err[512];

	CHECK(load(&c, bad, err, sizeof(err)) == -EINVAL);
	CHECKF(strstr(err, "must be tcp://HOST:PORT") != NULL, "%s", err);
	sbx_config_fini(&c);
	CHECK(load(&c, good, err, sizeof(err)) == 0);
	CHECK_STR(c.tunnel_url, "tcp://0.0.0.0:7002");
	sbx_config_fini(&c);
}

static void test_local_urls(void)
{
	CHECK(sbx_node_url_local("ipc:///run/sandboxd/rpc.sock"));
	CHECK(sbx_node_url_local("inproc://x"));
	CHECK(sbx_node_url_local("tcp://127.0.0.1:7000"));
	CHECK(sbx_node_url_local("tcp://127.1.2.3:7000"));
	CHECK(sbx_node_url_local("tcp://localhost:7000"));
	CHECK(sbx_node_url_local("tcp://[::1]:7000"));
	CHECK(!sbx_node_url_local("tcp://0.0.0.0:7000"));
	CHECK(!sbx_node_url_local("tcp://:7000"));
	CHECK(!sbx_node_url_local("tcp://10.0.0.5:7000"));
	CHECK(!sbx_node_url_local("tcp://[::]:7000"));
	CHECK(!sbx_node_url_local("tcp://localhost.example:7000"));
	CHECK(!sbx_node_url_local("ws://0.0.0.0:7000/rpc"));
}

static void test_iso8601(void)
{
	int64_t ms = 0;
	char *s = sbx_iso8601(1767236645678LL);

	CHECK(sbx_iso8601_parse(s, &ms) == 0 && ms == 1767236645678LL);
	free(s);
	CHECK(sbx_iso8601_parse("2026-01-01T03:04:05Z", &ms) == 0 && ms == 1767236645000LL);
	CHECK(sbx_iso8601_parse("2026-01-01T03:04:05.6Z", &ms) == 0 && ms == 1767236645600LL);
	CHECK(sbx_iso8601_parse("2026-01-01T03:04:05.678999Z", &ms) == 0 &&
	      ms == 1767236645678LL);
	CHECK(sbx_iso8601_parse("2026-01-01T03:04:05+00:00", &ms) == 0);
	CHECK(sbx_iso8601_parse("2026-01-01T03:04:05", &ms) < 0);
	CHECK(sbx_iso8601_parse("2026-01-01T03:04:05.Z", &ms) < 0);
	CHECK(sbx_iso8601_parse("2026-01-01T03:04:05+02:00", &ms) < 0);
	CHECK(sbx_iso8601_parse("yesterday", &ms) < 0);
	CHECK(sbx_iso8601_parse("", &ms) < 0);
}

/* The cgroup's limit lowers the host's figures; no limit leaves them. */
static void test_memory(const char *dir)
{
	char mi[512], lim[512], use[512];
	uint64_t total = 0, avail = 0;

	snprintf(mi, sizeof(mi), "%s/meminfo", dir);
	snprintf(lim, sizeof(lim), "%s/limit", dir);
	snprintf(use, sizeof(use), "%s/usage", dir);
	write_file(mi, "MemTotal:       8388608 kB\nMemFree: 1 kB\nMemAvailable:   6291456 kB\n");
	CHECK(sbx_node_memory(mi, "", "", &total, &avail) == 0);
	CHECK_INT(total, 8192);
	CHECK_INT(avail, 6144);
	write_file(lim, "max\n"); /* v2, no limit */
	write_file(use, "104857600\n");
	CHECK(sbx_node_memory(mi, lim, use, &total, &avail) == 0 && total == 8192 && avail == 6144);
	write_file(lim, "9223372036854771712\n"); /* v1, no limit */
	CHECK(sbx_node_memory(mi, lim, use, &total, &avail) == 0 && total == 8192 && avail == 6144);
	write_file(lim, "536870912\n"); /* 512 MB, 100 MB used */
	CHECK(sbx_node_memory(mi, lim, use, &total, &avail) == 0);
	CHECK_INT(total, 512);
	CHECK_INT(avail, 412);
	write_file(use, "600000000\n"); /* over the limit (v1 allows a little) */
	CHECK(sbx_node_memory(mi, lim, use, &total, &avail) == 0 && total == 512 && avail == 0);
	CHECK(sbx_node_memory(lim, "", "", &total, &avail) == -EINVAL); /* no MemTotal */
}

/* Without a backend or objects: the id, tag and slots, no load. */
static void test_load(void)
{
	struct sbx_daemon d = {0};
	const char *args[] = {"--node-id", "n1", "--max-concurrent", "7", NULL};
	char err[512];
	Sbx__Node **v = NULL;
	size_t n = 0;

	CHECK(load(&d.cfg, args, err, sizeof(err)) == 0);
	CHECK(sbx_node_identity(&d.cfg, err, sizeof(err)) == 0);
	d.node = sbx_node_new();
	CHECK(sbx_node_list(&d, &v, &n) == 0 && n == 1);
	if (n == 1) {
		CHECK_STR(v[0]->id, "n1");
		CHECKF(strcmp(v[0]->tag, d.cfg.node_tag) == 0, "%s != %s", v[0]->tag, d.cfg.node_tag);
		CHECK_INT(v[0]->slots, 7);
		CHECK_INT(v[0]->running, 0);
		CHECK_INT(v[0]->objects, 0);
		CHECK_INT(v[0]->tunnel_port, 0);
		CHECK(v[0]->up);
		CHECK(v[0]->memory_total_mb > 0 && v[0]->memory_available_mb > 0 &&
		      v[0]->memory_available_mb <= v[0]->memory_total_mb);
		protobuf_c_message_free_unpacked(&v[0]->base, NULL);
	}
	free(v);
	sbx_node_free(d.node);
	sbx_config_fini(&d.cfg);
}

int main(void)
{
	char *dir = tl_tmpdir("sbx-test-node");

	CHECK(dir != NULL);
	if (!dir)
		TEST_DONE();
	test_identity(dir);
	test_key_file(dir);
	test_tunnel_setting();
	test_local_urls();
	test_iso8601();
	test_memory(dir);
	test_load();
	sbx_files_rmtree(dir);
	free(dir);
	TEST_DONE();
}
