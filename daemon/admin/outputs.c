#include "outputs.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "objects.h"
#include "registry.h"

struct entry {
	char id[SBX_ID_LEN + 1]; /* "" = free */
	struct sbx_output_figures fig;
	uint64_t used;	 /* LRU clock */
	char *out, *err; /* tails, NUL-terminated */
	size_t out_len, err_len;
};

struct sbx_outputs {
	pthread_mutex_t lock;
	uint64_t clock;
	unsigned max;
	struct entry entries[];
};

int sbx_outputs_new(unsigned max, struct sbx_outputs **ret)
{
	struct sbx_outputs *o;

	if (max == 0 || max > 100000)
		return -EINVAL;
	o = calloc(1, sizeof(*o) + max * sizeof(o->entries[0]));
	if (!o)
		return -ENOMEM;
	pthread_mutex_init(&o->lock, NULL);
	o->max = max;
	*ret = o;
	return 0;
}

static void entry_clear(struct entry *e)
{
	free(e->out);
	free(e->err);
	memset(e, 0, sizeof(*e));
}

void sbx_outputs_free(struct sbx_outputs *o)
{
	if (!o)
		return;
	for (unsigned i = 0; i < o->max; i++)
		entry_clear(&o->entries[i]);
	pthread_mutex_destroy(&o->lock);
	free(o);
}

/* The entry of id, or NULL. Lock held. */
static struct entry *find(struct sbx_outputs *o, const char *id)
{
	for (unsigned i = 0; i < o->max; i++)
		if (o->entries[i].id[0] && strcmp(o->entries[i].id, id) == 0)
			return &o->entries[i];
	return NULL;
}

/* The last SBX_OUTPUTS_TAIL bytes, starting after a newline when the cut
 * fell inside a line, so that the first line shown is whole. */
static char *tail_dup(const ProtobufCBinaryData *b, size_t *ret_len)
{
	size_t off = 0, n;
	char *s;

	if (b->len > SBX_OUTPUTS_TAIL) {
		const void *nl;

		off = b->len - SBX_OUTPUTS_TAIL;
		nl = memchr(b->data + off, '\n', b->len - off);
		if (nl)
			off = (size_t)((const uint8_t *)nl - b->data) + 1;
	}
	n = b->len - off;
	s = malloc(n + 1);
	if (!s)
		return NULL;
	if (n)
		memcpy(s, b->data + off, n);
	s[n] = 0;
	*ret_len = n;
	return s;
}

int sbx_outputs_put(struct sbx_outputs *o, const char *id, int64_t now_ms,
		    const Sbx__ExecResult *res)
{
	size_t out_len = 0, err_len = 0;
	char *out = tail_dup(&res->stdout, &out_len), *err = tail_dup(&res->stderr, &err_len);
	struct entry *e;

	if (!out || !err || strlen(id) > SBX_ID_LEN) {
		free(out);
		free(err);
		return out && err ? -EINVAL : -ENOMEM;
	}
	pthread_mutex_lock(&o->lock);
	e = find(o, id);
	if (!e) {
		/* A free entry, else the least recently updated. */
		e = &o->entries[0];
		for (unsigned i = 0; i < o->max && e->id[0]; i++)
			if (!o->entries[i].id[0] || o->entries[i].used < e->used)
				e = &o->entries[i];
	}
	entry_clear(e);
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->used = ++o->clock;
	e->fig = (struct sbx_output_figures){
		.ended_ms = now_ms,
		.memory_peak_kb = res->memory_peak_kb,
		.cpu_time_ms = res->cpu_time_ms,
		.wall_time_ms = res->wall_time_ms,
	};
	e->out = out;
	e->out_len = out_len;
	e->err = err;
	e->err_len = err_len;
	pthread_mutex_unlock(&o->lock);
	return 0;
}

void sbx_outputs_forget(struct sbx_outputs *o, const char *id)
{
	struct entry *e;

	pthread_mutex_lock(&o->lock);
	e = find(o, id);
	if (e)
		entry_clear(e);
	pthread_mutex_unlock(&o->lock);
}

int sbx_outputs_figures(struct sbx_outputs *o, const char *id, struct sbx_output_figures *ret)
{
	struct entry *e;
	int r = -ENOENT;

	pthread_mutex_lock(&o->lock);
	e = find(o, id);
	if (e) {
		*ret = e->fig;
		r = 0;
	}
	pthread_mutex_unlock(&o->lock);
	return r;
}

Sbx__AdminLogLine *sbx_log_line_new(int64_t ms, const char *level, const char *msg, size_t msg_len,
				    const char *sandbox_id)
{
	Sbx__AdminLogLine *l =
		(Sbx__AdminLogLine *)sbx_message_new(&sbx__admin_log_line__descriptor);

	if (!l)
		return NULL;
	l->timestamp = sbx_iso8601(ms);
	l->level = strdup(level);
	l->message = strndup(msg, msg_len);
	l->sandbox_id = strdup(sandbox_id ? sandbox_id : "");
	if (!l->timestamp || !l->level || !l->message || !l->sandbox_id) {
		protobuf_c_message_free_unpacked(&l->base, NULL);
		return NULL;
	}
	return l;
}

/* Lines of text, the last one without its newline; a final newline makes
 * no empty line. */
static size_t count_lines(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (s[i] == '\n')
			n++;
	return n + (len && s[len - 1] != '\n');
}

/* Append lines [skip, ...) of s. Lock held. */
static int add_lines(Sbx__AdminLogsReply *r, const struct entry *e, const char *s, size_t len,
		     size_t skip, const char *level)
{
	size_t i = 0, start = 0;

	for (size_t pos = 0; pos <= len; pos++) {
		Sbx__AdminLogLine *l;

		if (pos < len && s[pos] != '\n')
			continue;
		if (pos == len && pos == start)
			break;
		if (i++ >= skip) {
			l = sbx_log_line_new(e->fig.ended_ms, level, s + start, pos - start, e->id);
			if (!l)
				return -ENOMEM;
			r->lines[r->n_lines++] = l;
		}
		start = pos + 1;
	}
	return 0;
}

int sbx_outputs_lines(struct sbx_outputs *o, const char *id, size_t n, Sbx__AdminLogsReply *r)
{
	size_t n_out, n_err, want, skip_out, skip_err;
	Sbx__AdminLogLine **grown;
	struct entry *e;
	int rv = 0;

	pthread_mutex_lock(&o->lock);
	e = find(o, id);
	if (!e)
		goto out;
	n_out = count_lines(e->out, e->out_len);
	n_err = count_lines(e->err, e->err_len);
	want = n < n_out + n_err ? n : n_out + n_err;
	/* Shown in the order kept (stdout, then stderr), so the newest are
	 * taken from stderr's end first, then from stdout's. */
	skip_err = n_err - (want < n_err ? want : n_err);
	skip_out = n_out - (want - (n_err - skip_err));
	grown = realloc(r->lines, (r->n_lines + want + 1) * sizeof(*r->lines));
	if (!grown) {
		rv = -ENOMEM;
		goto out;
	}
	r->lines = grown;
	rv = add_lines(r, e, e->out, e->out_len, skip_out, "INFO");
	if (rv == 0)
		rv = add_lines(r, e, e->err, e->err_len, skip_err, "ERROR");
out:
	pthread_mutex_unlock(&o->lock);
	return rv;
}
