/* The spawner's entry (spawner.c): what the daemon side of the engine
 * (engine.c) calls in the process it forks. Its state is spawner_state.h. */
#ifndef SBX_SPAWNER_H
#define SBX_SPAWNER_H

#include "cgroup.h"
#include "engine.h"

/* The spawner process's main loop. Never returns. `ctl_fd` is the control
 * socket; the first thing sent on it is an int: 0 when the spawner is
 * ready, or the negative errno that stopped it. */
_Noreturn void sbx_spawner_main(const struct sbx_engine_config *cfg, enum sbx_cgroup_mode mode,
				int ctl_fd);

#endif
