#include "testlib.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int tl_passed, tl_failed;

void tl_fail(const char *file, int line, const char *expr, const char *fmt, ...)
{
	va_list ap;

	tl_failed++;
	fprintf(stderr, "FAIL %s:%d: %s", file, line, expr);
	if (fmt) {
		fputs(" -- ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
}

int tl_done(void)
{
	printf("%d passed, %d failed\n", tl_passed, tl_failed);
	return tl_failed ? 1 : 0;
}

char *tl_tmpdir(const char *prefix)
{
	char *p;

	if (asprintf(&p, "/tmp/%s-XXXXXX", prefix) < 0)
		return NULL;
	if (!mkdtemp(p)) {
		free(p);
		return NULL;
	}
	return p;
}

int tl_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

char *tl_bin(const char *name)
{
	const char *dir = getenv("SBX_BIN_DIR");
	char *p;

	if (name[0] == '/')
		return strdup(name);
	if (asprintf(&p, "%s/%s", dir ? dir : "build/bin", name) < 0)
		return NULL;
	return p;
}

void tl_check_readme(void (*markdown)(FILE *), const char *begin, const char *end)
{
	const char *src = getenv("SBX_SOURCE_DIR");
	char path[4096], *text = NULL, *want = NULL, *b, *e;
	size_t len = 0;
	FILE *f;

	if (!src)
		return;
	snprintf(path, sizeof(path), "%s/README.md", src);
	f = fopen(path, "re");
	CHECKF(f != NULL, "%s", path);
	if (!f)
		return;
	CHECK(getdelim(&text, &len, 0, f) > 0);
	fclose(f);
	f = open_memstream(&want, &len);
	markdown(f);
	fclose(f);
	b = text ? strstr(text, begin) : NULL;
	e = b ? strstr(b, end) : NULL;
	CHECKF(b && e, "README.md has no %s ... %s", begin, end);
	if (b && e) {
		b = strchr(b, '\n') + 1;
		*e = 0;
		CHECKF(strcmp(b, want) == 0,
		       "README.md's table is not what --help-markdown prints; replace it with:\n%s",
		       want);
	}
	free(text);
	free(want);
}
