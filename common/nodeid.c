#include "nodeid.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <uuid/uuid.h>

bool sbx_node_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > SBX_NODE_ID_MAX || id[0] == '.' || id[0] == '-')
		return false;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

void sbx_node_tag(const char *node_id, char tag[SBX_NODE_TAG_LEN + 1])
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)node_id; p && *p; p++)
		h = (h ^ *p) * 16777619u;
	snprintf(tag, SBX_NODE_TAG_LEN + 1, "%08x", h);
}

void sbx_tagged_uuid(const char *tag, char out[SBX_UUID_LEN + 1])
{
	uuid_t u;

	uuid_generate_random(u);
	uuid_unparse_lower(u, out);
	if (tag && strlen(tag) == SBX_NODE_TAG_LEN)
		memcpy(out, tag, SBX_NODE_TAG_LEN);
}

bool sbx_id_tag(const char *id, char tag[SBX_NODE_TAG_LEN + 1])
{
	uuid_t u;

	if (!id || strlen(id) != SBX_UUID_LEN || uuid_parse(id, u) < 0)
		return false;
	for (size_t i = 0; i < SBX_NODE_TAG_LEN; i++)
		tag[i] = (char)(id[i] >= 'A' && id[i] <= 'F' ? id[i] - 'A' + 'a' : id[i]);
	tag[SBX_NODE_TAG_LEN] = 0;
	return true;
}
