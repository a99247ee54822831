/* Resource limits of the payload (rlimit.c). */
#ifndef SBX_RLIMIT_H
#define SBX_RLIMIT_H

#include <sys/types.h>

#include "limits.pb-c.h"

/* Give process pid (0 = the caller) l's limits, each hard limit clamped to
 * what the process has (a user namespace cannot raise one); RLIMIT_CPU
 * with spent_ms more (CPU time the process used before the request).
 * Called by the payload on itself before execve(), and by the init of a
 * warm python sandbox for its already started payload (prlimit(2), which
 * takes CAP_SYS_RESOURCE in the payload's user namespace: the init has
 * it). 0 or a negative errno. */
int sbx_rlimit_apply(pid_t pid, const Sbx__Limits *l, uint64_t spent_ms);

#endif
