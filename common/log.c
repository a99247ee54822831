#include "log.h"

#include <errno.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

static enum sbx_log_level log_level = SBX_LOG_INFO;
static enum sbx_log_format log_format = SBX_LOG_TEXT;
/* Atomic: read on every line by any thread, written at start and stop. */
static _Atomic(const struct sbx_log_sink *) log_sink;

void sbx_log_set_sink(const struct sbx_log_sink *sink) { atomic_store(&log_sink, sink); }

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void sbx_log_setup(enum sbx_log_level level, enum sbx_log_format format)
{
	log_level = level;
	log_format = format;
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
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (long)(tv.tv_usec / 1000) % 1000);

	if (log_format == SBX_LOG_JSON) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "timestamp", ts, "level",
				      level_names[level], "message", msg);
		if (!o)
			return;
		if (id)
			json_object_set_new(o, "id", json_string(id));
		char *line = json_dumps(o, JSON_COMPACT);
		if (line)
			fprintf(stderr, "%s\n", line);
		free(line);
		json_decref(o);
	} else {
		fprintf(stderr, "%s %-5s %s%s%s\n", ts, level_names[level], id ? id : "",
			id ? ": " : "", msg);
	}
}
