#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "limits.pb-c.h"
#include "status.h"

struct sbx_audit {
	int fd;
};

int sbx_audit_open(const char *path, struct sbx_audit **ret)
{
	struct sbx_audit *a;
	int fd;

	/* O_APPEND: each write lands at the end even with several writers
	 * (a second daemon on the same state dir, logrotate's copytruncate). */
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	a = calloc(1, sizeof(*a));
	if (!a) {
		close(fd);
		return -ENOMEM;
	}
	a->fd = fd;
	*ret = a;
	return 0;
}

void sbx_audit_close(struct sbx_audit *a)
{
	if (!a)
		return;
	close(a->fd);
	free(a);
}

/* At most max bytes of s, cut on a UTF-8 character boundary; strings that
 * are not UTF-8 (argv[0] may be anything) are replaced, not dropped, so
 * that the line still says something was there. */
static json_t *bounded(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	json_t *j;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	j = json_stringn(s ? s : "", n);
	return j ? j : json_string("(not UTF-8)");
}

static const char *status_of(const struct sbx_exec_report *rep)
{
	const ProtobufCEnumValue *v;

	if (!rep->res)
		return rep->error == -EAGAIN || rep->error == -ETIMEDOUT ? "REJECTED" : "ERROR";
	v = protobuf_c_enum_descriptor_get_value(&sbx__exec_status__descriptor,
						 sbx_exec_status_shown(rep->res->status));
	return v ? v->name : "EXEC_STATUS_INTERNAL_ERROR";
}

/* The limits as given to the sandbox: only the fields that are set. */
static json_t *limits_json(const Sbx__Limits *l)
{
	const ProtobufCMessageDescriptor *d = &sbx__limits__descriptor;
	json_t *o = json_object();

	for (unsigned i = 0; l && o && i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *p = (const char *)l;

		if (!*(const protobuf_c_boolean *)(p + f->quantifier_offset))
			continue;
		json_object_set_new(
			o, f->name,
			json_integer(f->type == PROTOBUF_C_TYPE_UINT32
					     ? (json_int_t) * (const uint32_t *)(p + f->offset)
					     : (json_int_t) * (const uint64_t *)(p + f->offset)));
	}
	return o;
}

static json_t *line_json(const struct sbx_exec_report *rep, int64_t now_ms, size_t field_max)
{
	time_t t = (time_t)(now_ms / 1000);
	const Sbx__ExecResult *res = rep->res;
	char ts[64];
	struct tm tm;
	json_t *o;

	gmtime_r(&t, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(now_ms % 1000));
	o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "timestamp", json_string(ts));
	json_object_set_new(o, "client", bounded(*rep->client ? rep->client : "rpc", field_max));
	json_object_set_new(o, "method", bounded(rep->method, field_max));
	json_object_set_new(o, "kind", bounded(rep->kind, field_max));
	if (*rep->object_id)
		json_object_set_new(o, "object_id", bounded(rep->object_id, field_max));
	if (*rep->execution_id)
		json_object_set_new(o, "execution_id", bounded(rep->execution_id, field_max));
	json_object_set_new(o, "language", bounded(rep->language, field_max));
	json_object_set_new(o, "limits", limits_json(rep->limits));
	json_object_set_new(o, "status", json_string(status_of(rep)));
	if (res) {
		json_object_set_new(o, "exit_code", json_integer(res->exit_code));
		json_object_set_new(o, "signal", json_integer(res->signal));
		json_object_set_new(o, "duration_ms", json_integer((json_int_t)res->wall_time_ms));
		json_object_set_new(o, "cpu_time_ms", json_integer((json_int_t)res->cpu_time_ms));
		json_object_set_new(o, "memory_peak_kb",
				    json_integer((json_int_t)res->memory_peak_kb));
	} else {
		/* The status name, not call->error: that sentence may quote
		 * the request. */
		json_object_set_new(
			o, "error",
			json_string(sbx_status_name(sbx_status_from_errno(rep->error))));
	}
	return o;
}

int sbx_audit_format(const struct sbx_exec_report *rep, int64_t now_ms, char *buf, size_t cap)
{
	/* Escaping can grow a field up to six times (\u0000): if the line
	 * is too long, it is made again with short fields. */
	static const size_t field_max[] = {SBX_AUDIT_FIELD_MAX, 32};
	size_t limit = cap < SBX_AUDIT_LINE_MAX ? cap : SBX_AUDIT_LINE_MAX;

	for (size_t i = 0; i < sizeof(field_max) / sizeof(field_max[0]); i++) {
		json_t *o = line_json(rep, now_ms, field_max[i]);
		size_t n;

		if (!o)
			return -ENOMEM;
		/* json_dumpb writes at most `limit - 1` bytes and returns the
		 * size the whole text needs. */
		n = json_dumpb(o, buf, limit - 1, JSON_COMPACT);
		json_decref(o);
		if (n == 0)
			return -ENOMEM;
		if (n <= limit - 2) {
			buf[n++] = '\n';
			buf[n] = 0;
			return (int)n;
		}
	}
	return -ENOMEM;
}

int sbx_audit_write(struct sbx_audit *a, const struct sbx_exec_report *rep)
{
	char buf[SBX_AUDIT_LINE_MAX];
	int n = sbx_audit_format(rep, sbx_clock_wall_ms(), buf, sizeof(buf));
	ssize_t w;

	if (n < 0)
		return n;
	/* One write: O_APPEND makes it atomic against other appenders on a
	 * local file system; a short write (disk full) is reported, not
	 * retried, so a line is never split around another. */
	do
		w = write(a->fd, buf, (size_t)n);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	return w == n ? 0 : -ENOSPC;
}
