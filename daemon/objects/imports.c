/* See imports.h. */
#include "imports.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

#define SCAN_MAX_FILES 256
#define SCAN_MAX_BYTES (1u << 20) /* per file */
#define SCAN_MAX_DEPTH 3
#define NAME_MAX_LEN 214 /* npm's limit */

struct scan {
	char **names;
	size_t n;
	unsigned files;
	const char *manifest; /* package.json's text, "" when none */
};

static const char *const builtins[] = {
	"assert",
	"async_hooks",
	"buffer",
	"child_process",
	"cluster",
	"console",
	"constants",
	"crypto",
	"dgram",
	"diagnostics_channel",
	"dns",
	"domain",
	"events",
	"fs",
	"http",
	"http2",
	"https",
	"inspector",
	"module",
	"net",
	"os",
	"path",
	"perf_hooks",
	"process",
	"punycode",
	"querystring",
	"readline",
	"repl",
	"stream",
	"string_decoder",
	"sys",
	"timers",
	"tls",
	"trace_events",
	"tty",
	"url",
	"util",
	"v8",
	"vm",
	"wasi",
	"worker_threads",
	"zlib",
	"bun",
};

static bool source_file(const char *name)
{
	static const char *const exts[] = {".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".tsx"};
	size_t n = strlen(name);

	for (size_t i = 0; i < SBX_ARRAY_SIZE(exts); i++) {
		size_t e = strlen(exts[i]);

		if (n > e && strcmp(name + n - e, exts[i]) == 0)
			return true;
	}
	return false;
}

/* The package part of a specifier: "a/b" -> "a", "@s/a/b" -> "@s/a";
 * false when it is not a bare, well-formed package name. */
static bool package_of(const char *spec, size_t len, char *out)
{
	size_t end = 0, slashes = spec[0] == '@' ? 2 : 1, seen = 0;

	/* '-': the names are argv for npm/bun, where "--global" is an option. */
	if (len == 0 || spec[0] == '.' || spec[0] == '/' || spec[0] == '#' || spec[0] == '-')
		return false;
	/* "@/components/x": a tsconfig/bundler path alias, not a scope. */
	if (spec[0] == '@' && len > 1 && spec[1] == '/')
		return false;
	while (end < len) {
		char c = spec[end];

		if (c == '/' && ++seen == slashes)
			break;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '@' || c == '/' ||
		      c == '.' || c == '_' || c == '-'))
			return false; /* node:fs, bun:sqlite, URLs, upper case */
		end++;
	}
	if (end == 0 || end > NAME_MAX_LEN || (spec[0] == '@' && seen == 0))
		return false;
	memcpy(out, spec, end);
	out[end] = '\0';
	return out[end - 1] != '/';
}

static void add(struct scan *sc, const char *spec, size_t len)
{
	char name[NAME_MAX_LEN + 1], quoted[NAME_MAX_LEN + 3];

	if (sc->n >= SBX_IMPORTS_MAX || !package_of(spec, len, name))
		return;
	for (size_t i = 0; i < SBX_ARRAY_SIZE(builtins); i++)
		if (strcmp(name, builtins[i]) == 0)
			return;
	for (size_t i = 0; i < sc->n; i++)
		if (strcmp(sc->names[i], name) == 0)
			return;
	snprintf(quoted, sizeof(quoted), "\"%s\"", name);
	if (strstr(sc->manifest, quoted))
		return;
	char *dup = strdup(name);
	if (dup)
		sc->names[sc->n++] = dup;
}

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* After `p` (just past a keyword), an optional '(' and a quoted string. */
static void take_string(struct scan *sc, const char *p, const char *end, bool paren)
{
	p = skip_space(p, end);
	if (paren) {
		if (p >= end || *p != '(')
			return;
		p = skip_space(p + 1, end);
	}
	if (p >= end || (*p != '"' && *p != '\'' && *p != '`'))
		return;
	char q = *p++;
	const char *s = p;
	while (p < end && *p != q && *p != '\n')
		p++;
	if (p < end && *p == q)
		add(sc, s, (size_t)(p - s));
}

static bool word_at(const char *text, const char *p, const char *w)
{
	size_t n = strlen(w);
	char before = p > text ? p[-1] : ' ';

	return strncmp(p, w, n) == 0 &&
	       !((before >= 'a' && before <= 'z') || (before >= 'A' && before <= 'Z') ||
		 (before >= '0' && before <= '9') || before == '_' || before == '$' ||
		 before == '.');
}

static void scan_text(struct scan *sc, const char *text, size_t len)
{
	const char *end = text + len;

	for (const char *p = text; p < end; p++) {
		if (*p != 'f' && *p != 'i' && *p != 'r')
			continue;
		if (word_at(text, p, "from"))
			take_string(sc, p + 4, end, false);
		else if (word_at(text, p, "import")) {
			take_string(sc, p + 6, end, false);
			take_string(sc, p + 6, end, true);
		} else if (word_at(text, p, "require"))
			take_string(sc, p + 7, end, true);
	}
}

static char *read_text(int dirfd, const char *name)
{
	_cleanup_close_ int fd =
		openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	char *buf;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > SCAN_MAX_BYTES)
		return NULL;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return NULL;
	n = read(fd, buf, (size_t)st.st_size);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static void scan_dir(struct scan *sc, int dirfd, int depth)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;

	if (!d) {
		close(dirfd);
		return;
	}
	while ((de = readdir(d)) && sc->files < SCAN_MAX_FILES) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "node_modules") == 0)
			continue;
		if (de->d_type == DT_DIR && depth < SCAN_MAX_DEPTH) {
			int sub = openat(dirfd, de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				scan_dir(sc, sub, depth + 1);
		} else if (de->d_type == DT_REG && source_file(de->d_name)) {
			_cleanup_free_ char *text = read_text(dirfd, de->d_name);

			sc->files++;
			if (text)
				scan_text(sc, text, strlen(text));
		}
	}
	closedir(d);
}

int sbx_imports_missing(const char *workspace, char ***ret_names, size_t *n)
{
	struct scan sc = {0};
	_cleanup_free_ char *manifest = NULL;
	int dirfd = open(workspace, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	*ret_names = NULL;
	*n = 0;
	if (dirfd < 0)
		return 0; /* nothing to scan */
	sc.names = calloc(SBX_IMPORTS_MAX, sizeof(char *));
	if (!sc.names) {
		close(dirfd);
		return -ENOMEM;
	}
	manifest = read_text(dirfd, "package.json");
	sc.manifest = manifest ? manifest : "";
	scan_dir(&sc, dirfd, 0);
	*ret_names = sc.names;
	*n = sc.n;
	return 0;
}

void sbx_imports_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
