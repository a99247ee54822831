/* common/log.c's lines: a timestamp on a terminal or file; under systemd
 * (JOURNAL_STREAM naming stderr) none, since the journal stamps each line,
 * and the level as a syslog priority prefix journald reads. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "testlib.h"

static char path[4200];

/* Log one line with stderr on a fresh file and JOURNAL_STREAM set to
 * that file's dev:ino plus ino_delta (0: it is "the journal"; 1: another
 * stream, as a child whose stderr went elsewhere sees); return the line. */
static char *one_line(enum sbx_log_format format, int ino_delta, enum sbx_log_level level,
		      const char *id, const char *msg)
{
	static char line[4096];
	struct stat st;
	char env[64];
	int saved = dup(2), fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	CHECK(saved >= 0 && fd >= 0 && fstat(fd, &st) == 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + (unsigned long long)ino_delta);
	setenv("JOURNAL_STREAM", env, 1);
	fflush(stderr);
	CHECK(dup2(fd, 2) == 2);
	sbx_log_setup(SBX_LOG_DEBUG, format);
	sbx_log(level, id, "%s", msg);
	fflush(stderr);
	CHECK(dup2(saved, 2) == 2);
	close(saved);
	ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
	close(fd);
	CHECK(n > 0);
	line[n > 0 ? n : 0] = 0;
	unsetenv("JOURNAL_STREAM");
	sbx_log_setup(SBX_LOG_INFO, SBX_LOG_TEXT);
	return line;
}

int main(void)
{
	char *dir = tl_tmpdir("test-log");
	const char *l;

	snprintf(path, sizeof(path), "%s/stderr", dir);

	/* The journal: no timestamp, the priority first. */
	l = one_line(SBX_LOG_TEXT, 0, SBX_LOG_INFO, NULL, "listening");
	CHECK_STR(l, "<6>info  listening\n");
	l = one_line(SBX_LOG_TEXT, 0, SBX_LOG_ERROR, "sbx-1", "boom");
	CHECK_STR(l, "<3>error sbx-1: boom\n");
	l = one_line(SBX_LOG_TEXT, 0, SBX_LOG_WARN, NULL, "w");
	CHECK_STR(l, "<4>warn  w\n");
	l = one_line(SBX_LOG_TEXT, 0, SBX_LOG_DEBUG, NULL, "d");
	CHECK_STR(l, "<7>debug d\n");
	l = one_line(SBX_LOG_JSON, 0, SBX_LOG_WARN, "x", "m");
	CHECK_STR(l, "<4>{\"level\":\"warn\",\"message\":\"m\",\"id\":\"x\"}\n");

	/* Another stream (JOURNAL_STREAM inherited, stderr elsewhere) and no
	 * variable at all: the ISO timestamp stays, no prefix. */
	l = one_line(SBX_LOG_TEXT, 1, SBX_LOG_INFO, NULL, "listening");
	CHECKF(strlen(l) > 24 && l[4] == '-' && l[10] == 'T' && l[23] == 'Z' &&
		       strcmp(l + 24, " info  listening\n") == 0,
	       "%s", l);
	l = one_line(SBX_LOG_JSON, 1, SBX_LOG_INFO, NULL, "m");
	CHECKF(strncmp(l, "{\"timestamp\":\"", 14) == 0 &&
		       strstr(l, "Z\",\"level\":\"info\",\"message\":\"m\"}\n"),
	       "%s", l);

	unlink(path);
	rmdir(dir);
	free(dir);
	TEST_DONE();
}
