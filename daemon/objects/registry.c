#include "registry.h"

#include "nodeid.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#define N_BUCKETS 1024

struct sbx_registry {
	pthread_mutex_t lock;
	unsigned max;
	size_t count;
	/* Chained hash on the id; lists are short with the limits in use. */
	struct sbx_obj *buckets[N_BUCKETS];
};

bool sbx_id_valid(const char *id)
{
	uuid_t u;

	if (!id || strlen(id) != SBX_ID_LEN || uuid_parse(id, u) < 0)
		return false;
	/* Lowercase only, so an id has one spelling (and one directory). */
	for (const char *c = id; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			return false;
	return true;
}

void sbx_obj_init(struct sbx_obj *o, const struct sbx_obj_type *type, const char *tag)
{
	sbx_tagged_uuid(tag, o->id);
	o->type = type;
	atomic_init(&o->refs, 1);
	o->next = NULL;
	o->linked = false;
	pthread_mutex_init(&o->lock, NULL);
	o->phase = SBX_OBJ_NEW;
}

int sbx_obj_init_id(struct sbx_obj *o, const struct sbx_obj_type *type, const char *id)
{
	if (!sbx_id_valid(id))
		return -EINVAL;
	sbx_obj_init(o, type, NULL);
	memcpy(o->id, id, SBX_ID_LEN + 1);
	o->phase = SBX_OBJ_LIVE;
	return 0;
}

struct sbx_obj *sbx_obj_ref(struct sbx_obj *o)
{
	atomic_fetch_add(&o->refs, 1);
	return o;
}

void sbx_obj_unref(struct sbx_obj *o)
{
	if (o && atomic_fetch_sub(&o->refs, 1) == 1) {
		pthread_mutex_destroy(&o->lock);
		o->type->free(o);
	}
}

static unsigned bucket_of(const char *id)
{
	unsigned h = 2166136261u; /* FNV-1a */

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h % N_BUCKETS;
}

int sbx_registry_new(unsigned max, struct sbx_registry **ret)
{
	struct sbx_registry *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	r->max = max;
	*ret = r;
	return 0;
}

void sbx_registry_free(struct sbx_registry *r)
{
	if (!r)
		return;
	for (size_t b = 0; b < N_BUCKETS; b++)
		while (r->buckets[b]) {
			struct sbx_obj *o = r->buckets[b];

			r->buckets[b] = o->next;
			o->linked = false;
			sbx_obj_unref(o);
		}
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static struct sbx_obj **find(struct sbx_registry *r, const char *id)
{
	struct sbx_obj **p = &r->buckets[bucket_of(id)];

	while (*p && strcmp((*p)->id, id) != 0)
		p = &(*p)->next;
	return p;
}

static int add(struct sbx_registry *r, struct sbx_obj *o, bool limit)
{
	struct sbx_obj **p;
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	p = find(r, o->id);
	if (limit && r->count >= r->max)
		ret = -EAGAIN;
	else if (*p)
		ret = -EEXIST;
	else {
		o->next = NULL;
		o->linked = true;
		*p = sbx_obj_ref(o);
		r->count++;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int sbx_registry_add(struct sbx_registry *r, struct sbx_obj *o)
{
	return add(r, o, true);
}
int sbx_registry_restore(struct sbx_registry *r, struct sbx_obj *o)
{
	return add(r, o, false);
}

struct sbx_obj *sbx_registry_get(struct sbx_registry *r, const char *id)
{
	struct sbx_obj *o;

	if (!sbx_id_valid(id))
		return NULL;
	pthread_mutex_lock(&r->lock);
	o = *find(r, id);
	if (o)
		sbx_obj_ref(o);
	pthread_mutex_unlock(&r->lock);
	return o;
}

int sbx_registry_remove(struct sbx_registry *r, const char *id, struct sbx_obj **ret)
{
	struct sbx_obj **p, *o;

	if (!sbx_id_valid(id))
		return -ENOENT;
	pthread_mutex_lock(&r->lock);
	p = find(r, id);
	o = *p;
	if (o) {
		*p = o->next;
		o->next = NULL;
		o->linked = false;
		r->count--;
	}
	pthread_mutex_unlock(&r->lock);
	if (!o)
		return -ENOENT;
	*ret = o;
	return 0;
}

bool sbx_registry_unlink(struct sbx_registry *r, struct sbx_obj *o)
{
	struct sbx_obj **p;
	bool done = false;

	pthread_mutex_lock(&r->lock);
	p = find(r, o->id);
	if (*p == o) {
		*p = o->next;
		o->next = NULL;
		o->linked = false;
		r->count--;
		done = true;
	}
	pthread_mutex_unlock(&r->lock);
	return done;
}

size_t sbx_registry_count(struct sbx_registry *r)
{
	size_t n;

	pthread_mutex_lock(&r->lock);
	n = r->count;
	pthread_mutex_unlock(&r->lock);
	return n;
}

unsigned sbx_registry_max(struct sbx_registry *r)
{
	return r->max;
}

static int by_created(const void *a, const void *b)
{
	const struct sbx_obj *x = *(struct sbx_obj *const *)a, *y = *(struct sbx_obj *const *)b;

	if (x->created_ms != y->created_ms)
		return x->created_ms < y->created_ms ? -1 : 1;
	return strcmp(x->id, y->id);
}

int sbx_registry_list(struct sbx_registry *r, struct sbx_obj ***ret, size_t *ret_n)
{
	struct sbx_obj **list;
	size_t n = 0;

	pthread_mutex_lock(&r->lock);
	list = calloc(r->count ? r->count : 1, sizeof(*list));
	if (!list) {
		pthread_mutex_unlock(&r->lock);
		return -ENOMEM;
	}
	for (size_t b = 0; b < N_BUCKETS; b++)
		for (struct sbx_obj *o = r->buckets[b]; o; o = o->next)
			list[n++] = sbx_obj_ref(o);
	pthread_mutex_unlock(&r->lock);
	qsort(list, n, sizeof(*list), by_created);
	*ret = list;
	*ret_n = n;
	return 0;
}

void sbx_registry_list_free(struct sbx_obj **list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		sbx_obj_unref(list[i]);
	free(list);
}
