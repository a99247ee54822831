/* See clock.h. */
#include "clock.h"

static struct timespec now(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts;
}

int64_t sbx_clock_ms(clockid_t clock)
{
	struct timespec ts = now(clock);

	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sbx_clock_wall_ms(void)
{
	return sbx_clock_ms(CLOCK_REALTIME);
}

int64_t sbx_clock_mono_ms(void)
{
	return sbx_clock_ms(CLOCK_MONOTONIC);
}

int64_t sbx_clock_mono_us(void)
{
	struct timespec ts = now(CLOCK_MONOTONIC);

	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t sbx_clock_mono_ns(void)
{
	struct timespec ts = now(CLOCK_MONOTONIC);

	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct timespec sbx_clock_deadline(clockid_t clock, int64_t ms)
{
	struct timespec ts = now(clock);

	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

bool sbx_clock_passed(clockid_t clock, const struct timespec *deadline)
{
	struct timespec ts = now(clock);

	return ts.tv_sec > deadline->tv_sec ||
	       (ts.tv_sec == deadline->tv_sec && ts.tv_nsec >= deadline->tv_nsec);
}
