/* Bounded buffers (common/buf.c). */
#include <errno.h>
#include <string.h>

#include "buf.h"
#include "testlib.h"

static void test_max(void)
{
	struct sbx_buf b;

	sbx_buf_init(&b, 10);
	CHECK_INT(sbx_buf_append(&b, "hello", 5), 0);
	CHECK_INT(b.len, 5);
	CHECK_STR(b.data, "hello");
	/* 5 + 6 > 10: refused, and the buffer is as it was. */
	CHECK_INT(sbx_buf_append(&b, "world!", 6), -E2BIG);
	CHECK_INT(b.len, 5);
	CHECK_STR(b.data, "hello");
	CHECK_INT(sbx_buf_append(&b, "world", 5), 0);
	CHECK_INT(b.len, 10);
	CHECK_STR(b.data, "helloworld");
	CHECK_INT(sbx_buf_append(&b, "", 0), 0);
	CHECK_INT(sbx_buf_append(&b, "x", 1), -E2BIG);
	CHECK_INT(b.len, 10);
	CHECK(b.cap <= b.max + 1);
	sbx_buf_reset(&b);
	CHECK_INT(b.len, 0);
	CHECK_STR(b.data, "");
	CHECK_INT(b.max, 10);
	CHECK_INT(sbx_buf_append(&b, "abc", 3), 0);
	CHECK_STR(b.data, "abc");
	sbx_buf_fini(&b);
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	CHECK_INT(b.max, 10);
	sbx_buf_fini(&b);
}

static void test_grow(void)
{
	struct sbx_buf b;
	char chunk[1000];
	int ok = 1;

	sbx_buf_init(&b, 100000);
	for (int i = 0; i < 50; i++) {
		memset(chunk, 'a' + i % 26, sizeof(chunk));
		ok &= sbx_buf_append(&b, chunk, sizeof(chunk)) == 0;
	}
	CHECK(ok);
	CHECK_INT(b.len, 50000);
	CHECK_INT(b.data[0], 'a');
	CHECK_INT(b.data[999], 'a');
	CHECK_INT(b.data[1000], 'b');
	CHECK_INT(b.data[49999], 'a' + 49 % 26);
	CHECK_INT(b.data[50000], 0);
	sbx_buf_fini(&b);
}

static void test_append_some(void)
{
	struct sbx_buf b;

	sbx_buf_init(&b, 8);
	CHECK_INT(sbx_buf_append(&b, "12345", 5), 0);
	CHECK_INT(sbx_buf_append_some(&b, "abcdefghij", 10), 3);
	CHECK_INT(b.len, 8);
	CHECK_STR(b.data, "12345abc");
	CHECK_INT(sbx_buf_append_some(&b, "z", 1), 0);
	CHECK_STR(b.data, "12345abc");
	sbx_buf_reset(&b);
	CHECK_INT(sbx_buf_append_some(&b, "xy", 2), 2);
	CHECK_STR(b.data, "xy");
	sbx_buf_fini(&b);
}

static void test_steal(void)
{
	struct sbx_buf b;
	size_t len = 99;
	char *p;

	sbx_buf_init(&b, 64);
	CHECK_INT(sbx_buf_append(&b, "payload", 7), 0);
	p = sbx_buf_steal(&b, &len);
	CHECK_STR(p, "payload");
	CHECK_INT(len, 7);
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	CHECK_INT(b.max, 64);
	free(p);
	/* The buffer stays usable after a steal. */
	CHECK_INT(sbx_buf_append(&b, "again", 5), 0);
	CHECK_STR(b.data, "again");
	sbx_buf_fini(&b);
	/* An empty buffer still hands out a string the caller can free. */
	p = sbx_buf_steal(&b, &len);
	CHECK(p != NULL);
	CHECK_STR(p, "");
	CHECK_INT(len, 0);
	free(p);
}

int main(void)
{
	test_max();
	test_grow();
	test_append_some();
	test_steal();
	TEST_DONE();
}
