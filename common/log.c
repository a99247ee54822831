#include "log.h"

#include <errno.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

static enum sbx_log_level log_level = SBX_LOG_INFO;
static enum sbx_log_format log_format = SBX_LOG_TEXT;
/* stderr is systemd's journal (see sbx_log_setup). */
static bool log_journal;
/* Atomic: read on every line by any thread, written at start and stop. */
static _Atomic(const struct sbx_log_sink *) log_sink;

void sbx_log_set_sink(const struct sbx_log_sink *sink) { atomic_store(&log_sink, sink); }

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/* systemd sets JOURNAL_STREAM to "<dev>:<ino>" of the stream it connects
 * to the journal; stderr is that stream only when both match (a child
 * whose stderr went elsewhere inherits the variable). */
static bool stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (!v || sscanf(v, "%llu:%llu%c", &dev, &ino, &end) != 2 || fstat(2, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void sbx_log_setup(enum sbx_log_level level, enum sbx_log_format format)
{
	log_level = level;
	log_format = format;
	log_journal = stderr_is_journal();
}

int sbx_log_level_parse(const char *s)
{
	for (int i = 0; i <= SBX_LOG_DEBUG; i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return i;
	if (strcasecmp(s, "warning") == 0)
		return SBX_LOG_WARN;
	if (strcasecmp(s, "trace") == 0)
		return SBX_LOG_DEBUG;
	return -EINVAL;
}

int sbx_log_format_parse(const char *s)
{
	if (strcasecmp(s, "text") == 0 || strcasecmp(s, "pretty") == 0)
		return SBX_LOG_TEXT;
	if (strcasecmp(s, "json") == 0)
		return SBX_LOG_JSON;
	return -EINVAL;
}

int sbx_log_enabled(enum sbx_log_level level) { return level <= log_level; }

/* One line on stderr. In the journal: the level also as a syslog priority
 * prefix ("<3>" error .. "<7>" debug, which journald turns into PRIORITY=)
 * and no timestamp of our own (ts NULL), since the journal stamps every
 * line. */
static void emit(enum sbx_log_level level, const char *ts, const char *id, const char *msg)
{
	static const char *const prio[] = {"<3>", "<4>", "<6>", "<7>"};
	const char *pre = log_journal ? prio[level] : "";

	if (log_format == SBX_LOG_JSON) {
		json_t *o = json_object();
		if (!o)
			return;
		if (ts)
			json_object_set_new(o, "timestamp", json_string(ts));
		json_object_set_new(o, "level", json_string(level_names[level]));
		json_object_set_new(o, "message", json_string(msg));
		if (id)
			json_object_set_new(o, "id", json_string(id));
		char *line = json_dumps(o, JSON_COMPACT);
		if (line)
			fprintf(stderr, "%s%s\n", pre, line);
		free(line);
		json_decref(o);
	} else {
		fprintf(stderr, "%s%s%s%-5s %s%s%s\n", pre, ts ? ts : "", ts ? " " : "",
			level_names[level], id ? id : "", id ? ": " : "", msg);
	}
}

void sbx_log(enum sbx_log_level level, const char *id, const char *fmt, ...)
{
	const struct sbx_log_sink *sink = atomic_load(&log_sink);
	bool enabled = sbx_log_enabled(level);
	char msg[2048], ts[64];
	struct timeval tv;
	struct tm tm;
	va_list ap;

	if (!enabled && !(sink && level <= SBX_LOG_INFO))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sink)
		sink->fn(sink->arg, level, id, msg);
	if (!enabled)
		return;
	if (log_journal) {
		emit(level, NULL, id, msg);
		return;
	}
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (long)(tv.tv_usec / 1000) % 1000);
	emit(level, ts, id, msg);
}
