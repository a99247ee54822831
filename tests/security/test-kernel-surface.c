/* The seccomp policy seen from a real sandbox: sbx-try-syscall (one row per
 * rule, try-syscall.c) runs inside a sandbox and, as the control, on the
 * host as root. Inside, each refused call must get the filter's errno;
 * outside, the kernel's own answer must differ from it (else the probe
 * could not tell a missing rule). Calls the policy lets through must get
 * the same answer on both sides. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_util.h"
#include "testlib.h"

#define MAX_ROWS 512

struct answer {
	char name[96];
	int want, got;
};

/* "name want got" lines; returns the number parsed. */
static int parse(const char *text, struct answer *out)
{
	int n = 0;
	for (const char *p = text; *p && n < MAX_ROWS;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[64 + 32];
		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, p, len);
		line[len] = 0;
		char *got = strrchr(line, ' ');
		if (got) {
			*got++ = 0;
			char *want = strrchr(line, ' ');
			if (want) {
				*want++ = 0;
				snprintf(out[n].name, sizeof(out[n].name), "%s", line);
				out[n].want = atoi(want);
				out[n].got = atoi(got);
				n++;
			}
		}
		p += len + (nl ? 1 : 0);
	}
	return n;
}

static char *run_host(const char *probe)
{
	static char buf[65536];
	FILE *f = popen(probe, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	int st = pclose(f);
	return st == 0 ? buf : NULL;
}

static int copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
	char buf[65536];
	size_t n;
	int r = in && out ? 0 : -1;
	while (r == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			r = -1;
	if (in)
		fclose(in);
	if (out && fclose(out) != 0)
		r = -1;
	return r == 0 ? chmod(to, 0755) : r;
}

int main(void)
{
	static struct answer host[MAX_ROWS], box[MAX_ROWS];
	struct sbx_engine *e = tu_engine(SBX_CGROUP_AUTO);
	/* The kernel checks capabilities before arguments in some calls: only
	 * as root does the control get past them to the kernel's own errno. */
	if (geteuid() != 0)
		SKIP("the control run needs root");
	char *probe = tl_bin("sbx-try-syscall");
	const char *text = run_host(probe);
	CHECKF(text != NULL, "%s failed on the host", probe);
	int nhost = text ? parse(text, host) : 0;

	char *ws = tl_tmpdir("sbx-surface");
	char dst[512];
	snprintf(dst, sizeof(dst), "%s/try-syscall", ws);
	CHECK(copy_file(probe, dst) == 0);
	struct tu_spec s;
	tu_spec_init(&s);
	s.workspace = ws;
	s.argv[0] = "/workspace/try-syscall";
	int rc;
	Sbx__ExecResult *r = tu_run(e, &s, &rc);
	CHECKF(r->status == ST(OK), "status %d: %s", r->status, tu_err(r));
	int nbox = parse(tu_out(r), box);
	CHECKF(nbox == nhost && nbox > 100, "%d rows inside, %d outside", nbox, nhost);

	int refused = 0, passed = 0;
	for (int i = 0; i < nbox && i < nhost; i++) {
		const struct answer *in = &box[i], *out = &host[i];
		CHECK_STR(in->name, out->name);
		if (in->want) {
			CHECKF(in->got == in->want, "%s: %s inside the sandbox, want %s", in->name,
			       strerror(in->got), strerror(in->want));
			CHECKF(out->got != in->want,
			       "%s: the kernel itself answers %s: the probe cannot tell the rule",
			       in->name, strerror(out->got));
			refused++;
		} else {
			CHECKF(in->got == out->got, "%s: %s inside, %s on the host", in->name,
			       strerror(in->got), strerror(out->got));
			passed++;
		}
	}
	printf("%d calls refused by the filter, %d let through unchanged\n", refused, passed);
	tu_free(r);
	sbx_engine_free(e);
	unlink(dst);
	rmdir(ws);
	free(ws);
	free(probe);
	TEST_DONE();
}
