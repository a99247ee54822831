/* The method table (common/methods.c) follows service Sandboxd in api.proto. */
#include <errno.h>
#include <string.h>

#include "api.pb-c.h"
#include "methods.h"
#include "testlib.h"

static void test_known(void)
{
	const sbx_method *h = sbx_method_find("Health"), *g = sbx_method_find("GetConfig");

	CHECK(h != NULL);
	CHECK(g != NULL);
	if (!h || !g)
		return;
	CHECK_STR(h->name, "Health");
	CHECK(h->input == &sbx__health_request__descriptor);
	CHECK(h->output == &sbx__health_reply__descriptor);
	CHECK_STR(g->name, "GetConfig");
	CHECK(g->input == &sbx__get_config_request__descriptor);
	CHECK(g->output == &sbx__config_reply__descriptor);
	CHECK(sbx_method_index("Health") >= 0);
	CHECK(sbx_method_at((size_t)sbx_method_index("Health")) == h);
	CHECK(sbx_method_at((size_t)sbx_method_index("GetConfig")) == g);
	CHECK(h != g);
}

static void test_table(void)
{
	size_t n = sbx_method_count();

	CHECK_INT(n, sbx__sandboxd__descriptor.n_methods);
	CHECK(n >= 2);
	for (size_t i = 0; i < n; i++) {
		const sbx_method *m = sbx_method_at(i);

		CHECKF(m != NULL, "method %zu", i);
		if (!m)
			continue;
		CHECK_STR(m->name, sbx__sandboxd__descriptor.methods[i].name);
		CHECK_INT(sbx_method_index(m->name), i);
		CHECK(sbx_method_find(m->name) == m);
		CHECK(m->input && m->input->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
		CHECK(m->output && m->output->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
	}
	CHECK(sbx_method_at(n) == NULL);
}

static void test_unknown(void)
{
	CHECK_INT(sbx_method_index("NoSuchMethod"), -ENOENT);
	CHECK(sbx_method_find("NoSuchMethod") == NULL);
	/* Names are exact: no case folding, no prefixes. */
	CHECK(sbx_method_find("health") == NULL);
	CHECK(sbx_method_find("Heal") == NULL);
	CHECK(sbx_method_find("") == NULL);
	CHECK_INT(sbx_method_index(NULL), -ENOENT);
	CHECK(sbx_method_find(NULL) == NULL);
}

int main(void)
{
	test_known();
	test_table();
	test_unknown();
	TEST_DONE();
}
