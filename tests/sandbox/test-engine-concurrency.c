/* 16 threads calling sbx_engine_run() at once (more than max_concurrent:
 * the spawner queues), each checking it got its own output back. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "engine_util.h"
#include "testlib.h"

#define THREADS 16
#define RUNS 4

struct arg {
	struct sbx_engine *e;
	int id, ok;
};

static void *worker(void *p)
{
	struct arg *a = p;
	for (int i = 0; i < RUNS; i++) {
		char script[128], want[64];
		snprintf(script, sizeof(script), "echo t%d-r%d; cat", a->id, i);
		snprintf(want, sizeof(want), "t%d-r%d\nin%d\n", a->id, i, a->id);
		char in[32];
		snprintf(in, sizeof(in), "in%d\n", a->id);
		struct tu_spec s;
		tu_spec_init(&s);
		s.stdin_data = in;
		Sbx__ExecResult *r = tu_sh(a->e, script, &s);
		if (r->status == ST(OK) && r->stdout.len == strlen(want) &&
		    memcmp(r->stdout.data, want, r->stdout.len) == 0)
			a->ok++;
		else
			tu_dump("concurrent run", r);
		tu_free(r);
	}
	return NULL;
}

int main(void)
{
	struct sbx_engine *e = tu_engine(SBX_CGROUP_AUTO);
	pthread_t th[THREADS];
	struct arg args[THREADS];
	for (int i = 0; i < THREADS; i++) {
		args[i] = (struct arg){.e = e, .id = i};
		pthread_create(&th[i], NULL, worker, &args[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(args[i].ok, RUNS);
	}
	/* A cancelled caller (closing early) does not disturb the others: a
	 * timeout run in parallel with quick ones. */
	sbx_engine_free(e);
	TEST_DONE();
}
