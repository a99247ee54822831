/* daemon/objects/env.c, against env.h: merging proto map entries (new keys
 * appended in order, a key already there replaced in place, a key twice
 * in one request: the last wins), names (empty, '=', longer than 256),
 * values (none, empty, with '=' and newlines), the count and byte limits
 * at their exact bounds with overlapping keys not counted twice, e
 * untouched and call->error set on every failure; copy; the store's blob
 * both ways (damaged blobs); the reply's map entries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.pb-c.h"
#include "env.h"
#include "testlib.h"

typedef Sbx__RunRequest__EnvEntry entry;

/* n map entries on the heap, keys and values given in pairs (a NULL key or
 * value stays NULL). */
struct entries {
	entry *e;
	entry **p;
	size_t n;
};

static struct entries entries_of(size_t n, const char *const *kv)
{
	struct entries x = {calloc(n ? n : 1, sizeof(entry)), calloc(n ? n : 1, sizeof(entry *)),
			    n};

	for (size_t i = 0; i < n; i++) {
		sbx__run_request__env_entry__init(&x.e[i]);
		x.e[i].key = (char *)kv[2 * i];
		x.e[i].value = (char *)kv[2 * i + 1];
		x.p[i] = &x.e[i];
	}
	return x;
}

static void entries_free(struct entries *x)
{
	free(x->e);
	free(x->p);
}

/* Merge pairs into e: the result, and call.error in err. */
static int merge(struct sbx_env *e, size_t n, const char *const *kv, char *err, size_t errlen)
{
	struct sbx_rpc_call call = {.method = "Test"};
	struct entries x = entries_of(n, kv);
	int r = sbx_env_merge(e, (void *const *)x.p, n, &call);

	snprintf(err, errlen, "%s", call.error);
	entries_free(&x);
	return r;
}

/* e as "A=1 B=2" (space-joined). */
static const char *joined(const struct sbx_env *e)
{
	static char out[1024];

	out[0] = 0;
	for (size_t i = 0; i < e->n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? " " : "",
			 e->v[i]);
	return out;
}

#define CHECK_ENV(e, want)                                                                         \
	do {                                                                                       \
		const char *got_ = joined(e);                                                      \
		const char *want_ = (want);                                                        \
		CHECK_STR(got_, want_);                                                            \
	} while (0)

static void test_merge(void)
{
	struct sbx_env e = {0};
	char err[SBX_SENTENCE_MAX];

	CHECK_INT(merge(&e, 2, (const char *[]){"A", "1", "B", "2"}, err, sizeof(err)), 0);
	CHECK_ENV(&e, "A=1 B=2");
	CHECK_INT(e.n, 2);
	/* Replace in place, append the new, and the last of a key twice. */
	CHECK_INT(merge(&e, 4, (const char *[]){"C", "3", "A", "x", "C", "33", "D", NULL}, err,
			sizeof(err)),
		  0);
	CHECK_ENV(&e, "A=x B=2 C=33 D=");
	CHECK_INT(e.n, 4);
	/* Nothing to merge: no change. */
	CHECK_INT(merge(&e, 0, NULL, err, sizeof(err)), 0);
	CHECK_ENV(&e, "A=x B=2 C=33 D=");
	/* Keys are case-sensitive and a key is not a prefix of another. */
	CHECK_INT(
		merge(&e, 3, (const char *[]){"a", "lower", "AB", "ab", "B", ""}, err, sizeof(err)),
		0);
	CHECK_ENV(&e, "A=x B= C=33 D= a=lower AB=ab");
	/* Values keep '=', newlines, spaces and UTF-8 as they are. */
	CHECK_INT(merge(&e, 2, (const char *[]){"EQ", "a=b==c", "NL", "one\ntwo \xc3\xa9"}, err,
			sizeof(err)),
		  0);
	CHECK_STR(e.v[6], "EQ=a=b==c");
	CHECK_STR(e.v[7], "NL=one\ntwo \xc3\xa9");
	/* Names with characters a shell would not take are still names. */
	CHECK_INT(merge(&e, 1, (const char *[]){"my.var-1", "v"}, err, sizeof(err)), 0);
	CHECK_STR(e.v[8], "my.var-1=v");
	sbx_env_fini(&e);
	CHECK(e.v == NULL && e.n == 0);
	sbx_env_fini(&e); /* twice: fine */

	/* Into an empty env, nothing: still empty, still finalisable. */
	CHECK_INT(merge(&e, 0, NULL, err, sizeof(err)), 0);
	CHECK_INT(e.n, 0);
	sbx_env_fini(&e);
}

/* A merge that must fail with -EINVAL, an error sentence containing
 * `says`, and e as it was. */
