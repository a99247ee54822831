/* Logging for the binaries (never for library code paths a caller could
 * handle). One line per call on stderr: text, or JSON lines when the format
 * is SBX_LOG_JSON. The level and format are the only process globals. */
#ifndef SBX_LOG_H
#define SBX_LOG_H

enum sbx_log_level { SBX_LOG_ERROR, SBX_LOG_WARN, SBX_LOG_INFO, SBX_LOG_DEBUG };
enum sbx_log_format { SBX_LOG_TEXT, SBX_LOG_JSON };

void sbx_log_setup(enum sbx_log_level level, enum sbx_log_format format);
/* "error"/"warn"/"info"/"debug" (also "warning", "trace"); -EINVAL otherwise. */
int sbx_log_level_parse(const char *s);
int sbx_log_format_parse(const char *s);
int sbx_log_enabled(enum sbx_log_level level);

/* `id` names the object the line is about (sandbox id, request id), or NULL. */
void sbx_log(enum sbx_log_level level, const char *id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* An optional second destination of log lines (the daemon's admin log
 * ring). It receives every line of level INFO or above whatever the stderr
 * level, and DEBUG lines when those are enabled. `msg` is the formatted
 * text, `id` as given to sbx_log (may be NULL); both valid during the call.
 * It runs on the logging thread and must not log. */
struct sbx_log_sink {
	void (*fn)(void *arg, enum sbx_log_level level, const char *id, const char *msg);
	void *arg;
};
/* Install (or, with NULL, remove) the sink; *sink is the caller's and must
 * stay valid until removed. One sink per process, next to the level:
 * set it before threads log, remove it after they stopped. */
void sbx_log_set_sink(const struct sbx_log_sink *sink);

#define log_error(...) sbx_log(SBX_LOG_ERROR, NULL, __VA_ARGS__)
#define log_warn(...) sbx_log(SBX_LOG_WARN, NULL, __VA_ARGS__)
#define log_info(...) sbx_log(SBX_LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...)                                     \
	do {                                               \
		if (sbx_log_enabled(SBX_LOG_DEBUG))        \
			sbx_log(SBX_LOG_DEBUG, NULL, __VA_ARGS__); \
	} while (0)

#endif
