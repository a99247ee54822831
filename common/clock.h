/* Clock readings and deadlines, one set for every process. Two clocks
 * with two uses: the wall clock (CLOCK_REALTIME) for timestamps that are
 * stored, shown or sent to another process (RPC deadlines); the monotonic
 * clock for durations and local timeouts, which must not jump when the
 * wall clock is set. None of these fail: clock_gettime cannot, for these
 * clocks on Linux. */
#ifndef SBX_CLOCK_H
#define SBX_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds on `clock` (any clockid_t, e.g. CLOCK_REALTIME_COARSE where
 * a cheaper, 1-4 ms coarse reading will do). */
int64_t sbx_clock_ms(clockid_t clock);

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t sbx_clock_wall_ms(void);

/* The monotonic clock in milliseconds, microseconds, nanoseconds: only
 * differences of two readings mean anything. */
int64_t sbx_clock_mono_ms(void);
int64_t sbx_clock_mono_us(void);
int64_t sbx_clock_mono_ns(void);

/* The absolute time `ms` (>= 0) from now on `clock`, normalised, for
 * pthread_cond_timedwait (CLOCK_REALTIME unless the condition variable was
 * set to another clock) or pthread_timedjoin_np (CLOCK_REALTIME). */
struct timespec sbx_clock_deadline(clockid_t clock, int64_t ms);

/* Has `clock` reached `deadline` (a value of sbx_clock_deadline)? */
bool sbx_clock_passed(clockid_t clock, const struct timespec *deadline);

#endif
