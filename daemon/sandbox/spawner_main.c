/* sbx-spawner: the engine's spawner as a program of its own, started by
 * the engine (engine.c) in every process that runs sandboxes (sandboxd,
 * `sandboxd --run`, the engine's tests and benchmarks). See spawner.h for
 * why it is not simply a fork of its caller. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "spawner.h"

int main(int argc, char **argv)
{
	struct sbx_spawner_boot b;
	struct stat st;
	if (argc > 1 || fstat(SBX_SPAWNER_CTL_FD, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "%s: the sandbox engine's spawner; sandboxd starts it, it is not "
				"a command of its own\n",
			argv[0] ? argv[0] : SBX_SPAWNER_EXE);
		return 2;
	}
	int r = sbx_read_full(SBX_SPAWNER_BOOT_FD, &b, sizeof(b));
	close(SBX_SPAWNER_BOOT_FD);
	if (r < 0 || b.magic != SBX_SPAWNER_MAGIC || b.size != sizeof(b) ||
	    memchr(b.state_dir, 0, sizeof(b.state_dir)) == NULL) {
		/* Another build's spawner: say so the way the engine hears it. */
		int err = -EPROTO;
		sbx_write_full(SBX_SPAWNER_CTL_FD, &err, sizeof(err));
		return 1;
	}
	b.cfg.state_dir = b.state_dir;
	sbx_spawner_main(&b.cfg, (enum sbx_cgroup_mode)b.cg_mode, SBX_SPAWNER_CTL_FD);
}
