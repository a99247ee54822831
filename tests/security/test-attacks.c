/* Real attacks from inside the sandbox; each must fail. One case per
 * function, named after the attack. Uses sh and python3 inside. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_util.h"
#include "testlib.h"

/* Host processes whose command line contains `marker`. */
static int host_procs_with(const char *marker)
{
	DIR *d = opendir("/proc");
	int n = 0;
	for (struct dirent *de; d && (de = readdir(d));) {
		char p[300], buf[4096];
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/cmdline", de->d_name);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		for (ssize_t i = 0; i < len; i++)
			if (buf[i] == 0)
				buf[i] = ' ';
		buf[len > 0 ? len : 0] = 0;
		if (strstr(buf, marker))
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

static void fork_bomb(struct sbx_engine *e)
{
	struct tu_spec s;
	tu_spec_init(&s);
	s.lim.pids = 16;
	s.lim.wall_time_ms = 2000;
	Sbx__ExecResult *r = tu_sh(e, "b() { b | b & }; b; sleep 5; echo 3141-bomb", &s);
	CHECKF(r->status != ST(OK) || strstr(tu_out(r), "3141-bomb"), "status %d", r->status);
	CHECK(r->wall_time_ms < 4000);
	tu_free(r);
	/* The host still forks, and the engine still runs sandboxes. */
	r = tu_sh(e, "echo alive", NULL);
	CHECK_STR(tu_out(r), "alive\n");
	tu_free(r);
}

static void memory_bomb(struct sbx_engine *e)
{
	struct tu_spec s;
	tu_spec_init(&s);
	s.lim.memory_kb = 64 * 1024;
	Sbx__ExecResult *r = tu_py(e,
				   "l = []\n"
				   "while True: l.append(bytearray(1 << 20))\n",
				   &s);
	CHECKF(r->status == ST(MEMORY_LIMIT), "status %d", r->status);
	CHECK(r->memory_peak_kb <= 64 * 1024 + 1024);
	tu_free(r);
	/* tmpfs pages count too: filling /dev/shm is a memory bomb as well. */
	r = tu_sh(e, "head -c 200000000 /dev/zero > /dev/shm/fill && echo wrote", &s);
	CHECK(strstr(tu_out(r), "wrote") == NULL || r->status != ST(OK));
	tu_free(r);
}

static void infinite_output(struct sbx_engine *e)
{
	struct tu_spec s;
	tu_spec_init(&s);
	s.lim.output_bytes = 4096;
	s.lim.wall_time_ms = 10000;
	/* Both streams past their limit first, for sure: on a loaded host
	 * one endless `yes` could start only after the other got the
	 * sandbox killed. */
	Sbx__ExecResult *r = tu_sh(e,
				   "yes AAAA | head -c 100000; yes BBBB | head -c 100000 >&2; "
				   "yes AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA & yes BBBB >&2",
				   &s);
	CHECK_INT(r->status, ST(OUTPUT_LIMIT));
	CHECK(r->stdout.len <= 4096 && r->stderr.len <= 4096);
	CHECK(r->stdout_truncated && r->stderr_truncated);
	CHECK(r->wall_time_ms < 9000);
	tu_free(r);
}

static void huge_file_write(struct sbx_engine *e)
{
	char *ws = tl_tmpdir("sbx-sec-ws");
	struct tu_spec s;
	tu_spec_init(&s);
	s.workspace = ws;
	s.lim.fsize_kb = 10240;
	Sbx__ExecResult *r = tu_sh(
		e, "dd if=/dev/zero of=/workspace/big bs=1M count=200 2>/dev/null; echo rc=$?", &s);
	CHECK(strstr(tu_out(r), "rc=0") == NULL);
	tu_free(r);
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/big", ws);
	CHECK(stat(p, &st) != 0 || st.st_size <= 10240 * 1024);
	unlink(p);
	rmdir(ws);
	free(ws);
	/* Many files under the limit each: bounded by the tmpfs size. */
	tu_spec_init(&s);
	r = tu_sh(e,
		  "i=0; while [ $i -lt 40 ]; do head -c 5000000 /dev/zero > /tmp/f$i || break; "
		  "i=$((i+1)); done; echo files=$i",
		  &s);
	CHECKF(strcmp(tu_out(r), "files=40\n") != 0, "%s", tu_out(r));
	tu_free(r);
}

static void network_egress(struct sbx_engine *e)
{
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	CHECK(bind(ls, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(listen(ls, 8) == 0);
	CHECK(getsockname(ls, (struct sockaddr *)&a, &len) == 0);
	char code[512];
	snprintf(code, sizeof(code),
		 "import socket\n"
		 "for host in ('127.0.0.1', '192.0.2.2', '198.51.100.8'):\n"
		 "    s = socket.socket(); s.settimeout(1)\n"
		 "    try:\n"
		 "        s.connect((host, %d)); print('connected', host)\n"
		 "    except OSError as e: print('refused', host)\n",
		 ntohs(a.sin_port));
	Sbx__ExecResult *r = tu_py(e, code, NULL);
	CHECKF(strstr(tu_out(r), "connected") == NULL, "%s", tu_out(r));
	CHECKF(strstr(tu_out(r), "refused 127.0.0.1") != NULL, "%s%s", tu_out(r), tu_err(r));
	tu_free(r);
	int c = accept(ls, NULL, NULL);
	CHECK(c < 0 && errno == EAGAIN);
	close(ls);
	/* Only loopback exists. */
	r = tu_sh(e, "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '", NULL);
	CHECK_STR(tu_out(r), "lo\n");
	tu_free(r);
}

static void read_secrets(struct sbx_engine *e)
{
	/* A host secret in a root-only place, and an (unlisted) host dir. */
	char *dir = tl_tmpdir("sbx-sec-secret");
	char p[512];
	snprintf(p, sizeof(p), "%s/secret.txt", dir);
	FILE *f = fopen(p, "w");
	fputs("TOPSECRET-42\n", f);
	fclose(f);
	char script[1024];
	snprintf(script, sizeof(script),
		 "cat /etc/shadow; ls -A /root; ls /home; cat %s; ls /var/lib/sandboxd; "
		 "cat /proc/1/environ; grep -r TOPSECRET-42 /etc /tmp /workspace /root 2>/dev/null; "
		 "cat /sys/kernel/notes; echo end",
		 p);
	Sbx__ExecResult *r = tu_sh(e, script, NULL);
	CHECK_STR(tu_out(r), "end\n");
	CHECK(strstr(tu_out(r), "TOPSECRET") == NULL && strstr(tu_err(r), "TOPSECRET") == NULL);
	CHECK(strstr(tu_out(r), "root:") == NULL);
	tu_free(r);
	unlink(p);
	rmdir(dir);
	free(dir);
}

static void write_readonly_root(struct sbx_engine *e)
{
	Sbx__ExecResult *r = tu_sh(e,
				   "for f in /usr/x /bin/x /etc/passwd /etc/x /x /lib/x /dev/x "
				   "/proc/sys/kernel/hostname; do "
				   "  (echo pwn > $f) 2>/dev/null && echo wrote $f; done; "
				   "mount -o remount,rw / 2>/dev/null && echo remounted; "
				   "mount -t tmpfs x /usr 2>/dev/null && echo mounted; "
				   "chmod 777 /usr 2>/dev/null && echo chmod; "
				   "touch /workspace/ok /tmp/ok && echo end",
				   NULL);
	CHECK_STR(tu_out(r), "end\n");
	tu_free(r);
}

static void ptrace_other(struct sbx_engine *e)
{
	Sbx__ExecResult *r = tu_py(e,
				   "import ctypes, os, time\n"
				   "libc = ctypes.CDLL(None, use_errno=True)\n"
				   "pid = os.fork()\n"
				   "if pid == 0:\n"
				   "    time.sleep(3); os._exit(0)\n"
				   "for target in (pid, 1):\n"
				   "    r = libc.ptrace(16, target, 0, 0)\n"
				   "    print(target == 1 and 'init' or 'child', r, ctypes.get_errno())\n"
				   "os.kill(pid, 9)\n",
				   NULL);
	CHECKF(strcmp(tu_out(r), "child -1 1\ninit -1 1\n") == 0, "%s%s", tu_out(r), tu_err(r));
	tu_free(r);
	/* /proc/<pid>/mem of the init is not readable either. */
	r = tu_sh(e, "head -c 1 /proc/1/mem >/dev/null 2>&1 && echo read; echo end", NULL);
	CHECK_STR(tu_out(r), "end\n");
	tu_free(r);
}

static void kernel_surface(struct sbx_engine *e)
{
	Sbx__ExecResult *r = tu_py(
		e,
		"import ctypes\n"
		"libc = ctypes.CDLL(None, use_errno=True)\n"
		"calls = {'mount': (165, b'none', b'/tmp', b'tmpfs', 0, 0),\n"
		"         'unshare': (272, 0x10000000), 'setns': (308, 0, 0),\n"
		"         'bpf': (321, 0, 0, 0), 'keyctl': (250, 0, 0, 0, 0, 0),\n"
		"         'add_key': (248, b'user', b'x', b'y', 1, 0),\n"
		"         'perf_event_open': (298, 0, 0, -1, -1, 0),\n"
		"         'io_uring_setup': (425, 1, 0), 'userfaultfd': (323, 0),\n"
		"         'init_module': (175, 0, 0, 0), 'kexec_load': (246, 0, 0, 0, 0),\n"
		"         'umount2': (166, b'/proc', 2), 'pivot_root': (155, b'/', b'/'),\n"
		"         'open_by_handle_at': (304, 0, 0, 0), 'syslog': (103, 3, 0, 0),\n"
		"         'clone_newuser': (56, 0x10000000 | 17, 0, 0, 0, 0),\n"
		"         'clone_newnet': (56, 0x40000000 | 17, 0, 0, 0, 0)}\n"
		"for name, args in calls.items():\n"
		"    r = libc.syscall(*args)\n"
		"    print(name, r, ctypes.get_errno())\n"
		"print('clone3', libc.syscall(435, 0, 0), ctypes.get_errno())\n",
		NULL);
	CHECK_INT(r->status, ST(OK));
	const char *out = tu_out(r);
	static const char *const names[] = {
		"mount",       "unshare", "setns",        "bpf",           "keyctl",
		"add_key",     "perf_event_open", "io_uring_setup", "userfaultfd", "init_module",
		"kexec_load",  "umount2", "pivot_root",   "open_by_handle_at", "syslog",
		"clone_newuser", "clone_newnet"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char want[64];
		snprintf(want, sizeof(want), "%s -1 1\n", names[i]);
		CHECKF(strstr(out, want) != NULL, "%s: %s", names[i], out);
	}
	CHECKF(strstr(out, "clone3 -1 38\n") != NULL, "%s", out);
	tu_free(r);
	/* The same from the shell's tools. */
	r = tu_sh(e, "unshare -U true 2>/dev/null && echo escaped; echo end", NULL);
	CHECK_STR(tu_out(r), "end\n");
	tu_free(r);
}

static void tmp_leak(struct sbx_engine *e)
{
	Sbx__ExecResult *r = tu_sh(e,
				   "echo s1 > /tmp/leak; echo s2 > /dev/shm/leak; echo s3 > "
				   "/workspace/leak; echo ok",
				   NULL);
	CHECK_STR(tu_out(r), "ok\n");
	tu_free(r);
	r = tu_sh(e, "cat /tmp/leak /dev/shm/leak /workspace/leak 2>/dev/null; ls -A /tmp /dev/shm",
		  NULL);
	CHECK_STR(tu_out(r), "/dev/shm:\n\n/tmp:\n");
	tu_free(r);
}

static void env_leak(struct sbx_engine *e)
{
	setenv("SBX_TEST_SECRET", "hunter2-env", 1);
	Sbx__ExecResult *r =
		tu_sh(e, "env; cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'; echo end", NULL);
	CHECK(strstr(tu_out(r), "hunter2") == NULL);
	CHECK(strstr(tu_out(r), "SBX_TEST_SECRET") == NULL);
	CHECK(strstr(tu_out(r), "ASAN") == NULL);
	tu_free(r);
	unsetenv("SBX_TEST_SECRET");
}

static void grandchild_survival(struct sbx_engine *e)
{
	struct tu_spec s;
	tu_spec_init(&s);
	s.lim.wall_time_ms = 1000;
	Sbx__ExecResult *r = tu_sh(e,
				   "setsid nohup sleep 1000.31337 >/dev/null 2>&1 & "
				   "(trap '' HUP TERM; nohup sleep 1000.31337 >/dev/null 2>&1 &) ; "
				   "while :; do :; done",
				   &s);
	CHECK(r->status == ST(WALL_TIME_LIMIT) || r->status == ST(TIME_LIMIT));
	tu_free(r);
	CHECK_INT(host_procs_with("1000.31337"), 0);
}

/* The payload exits at once, leaving daemonized grandchildren that hold
 * none of its output: its result must not come before they are gone (the
 * result may go before the reap only when nothing else is left). */
static void grandchild_after_exit(struct sbx_engine *e)
{
	for (int i = 0; i < 5; i++) {
		Sbx__ExecResult *r = tu_sh(e,
					   "setsid nohup sleep 1000.31338 >/dev/null 2>&1 </dev/null & "
					   "(nohup sleep 1000.31338 >/dev/null 2>&1 </dev/null &); exit 3",
					   NULL);
		CHECK(r->status == ST(RUNTIME_ERROR));
		CHECK_INT(r->exit_code, 3);
		tu_free(r);
		CHECK_INT(host_procs_with("1000.31338"), 0);
	}
}

static void upload_paths(struct sbx_engine *e)
{
	static const char *const bad[] = {"../x", "/etc/x", "a/../../x", "..", "a/./b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tu_spec s;
		tu_spec_init(&s);
		s.argv[0] = "/bin/true";
		tu_add_file(&s, bad[i], "x", false);
		int rc;
		Sbx__ExecResult *r = tu_run(e, &s, &rc);
		CHECKF(rc == -EINVAL, "%s accepted", bad[i]);
		tu_free(r);
	}
}

static void symlink_escape(struct sbx_engine *e)
{
	char *ws = tl_tmpdir("sbx-sec-link");
	char *outside = tl_tmpdir("sbx-sec-outside");
	char p[512], target[512];
	snprintf(target, sizeof(target), "%s/victim", outside);
	FILE *f = fopen(target, "w");
	fputs("original\n", f);
	fclose(f);
	/* A session's earlier run (or a malicious host-side actor) leaves
	 * symlinks: one to a host file, one to a directory. */
	snprintf(p, sizeof(p), "%s/link", ws);
	CHECK(symlink(target, p) == 0);
	snprintf(p, sizeof(p), "%s/dirlink", ws);
	CHECK(symlink(outside, p) == 0);
	struct tu_spec s;
	tu_spec_init(&s);
	s.workspace = ws;
	tu_add_file(&s, "link", "pwned\n", false);
	Sbx__ExecResult *r = tu_sh(e, "cat link", &s);
	CHECK_STR(tu_out(r), "pwned\n");
	tu_free(r);
	f = fopen(target, "r");
	char buf[64] = "";
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	const char *got = buf;
	CHECK_STR(got, "original\n");
	struct stat st;
	snprintf(p, sizeof(p), "%s/link", ws);
	CHECK(lstat(p, &st) == 0 && S_ISREG(st.st_mode));

	/* Through a directory symlink: refused, nothing written outside. */
	tu_spec_init(&s);
	s.workspace = ws;
	tu_add_file(&s, "dirlink/evil", "pwned\n", false);
	r = tu_sh(e, "true", &s);
	CHECK_INT(r->status, ST(INTERNAL_ERROR));
	tu_free(r);
	snprintf(p, sizeof(p), "%s/evil", outside);
	CHECK(access(p, F_OK) != 0);

	/* Made from inside, in the same session. */
	tu_spec_init(&s);
	s.workspace = ws;
	r = tu_sh(e, "rm -f link2; ln -s /etc/passwd link2", &s);
	tu_free(r);
	tu_add_file(&s, "link2", "x\n", false);
	r = tu_sh(e, "cat /etc/passwd | head -1", &s);
	CHECK_STR(tu_out(r), "root:x:0:0:root:/root:/bin/sh\n");
	tu_free(r);

	/* A workspace that is itself a symlink is refused. */
	snprintf(p, sizeof(p), "%s-ln", ws);
	CHECK(symlink(outside, p) == 0);
	tu_spec_init(&s);
	s.workspace = p;
	r = tu_sh(e, "touch x", &s);
	CHECK_INT(r->status, ST(INTERNAL_ERROR));
	tu_free(r);
	unlink(p);
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", ws, outside);
	CHECK(system(cmd) == 0);
	free(ws);
	free(outside);
}

int main(void)
{
	struct sbx_engine *e = tu_engine(SBX_CGROUP_AUTO);
	bool limits = strcmp(sbx_engine_cgroup_mode(e), "v1") == 0;
	fork_bomb(e);
	if (limits)
		memory_bomb(e);
	else
		printf("note: memory bomb needs a memory cgroup (mode %s)\n",
		       sbx_engine_cgroup_mode(e));
	infinite_output(e);
	huge_file_write(e);
	network_egress(e);
	read_secrets(e);
	write_readonly_root(e);
	ptrace_other(e);
	kernel_surface(e);
	tmp_leak(e);
	env_leak(e);
	grandchild_survival(e);
	grandchild_after_exit(e);
	upload_paths(e);
	symlink_escape(e);
	sbx_engine_free(e);
	TEST_DONE();
}
