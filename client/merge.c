/* The answers of a fan-out call made one (README "Cluster"): lists are
 * concatenated in node order, the execution history is newest first cut at
 * the request's limit, admin logs oldest first keeping the newest lines,
 * statistics and status summed (their warm pools by kind). The merged
 * message is the first OK answer with the others' elements moved into it
 * (protobuf-c messages own their elements one by one, so moving pointers
 * moves ownership). */
#include "merge.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "admin.pb-c.h"
#include "envelope.h"
#include "status.h"

#define LIST_DEFAULT 100
#define LIST_MAX 1000

/* An answer that takes part: the others were named partial. */
static bool ok_part(const struct part *p)
{
	return p->err == 0 && p->reply.status == SBX_OK && p->reply.msg;
}

static ProtobufCMessage **rep_field(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
				    size_t **ret_n)
{
	*ret_n = (size_t *)((char *)m + f->quantifier_offset);
	return (ProtobufCMessage **)((char *)m + f->offset);
}

/* Move every element of repeated field f of parts' OK messages into dst's. */
static int concat_field(ProtobufCMessage *dst, const ProtobufCFieldDescriptor *f,
			struct part *parts, size_t n)
{
	size_t total = 0, k = 0, *cnt;
	void **all, **arr;

	for (size_t i = 0; i < n; i++) {
		if (ok_part(&parts[i])) {
			rep_field(parts[i].reply.msg, f, &cnt);
			total += *cnt;
		}
	}
	all = malloc((total ? total : 1) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		ProtobufCMessage *m = parts[i].reply.msg;

		if (!ok_part(&parts[i]))
			continue;
		arr = (void **)*rep_field(m, f, &cnt);
		for (size_t j = 0; j < *cnt; j++)
			all[k++] = arr[j];
		free(arr);
		*(void **)rep_field(m, f, &cnt) = NULL;
		*cnt = 0;
	}
	*(void **)rep_field(dst, f, &cnt) = all;
	*cnt = total;
	return 0;
}