static void check_refused(struct sbx_env *e, size_t n, const char *const *kv, const char *says)
{
	char before[1024], err[SBX_SENTENCE_MAX];
	size_t n_before = e->n;
	char **v_before = e->v;

	snprintf(before, sizeof(before), "%s", joined(e));
	CHECK_INT(merge(e, n, kv, err, sizeof(err)), -EINVAL);
	CHECKF(strstr(err, says) != NULL, "error '%s' does not say '%s'", err, says);
	CHECK(e->n == n_before && e->v == v_before);
	CHECK_ENV(e, before);
}

static void test_names(void)
{
	struct sbx_env e = {0};
	char err[SBX_SENTENCE_MAX], name[300];

	CHECK_INT(merge(&e, 1, (const char *[]){"KEEP", "1"}, err, sizeof(err)), 0);
	check_refused(&e, 1, (const char *[]){"", "v"}, "name '' is not valid");
	check_refused(&e, 1, (const char *[]){NULL, "v"}, "is not valid");
	check_refused(&e, 1, (const char *[]){"A=B", "v"}, "name 'A=B' is not valid");
	check_refused(&e, 1, (const char *[]){"=", "v"}, "is not valid");
	/* One bad name refuses the whole request, the good ones too. */
	check_refused(&e, 3, (const char *[]){"GOOD", "1", "KEEP", "2", "BAD=", "3"},
		      "'BAD=' is not valid");

	/* 256 characters are a name, 257 are not (the error shows 64). */
	memset(name, 'N', 256);
	name[256] = 0;
	CHECK_INT(merge(&e, 1, (const char *[]){name, "v"}, err, sizeof(err)), 0);
	CHECK_INT(e.n, 2);
	CHECK_INT(strlen(e.v[1]), 256 + 2);
	name[256] = 'N';
	name[257] = 0;
	check_refused(&e, 1, (const char *[]){name, "v"}, "is not valid");
	CHECK_INT(merge(&e, 1, (const char *[]){name, "v"}, err, sizeof(err)), -EINVAL);
	CHECKF(strlen(err) < 120, "%zu: %s", strlen(err), err);
	sbx_env_fini(&e);
}

static void test_limits(void)
{
	struct sbx_env e = {0};
	char err[SBX_SENTENCE_MAX], *val;
	const char **kv = calloc(2 * (SBX_ENV_MAX + 1), sizeof(char *));
	char(*names)[16] = calloc(SBX_ENV_MAX + 1, 16);

	for (int i = 0; i <= SBX_ENV_MAX; i++) {
		snprintf(names[i], 16, "V%03d", i);
		kv[2 * i] = names[i];
		kv[2 * i + 1] = "x";
	}
	/* More entries than variables allowed: refused before anything. */
	check_refused(&e, SBX_ENV_MAX + 1, kv, "at most 256 environment variables");
	/* 200, then 57 more: 257 in all. */
	CHECK_INT(merge(&e, 200, kv, err, sizeof(err)), 0);
	check_refused(&e, 57, kv + 400, "would hold 257 variables");
	/* 56 more: 256, exactly the limit. */
	CHECK_INT(merge(&e, 56, kv + 400, err, sizeof(err)), 0);
	CHECK_INT(e.n, SBX_ENV_MAX);
	/* At the limit, replacing values adds nothing. */
	CHECK_INT(merge(&e, SBX_ENV_MAX, kv, err, sizeof(err)), 0);
	CHECK_INT(e.n, SBX_ENV_MAX);
	check_refused(&e, 1, (const char *[]){"ONE_MORE", "x"}, "would hold 257 variables");
	sbx_env_fini(&e);

	/* Bytes: "K=" + value + NUL; 64 KiB in all is the bound. */
	val = malloc(SBX_ENV_MAX_BYTES + 1);
	memset(val, 'v', SBX_ENV_MAX_BYTES);
	val[SBX_ENV_MAX_BYTES - 3] = 0;
	CHECK_INT(merge(&e, 1, (const char *[]){"K", val}, err, sizeof(err)), 0);
	CHECK_INT(strlen(e.v[0]) + 1, SBX_ENV_MAX_BYTES);
	/* Even an empty new variable is too much now. */
	check_refused(&e, 1, (const char *[]){"L", ""}, "65539 bytes");
	/* Shrinking the one there makes room. */
	CHECK_INT(merge(&e, 2, (const char *[]){"K", "small", "L", ""}, err, sizeof(err)), 0);
	CHECK_ENV(&e, "K=small L=");
	sbx_env_fini(&e);
	val[SBX_ENV_MAX_BYTES - 3] = 'v';
	val[SBX_ENV_MAX_BYTES - 2] = 0;
	check_refused(&e, 1, (const char *[]){"K", val}, "65537 bytes");
	free(val);
	free(kv);
	free(names);
}

