/* The object registry: ids, the count limit, lookups with references,
 * removal while a reference is held elsewhere (the object lives on until
 * the last unref), restore beyond the limit, snapshots, and concurrent
 * get/unref against remove. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "testlib.h"

static atomic_int freed;

struct thing {
	struct sbx_obj obj;
	int value;
};

static void thing_free(struct sbx_obj *o)
{
	atomic_fetch_add(&freed, 1);
	free(o);
}

static const struct sbx_obj_type thing_type = {"thing", thing_free};

static struct thing *thing_new(int v)
{
	struct thing *t = calloc(1, sizeof(*t));

	sbx_obj_init(&t->obj, &thing_type, NULL);
	t->value = v;
	return t;
}

struct race {
	struct sbx_registry *r;
	char id[SBX_ID_LEN + 1];
	atomic_bool stop;
	atomic_long gets;
};

static void *getter(void *arg)
{
	struct race *x = arg;

	while (!atomic_load(&x->stop)) {
		struct sbx_obj *o = sbx_registry_get(x->r, x->id);

		if (o) {
			/* Held: must stay valid whatever the other thread does. */
			if (((struct thing *)o)->value != 7)
				abort();
			sbx_obj_unref(o);
			atomic_fetch_add(&x->gets, 1);
		}
	}
	return NULL;
}

int main(void)
{
	struct sbx_registry *r = NULL;
	struct thing *a, *b, *c, *d;
	struct sbx_obj *o, **list;
	size_t n;

	CHECK(sbx_id_valid("6033f327-b48b-45c6-b8e6-b7ac82acb0b3"));
	CHECK(!sbx_id_valid("6033F327-B48B-45C6-B8E6-B7AC82ACB0B3")); /* one spelling */
	CHECK(!sbx_id_valid("../../etc/passwd-aaaaaaaaaaaaaaaaaaaaaa"));
	CHECK(!sbx_id_valid(""));
	CHECK(!sbx_id_valid(NULL));

	CHECK(sbx_registry_new(2, &r) == 0);
	a = thing_new(1);
	b = thing_new(2);
	c = thing_new(3);
	CHECK(sbx_id_valid(a->obj.id) && strcmp(a->obj.id, b->obj.id) != 0);
	CHECK(sbx_registry_add(r, &a->obj) == 0);
	CHECK(sbx_registry_add(r, &a->obj) == -EEXIST);
	CHECK(sbx_registry_add(r, &b->obj) == 0);
	CHECK(sbx_registry_add(r, &c->obj) == -EAGAIN);
	CHECK_INT(sbx_registry_count(r), 2);
	CHECK(sbx_registry_restore(r, &c->obj) == 0); /* beyond the limit on purpose */
	CHECK_INT(sbx_registry_count(r), 3);
	/* The registry holds its own references now. */
	sbx_obj_unref(&a->obj);
	sbx_obj_unref(&b->obj);
	sbx_obj_unref(&c->obj);
	CHECK_INT(atomic_load(&freed), 0);

	o = sbx_registry_get(r, a->obj.id);
	CHECK(o == &a->obj);
	CHECK(sbx_registry_get(r, "6033f327-b48b-45c6-b8e6-b7ac82acb0b3") == NULL);
	CHECK(sbx_registry_get(r, "junk") == NULL);
	/* Removed while held (a delete during an execution): still valid. */
	{
		struct sbx_obj *reg;

		CHECK(sbx_registry_remove(r, a->obj.id, &reg) == 0 && reg == o);
		CHECK(sbx_registry_remove(r, a->obj.id, &reg) == -ENOENT);
		CHECK(sbx_registry_get(r, a->obj.id) == NULL);
		sbx_obj_unref(reg);
		CHECK_INT(atomic_load(&freed), 0);
		CHECK_INT(((struct thing *)o)->value, 1);
		sbx_obj_unref(o);
		CHECK_INT(atomic_load(&freed), 1);
	}
	/* unlink only if still linked, once. */
	CHECK(sbx_registry_unlink(r, &b->obj));
	CHECK(!sbx_registry_unlink(r, &b->obj));
	sbx_obj_unref(&b->obj);
	CHECK_INT(atomic_load(&freed), 2);
	CHECK_INT(sbx_registry_count(r), 1);
	d = thing_new(4);
	CHECK(sbx_registry_add(r, &d->obj) == 0); /* room again: 2 of 2 */
	sbx_obj_unref(&d->obj);

	CHECK(sbx_registry_list(r, &list, &n) == 0);
	CHECK_INT(n, 2);
	sbx_registry_list_free(list, n);
	CHECK_INT(atomic_load(&freed), 2);

	/* Getters racing a remove never see a freed object. */
	{
		struct race x = {.r = r};
		struct thing *t = thing_new(7);
		struct sbx_obj *reg;
		pthread_t th[2];

		snprintf(x.id, sizeof(x.id), "%s", t->obj.id);
		CHECK(sbx_registry_restore(r, &t->obj) == 0);
		sbx_obj_unref(&t->obj);
		for (int i = 0; i < 2; i++)
			pthread_create(&th[i], NULL, getter, &x);
		while (atomic_load(&x.gets) < 1000)
			;
		CHECK(sbx_registry_remove(r, x.id, &reg) == 0);
		sbx_obj_unref(reg);
		atomic_store(&x.stop, true);
		for (int i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		CHECK_INT(atomic_load(&freed), 3);
	}
	sbx_registry_free(r);
	CHECK_INT(atomic_load(&freed), 5);
	sbx_registry_free(NULL);
	TEST_DONE();
}