/* Concatenate every repeated field whose elements are pointers. */
static int concat_all(ProtobufCMessage *dst, struct part *parts, size_t n)
{
	const ProtobufCMessageDescriptor *d = dst->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (f->label != PROTOBUF_C_LABEL_REPEATED ||
		    (f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING))
			continue;
		if (concat_field(dst, f, parts, n) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Sorting keeps node order among equal keys (a stable sort by index). */
struct keyed {
	const char *key;
	size_t idx;
	void *elem;
};

static int cmp_newest(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int r = strcmp(y->key, x->key);

	return r ? r : (x->idx > y->idx) - (x->idx < y->idx);
}

static int cmp_oldest(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int r = strcmp(x->key, y->key);

	return r ? r : (x->idx > y->idx) - (x->idx < y->idx);
}

/* Sort elems[0..n) by key() with cmp and keep `keep` of them: the first
 * ones (from_end false) or the last ones; the others are freed. */
static int sort_and_cut(void **elems, size_t *n, const char *(*key)(const void *),
			int (*cmp)(const void *, const void *), size_t keep, bool from_end)
{
	struct keyed *k = malloc((*n ? *n : 1) * sizeof(*k));
	size_t skip;

	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++)
		k[i] = (struct keyed){ .key = key(elems[i]), .idx = i, .elem = elems[i] };
	qsort(k, *n, sizeof(*k), cmp);
	if (keep > *n)
		keep = *n;
	skip = from_end ? *n - keep : 0;
	for (size_t i = 0; i < *n; i++)
		if (i < skip || i >= skip + keep)
			protobuf_c_message_free_unpacked(k[i].elem, NULL);
	for (size_t i = 0; i < keep; i++)
		elems[i] = k[skip + i].elem;
	*n = keep;
	free(k);
	return 0;
}

static const char *started_at(const void *e)
{
	const char *s = ((const Sbx__Execution *)e)->started_at;

	return s ? s : "";
}

static const char *timestamp(const void *e)
{
	const char *s = ((const Sbx__AdminLogLine *)e)->timestamp;

	return s ? s : "";
}

static size_t list_limit(uint32_t asked)
{
	return asked == 0 ? LIST_DEFAULT : asked > LIST_MAX ? LIST_MAX : asked;
}

/* Every node of c as sbx.Node messages, down ones with up=false. */
static int all_nodes(struct sbx_client *c, Sbx__Node ***ret, size_t *ret_n)
{
	Sbx__Node **v;
	size_t n = 0;
	int r = 0;

	const struct node *gone;
	size_t n_gone;

	pthread_mutex_lock(&c->lock);
	n_gone = cluster_gone(c, &gone);
	v = calloc(c->n_nodes + n_gone + 1, sizeof(*v));
	for (size_t i = 0; v && i < c->n_nodes && r == 0; i++)
		if ((r = cluster_node_message(c->nodes[i], &v[n])) == 0)
			n++;
	/* DNS dropped them, they may come back: listed down. */
	for (size_t i = 0; v && i < n_gone && r == 0; i++)
		if ((r = cluster_node_message(&gone[i], &v[n])) == 0)
			n++;
	pthread_mutex_unlock(&c->lock);
	if (!v || r < 0) {
		for (size_t i = 0; v && i < n; i++)
			protobuf_c_message_free_unpacked(&v[i]->base, NULL);
		free(v);
		return -ENOMEM;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static int set_nodes(struct sbx_client *c, Sbx__Node ***field, size_t *n_field)
{
	Sbx__Node **v;
	size_t n;

	if (all_nodes(c, &v, &n) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < *n_field; i++)
		protobuf_c_message_free_unpacked(&(*field)[i]->base, NULL);
	free(*field);
	*field = v;
	*n_field = n;
	return 0;
}

/* Add the language counts of src into dst, moving entries dst lacks. */
static int sum_languages(Sbx__StatsReply *dst, Sbx__StatsReply *src)
{
	for (size_t j = 0; j < src->n_executions_by_language; j++) {
		Sbx__StatsReply__ExecutionsByLanguageEntry *e = src->executions_by_language[j], **grown;
		bool found = false;

		for (size_t i = 0; i < dst->n_executions_by_language && !found; i++) {
			if (strcmp(dst->executions_by_language[i]->key, e->key) == 0) {
				dst->executions_by_language[i]->value += e->value;
				found = true;
			}
		}
		if (found)
			continue;
		grown = realloc(dst->executions_by_language,
				(dst->n_executions_by_language + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		dst->executions_by_language = grown;
		grown[dst->n_executions_by_language++] = e;
		src->executions_by_language[j] = NULL;
	}
	/* Entries moved above left holes: drop the rest with src. */
	for (size_t j = 0; j < src->n_executions_by_language; j++)
		if (src->executions_by_language[j])
			protobuf_c_message_free_unpacked(&src->executions_by_language[j]->base, NULL);
	free(src->executions_by_language);
	src->executions_by_language = NULL;
	src->n_executions_by_language = 0;
	return 0;
}

static bool same_kind(const Sbx__WarmPool *a, const Sbx__WarmPool *b)
{
	return strcmp(a->kind ? a->kind : "", b->kind ? b->kind : "") == 0;
}

/* Add src's pools into dst's by kind, moving the kinds dst lacks: the
 * cluster's pools of one kind read as one bigger pool. src is left empty. */
static int sum_warm_pools(Sbx__WarmPool ***dst, size_t *n_dst, Sbx__WarmPool ***src, size_t *n_src)
{
	for (size_t j = 0; j < *n_src; j++) {
		Sbx__WarmPool *p = (*src)[j], *q = NULL, **grown;

		for (size_t i = 0; i < *n_dst && !q; i++)
			if (same_kind((*dst)[i], p))
				q = (*dst)[i];
		if (q) {
			q->size += p->size;
			q->ready += p->ready;
			q->in_use += p->in_use;
			q->built += p->built;
			q->taken += p->taken;
			q->misses += p->misses;
			q->failed += p->failed;
			q->refill_per_s += p->refill_per_s;
			q->memory_kb += p->memory_kb;
			continue;
		}
		grown = realloc(*dst, (*n_dst + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		*dst = grown;
		grown[(*n_dst)++] = p;
		(*src)[j] = NULL;
	}
	/* Pools moved above left holes: drop the rest with src. */
	for (size_t j = 0; j < *n_src; j++)
		if ((*src)[j])
			protobuf_c_message_free_unpacked(&(*src)[j]->base, NULL);
	free(*src);
	*src = NULL;
	*n_src = 0;
	return 0;
}

static int merge_stats(Sbx__StatsReply *dst, struct part *parts, size_t n)
{
	double weighted = dst->average_execution_time_ms * (double)dst->total_executions;

	for (size_t i = 0; i < n; i++) {
		Sbx__StatsReply *s = (Sbx__StatsReply *)parts[i].reply.msg;

		if (!ok_part(&parts[i]) || &s->base == &dst->base)
			continue;
		dst->total_executions += s->total_executions;
		dst->successful_executions += s->successful_executions;
		dst->failed_executions += s->failed_executions;
		dst->timeouts += s->timeouts;
		dst->rejected += s->rejected;
		dst->running += s->running;
		dst->queued += s->queued;
		weighted += s->average_execution_time_ms * (double)s->total_executions;
		if (s->uptime_seconds > dst->uptime_seconds)
			dst->uptime_seconds = s->uptime_seconds;
		if (sum_languages(dst, s) < 0 ||
		    sum_warm_pools(&dst->warm_pools, &dst->n_warm_pools, &s->warm_pools,
				   &s->n_warm_pools) < 0)
			return -ENOMEM;
	}
	dst->average_execution_time_ms =
		dst->total_executions ? weighted / (double)dst->total_executions : 0;
	return 0;
}

/* dst += src for a usage; *dst taken from src when dst has none. */
static void sum_usage(Sbx__AdminUsage **dst, Sbx__AdminUsage **src)
{
	if (!*src)
		return;
	if (!*dst) {
		*dst = *src;
		*src = NULL;
		return;
	}
	(*dst)->used += (*src)->used;
	(*dst)->total += (*src)->total;
}

static void usage_percentage(Sbx__AdminUsage *u)
{
	if (u)
		u->percentage = u->total > 0 ? u->used * 100.0 / u->total : 0;
}

static int merge_status(Sbx__AdminStatusReply *dst, struct part *parts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		Sbx__AdminStatusReply *s = (Sbx__AdminStatusReply *)parts[i].reply.msg;

		if (!ok_part(&parts[i]) || &s->base == &dst->base)
			continue;
		dst->active_sandboxes += s->active_sandboxes;
		dst->total_sandboxes_created += s->total_sandboxes_created;
		if (s->uptime > dst->uptime)
			dst->uptime = s->uptime;
		sum_usage(&dst->memory_usage, &s->memory_usage);
		sum_usage(&dst->cpu_usage, &s->cpu_usage);
		if (sum_warm_pools(&dst->warm_pools, &dst->n_warm_pools, &s->warm_pools,
				   &s->n_warm_pools) < 0)
			return -ENOMEM;
	}
	usage_percentage(dst->memory_usage);
	usage_percentage(dst->cpu_usage);
	return 0;
}

int merge_replies(struct sbx_client *c, enum merge_rule rule, const ProtobufCMessage *req,
		  struct part *parts, size_t n, ProtobufCMessage **ret)
{
	ProtobufCMessage *dst = NULL;
	int r = 0;

	for (size_t i = 0; i < n && !dst; i++)
		if (ok_part(&parts[i]))
			dst = parts[i].reply.msg;
	if (!dst)
		return -EBADMSG;
	switch (rule) {
	case MERGE_STATS:
		r = merge_stats((Sbx__StatsReply *)dst, parts, n);
		if (r == 0)
			r = set_nodes(c, &((Sbx__StatsReply *)dst)->nodes, &((Sbx__StatsReply *)dst)->n_nodes);
		break;
	case MERGE_STATUS:
		r = merge_status((Sbx__AdminStatusReply *)dst, parts, n);
		if (r == 0)
			r = set_nodes(c, &((Sbx__AdminStatusReply *)dst)->nodes,
				      &((Sbx__AdminStatusReply *)dst)->n_nodes);
		break;
	case MERGE_EXECUTIONS: {
		Sbx__ListExecutionsReply *l = (Sbx__ListExecutionsReply *)dst;

		r = concat_all(dst, parts, n);
		if (r == 0)
			r = sort_and_cut((void **)l->executions, &l->n_executions, started_at, cmp_newest,
					 list_limit(req ? ((const Sbx__ListExecutionsRequest *)req)->limit : 0),
					 false);
		break;
	}
	case MERGE_ADMIN_LOGS: {
		Sbx__AdminLogsReply *l = (Sbx__AdminLogsReply *)dst;

		r = concat_all(dst, parts, n);
		if (r == 0)
			r = sort_and_cut((void **)l->lines, &l->n_lines, timestamp, cmp_oldest,
					 list_limit(req ? ((const Sbx__AdminLogsRequest *)req)->lines : 0), true);
		break;
	}
	default:
		r = concat_all(dst, parts, n);
		break;
	}
	if (r < 0)
		return r;
	/* Take dst out of its part: the caller frees what is left. */
	for (size_t i = 0; i < n; i++)
		if (parts[i].reply.msg == dst)
			parts[i].reply.msg = NULL;
	*ret = dst;
	return 0;
}
