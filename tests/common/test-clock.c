/* Clock readings and deadlines (common/clock.c), and whole reads and
 * writes (common/fdio.c). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "fdio.h"
#include "testlib.h"

static void test_readings(void)
{
	int64_t wall = sbx_clock_wall_ms(), mono = sbx_clock_mono_ms();
	int64_t us = sbx_clock_mono_us(), ns = sbx_clock_mono_ns();

	/* The wall clock agrees with time(); the monotonic units agree. */
	CHECKF(wall / 1000 - time(NULL) <= 1 && time(NULL) - wall / 1000 <= 1, "%lld",
	       (long long)wall);
	CHECK(us / 1000 >= mono && us / 1000 - mono < 1000);
	CHECK(ns / 1000 >= us && ns / 1000 - us < 1000000);
	CHECK(sbx_clock_mono_ms() >= mono);
	CHECK(sbx_clock_ms(CLOCK_MONOTONIC) >= mono);
}

static void test_deadlines(void)
{
	struct timespec now, d;

	clock_gettime(CLOCK_MONOTONIC, &now);
	d = sbx_clock_deadline(CLOCK_MONOTONIC, 2999);
	/* Normalised, and 2.999 s ahead. */
	CHECK(d.tv_nsec >= 0 && d.tv_nsec < 1000000000);
	{
		int64_t ahead = ((int64_t)d.tv_sec - now.tv_sec) * 1000 +
				(d.tv_nsec - now.tv_nsec) / 1000000;

		CHECKF(ahead >= 2998 && ahead <= 3100, "%lld ms", (long long)ahead);
	}
	CHECK(!sbx_clock_passed(CLOCK_MONOTONIC, &d));
	d = sbx_clock_deadline(CLOCK_MONOTONIC, 0);
	CHECK(sbx_clock_passed(CLOCK_MONOTONIC, &d));
	d = sbx_clock_deadline(CLOCK_REALTIME, 20);
	CHECK(!sbx_clock_passed(CLOCK_REALTIME, &d));
	usleep(30 * 1000);
	CHECK(sbx_clock_passed(CLOCK_REALTIME, &d));
}

static void test_fdio(void)
{
	static char big[1 << 20], back[1 << 20];
	int sv[2];
	pid_t pid;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	/* More than a socket buffer: short writes are retried. */
	pid = fork();
	if (pid == 0) {
		close(sv[1]);
		_exit(sbx_write_full(sv[0], big, sizeof(big)) == 0 ? 0 : 1);
	}
	close(sv[0]);
	CHECK_INT(sbx_read_full(sv[1], back, sizeof(back)), 0);
	CHECK(memcmp(big, back, sizeof(big)) == 0);
	/* End of file before len bytes. */
	CHECK_INT(sbx_read_full(sv[1], back, 1), -ECONNRESET);
	close(sv[1]);
	/* A closed peer: -EPIPE, no SIGPIPE. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	close(sv[1]);
	CHECK_INT(sbx_write_full(sv[0], "x", 1), -EPIPE);
	close(sv[0]);
	/* Not a socket: plain write(). */
	{
		int p[2];

		CHECK(pipe2(p, O_CLOEXEC) == 0);
		CHECK_INT(sbx_write_full(p[1], "abc", 3), 0);
		CHECK_INT(sbx_read_full(p[0], back, 3), 0);
		CHECK(memcmp(back, "abc", 3) == 0);
		close(p[0]);
		close(p[1]);
	}
	waitpid(pid, &(int){0}, 0);
}

int main(void)
{
	test_readings();
	test_deadlines();
	test_fdio();
	TEST_DONE();
}