static void test_copy(void)
{
	struct sbx_env e = {0}, c = {0}, empty = {0};
	char err[SBX_SENTENCE_MAX];

	CHECK_INT(merge(&e, 2, (const char *[]){"A", "1", "B", "2"}, err, sizeof(err)), 0);
	CHECK_INT(sbx_env_copy(&c, &e), 0);
	CHECK_ENV(&c, "A=1 B=2");
	CHECK(c.v != e.v && c.v[0] != e.v[0]);
	/* Independent: changing one leaves the other. */
	CHECK_INT(merge(&c, 1, (const char *[]){"A", "changed"}, err, sizeof(err)), 0);
	CHECK_ENV(&e, "A=1 B=2");
	CHECK_ENV(&c, "A=changed B=2");
	sbx_env_fini(&c);
	CHECK_INT(sbx_env_copy(&c, &empty), 0);
	CHECK_INT(c.n, 0);
	sbx_env_fini(&c);
	sbx_env_fini(&e);
}

static void test_blob(void)
{
	struct sbx_env e = {0}, back = {0};
	char err[SBX_SENTENCE_MAX], *blob = NULL;
	size_t len = 99;

	CHECK_INT(merge(&e, 3, (const char *[]){"A", "1", "EMPTY", "", "EQ", "x=y"}, err,
			sizeof(err)),
		  0);
	CHECK_INT(sbx_env_pack(&e, &blob, &len), 0);
	CHECK_INT(len, sizeof("A=1") + sizeof("EMPTY=") + sizeof("EQ=x=y"));
	CHECK(blob && memcmp(blob, "A=1\0EMPTY=\0EQ=x=y\0", len) == 0);
	CHECK_INT(sbx_env_unpack(blob, len, &back), 0);
	CHECK_ENV(&back, "A=1 EMPTY= EQ=x=y");
	sbx_env_fini(&back);
	free(blob);
	sbx_env_fini(&e);

	/* Empty both ways. */
	CHECK_INT(sbx_env_pack(&e, &blob, &len), 0);
	CHECK_INT(len, 0);
	free(blob);
	CHECK_INT(sbx_env_unpack("", 0, &back), 0);
	CHECK_INT(back.n, 0);
	sbx_env_fini(&back);
	CHECK_INT(sbx_env_unpack(NULL, 0, &back), 0);
	CHECK_INT(back.n, 0);
	sbx_env_fini(&back);

	/* Damaged: not NUL-terminated is refused and leaves ret alone;
	 * strings without '=' (empty ones too) are dropped, the rest kept. */
	back.n = 12345;
	CHECK_INT(sbx_env_unpack("A=1\0B=2", 7, &back), -EBADMSG);
	CHECK_INT(back.n, 12345);
	back.n = 0;
	CHECK_INT(sbx_env_unpack("A=1\0\0junk\0B=2\0", 14, &back), 0);
	CHECK_ENV(&back, "A=1 B=2");
	sbx_env_fini(&back);
}

static void test_to_map(void)
{
	struct sbx_env e = {0};
	char err[SBX_SENTENCE_MAX];
	void **m = NULL;
	size_t n = 99;

	CHECK_INT(merge(&e, 3, (const char *[]){"A", "1", "EQ", "x=y", "EMPTY", NULL}, err,
			sizeof(err)),
		  0);
	CHECK_INT(sbx_env_to_map(&e, &sbx__run_request__env_entry__descriptor, &m, &n), 0);
	CHECK_INT(n, 3);
	if (n == 3) {
		entry **x = (entry **)m;

		CHECK(x[0]->base.descriptor == &sbx__run_request__env_entry__descriptor);
		CHECK_STR(x[0]->key, "A");
		CHECK_STR(x[0]->value, "1");
		CHECK_STR(x[1]->key, "EQ");
		CHECK_STR(x[1]->value, "x=y");
		CHECK_STR(x[2]->key, "EMPTY");
		CHECK_STR(x[2]->value, "");
	}
	for (size_t i = 0; i < n; i++)
		protobuf_c_message_free_unpacked(m[i], NULL);
	free(m);
	sbx_env_fini(&e);

	/* An empty env: no entries, and an array that can be freed. */
	CHECK_INT(sbx_env_to_map(&e, &sbx__run_request__env_entry__descriptor, &m, &n), 0);
	CHECK_INT(n, 0);
	free(m);
}

int main(void)
{
	test_merge();
	test_names();
	test_limits();
	test_copy();
	test_blob();
	test_to_map();
	TEST_DONE();
}
