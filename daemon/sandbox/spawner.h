/* The spawner's entry (spawner.c): what the daemon side of the engine
 * (engine.c) calls in the process it forks. Its state is spawner_state.h. */
#ifndef SBX_SPAWNER_H
#define SBX_SPAWNER_H

#include <stdint.h>

#include "cgroup.h"
#include "engine.h"

/* The spawner runs as a program of its own, sbx-spawner (spawner_main.c),
 * next to the binary that starts the engine: engine.c forks and execs it
 * with the control socket at SBX_SPAWNER_CTL_FD and a struct
 * sbx_spawner_boot to read at SBX_SPAWNER_BOOT_FD. Every sandbox starts as
 * a fork of the spawner, which copies all of the spawner's mappings; a
 * fork of the daemon would carry its ~240 (44 shared libraries), a static
 * sbx-spawner carries about 12 (README, "Where an execution's time goes").
 * Without sbx-spawner next to it, the engine runs the spawner in its fork. */
#define SBX_SPAWNER_EXE "sbx-spawner"
#define SBX_SPAWNER_CTL_FD 3
/* The spawner's first word on the control socket: -errno, or these flags.
 * MEMORY: a memory cgroup controller holds every sandbox to its limit. */
#define SBX_SPAWNER_BOOT_MEMORY 1
#define SBX_SPAWNER_BOOT_FD 4
#define SBX_SPAWNER_MAGIC 0x53425853u /* "SXBS": same build on both sides */

struct sbx_spawner_boot {
	uint32_t magic, size; /* size: sizeof(struct sbx_spawner_boot) */
	struct sbx_engine_config cfg; /* state_dir: NULL, see below */
	int32_t cg_mode;
	char state_dir[256];
};

/* The spawner process's main loop. Never returns. `ctl_fd` is the control
 * socket; the first thing sent on it is an int: 0 when the spawner is
 * ready, or the negative errno that stopped it. */
_Noreturn void sbx_spawner_main(const struct sbx_engine_config *cfg, enum sbx_cgroup_mode mode,
				int ctl_fd);

#endif
