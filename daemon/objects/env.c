#include "env.h"

#include <errno.h>
#include <protobuf-c/protobuf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

/* Every protoc-c map entry message has this layout. */
struct map_entry {
	ProtobufCMessage base;
	char *key;
	char *value;
};

void sbx_env_fini(struct sbx_env *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
	e->v = NULL;
	e->n = 0;
}

int sbx_env_copy(struct sbx_env *ret, const struct sbx_env *e)
{
	struct sbx_env c = {calloc(e->n ? e->n : 1, sizeof(char *)), 0};

	if (!c.v)
		return -ENOMEM;
	for (; c.n < e->n; c.n++)
		if (!(c.v[c.n] = strdup(e->v[c.n]))) {
			sbx_env_fini(&c);
			return -ENOMEM;
		}
	*ret = c;
	return 0;
}

static size_t key_len(const char *kv)
{
	return strcspn(kv, "=");
}

static size_t env_bytes(const struct sbx_env *e)
{
	size_t b = 0;

	for (size_t i = 0; i < e->n; i++)
		b += strlen(e->v[i]) + 1;
	return b;
}

int sbx_env_merge(struct sbx_env *e, void *const *entries, size_t n, struct sbx_rpc_call *call)
{
	struct sbx_env out = {0};
	size_t bytes;

	if (n > SBX_ENV_MAX)
		return sbx_rpc_error(call, -EINVAL, "at most %d environment variables are allowed",
				     SBX_ENV_MAX);
	for (size_t i = 0; i < n; i++) {
		const struct map_entry *m = entries[i];
		const char *k = m->key ? m->key : "";

		if (!*k || strchr(k, '=') || strlen(k) > 256)
			return sbx_rpc_error(call, -EINVAL,
					     "environment variable name '%.64s' is not valid", k);
	}
	/* Build the result aside, so that e is untouched on failure. */
	out.v = calloc(e->n + n + 1, sizeof(char *));
	if (!out.v)
		return -ENOMEM;
	for (; out.n < e->n; out.n++)
		if (!(out.v[out.n] = strdup(e->v[out.n])))
			goto nomem;
	for (size_t i = 0; i < n; i++) {
		const struct map_entry *m = entries[i];
		size_t j, kl = strlen(m->key);
		char *kv;

		if (asprintf(&kv, "%s=%s", m->key, m->value ? m->value : "") < 0)
			goto nomem;
		for (j = 0; j < out.n; j++)
			if (key_len(out.v[j]) == kl && strncmp(out.v[j], kv, kl) == 0)
				break;
		if (j == out.n)
			out.n++;
		free(out.v[j]);
		out.v[j] = kv;
	}
	bytes = env_bytes(&out);
	if (out.n > SBX_ENV_MAX || bytes > SBX_ENV_MAX_BYTES) {
		int r = sbx_rpc_error(call, -EINVAL,
				      "the environment would hold %zu variables and %zu bytes; at "
				      "most %d and %u are allowed",
				      out.n, bytes, SBX_ENV_MAX, SBX_ENV_MAX_BYTES);

		sbx_env_fini(&out); /* after: it zeroes out.n */
		return r;
	}
	sbx_env_fini(e);
	*e = out;
	return 0;
nomem:
	sbx_env_fini(&out);
	return -ENOMEM;
}

int sbx_env_pack(const struct sbx_env *e, char **ret, size_t *ret_len)
{
	size_t len = env_bytes(e), off = 0;
	char *b = malloc(len ? len : 1);

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < e->n; i++) {
		size_t l = strlen(e->v[i]) + 1;

		memcpy(b + off, e->v[i], l);
		off += l;
	}
	*ret = b;
	*ret_len = len;
	return 0;
}

int sbx_env_unpack(const char *blob, size_t len, struct sbx_env *ret)
{
	struct sbx_env e = {0};
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += blob[i] == 0;
	if (len && blob[len - 1] != 0)
		return -EBADMSG;
	e.v = calloc(n ? n : 1, sizeof(char *));
	if (!e.v)
		return -ENOMEM;
	for (size_t off = 0; off < len; off += strlen(blob + off) + 1) {
		if (!strchr(blob + off, '=') || e.n >= n)
			continue; /* not KEY=value: a damaged row loses that entry only */
		if (!(e.v[e.n++] = strdup(blob + off))) {
			sbx_env_fini(&e);
			return -ENOMEM;
		}
	}
	*ret = e;
	return 0;
}

int sbx_env_to_map(const struct sbx_env *e, const void *entry_descriptor, void ***ret,
		   size_t *ret_n)
{
	struct map_entry **v = calloc(e->n ? e->n : 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (; n < e->n; n++) {
		size_t kl = key_len(e->v[n]);

		v[n] = (struct map_entry *)sbx_message_new(entry_descriptor);
		if (!v[n] || !(v[n]->key = strndup(e->v[n], kl)) ||
		    !(v[n]->value = strdup(e->v[n] + kl + 1))) {
			/* A half-built entry still holds heap strings or the default. */
			for (size_t i = 0; i <= n && i < e->n; i++)
				if (v[i])
					protobuf_c_message_free_unpacked(&v[i]->base, NULL);
			free(v);
			return -ENOMEM;
		}
	}
	*ret = (void **)v;
	*ret_n = n;
	return 0;
}
