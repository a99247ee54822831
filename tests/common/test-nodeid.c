/* common/nodeid: node ids, tags, and UUIDs that name their node. */
#include <string.h>

#include "nodeid.h"
#include "testlib.h"

int main(void)
{
	char tag[SBX_NODE_TAG_LEN + 1], tag2[SBX_NODE_TAG_LEN + 1], id[SBX_UUID_LEN + 1];
	char got[SBX_NODE_TAG_LEN + 1];

	CHECK(sbx_node_id_valid("node-a"));
	CHECK(sbx_node_id_valid("3f1c2b9e-0d7a-4c55-9a0e-1b2c3d4e5f60"));
	CHECK(!sbx_node_id_valid(""));
	CHECK(!sbx_node_id_valid(NULL));
	CHECK(!sbx_node_id_valid("-a"));
	CHECK(!sbx_node_id_valid(".."));
	CHECK(!sbx_node_id_valid("a/b"));
	CHECK(!sbx_node_id_valid("a b"));
	CHECK(!sbx_node_id_valid("0123456789012345678901234567890123456789012345678901234567890123"));

	/* FNV-1a 32 of "a" is 0xe40c292c (the published test vector). */
	sbx_node_tag("a", tag);
	CHECK(strcmp(tag, "e40c292c") == 0);
	sbx_node_tag("node-a", tag);
	sbx_node_tag("node-b", tag2);
	CHECK(strcmp(tag, tag2) != 0);
	CHECK(strlen(tag) == SBX_NODE_TAG_LEN);

	sbx_tagged_uuid(tag, id);
	CHECK(strlen(id) == SBX_UUID_LEN);
	CHECK(strncmp(id, tag, SBX_NODE_TAG_LEN) == 0);
	CHECK(id[14] == '4'); /* still a version 4 UUID */
	CHECK(sbx_id_tag(id, got));
	CHECK(strcmp(got, tag) == 0);
	CHECK(sbx_id_tag("E40C292C-0000-4000-8000-000000000000", got));
	CHECK(strcmp(got, "e40c292c") == 0);
	CHECK(!sbx_id_tag("live-abc", got));
	CHECK(!sbx_id_tag("e40c292c", got));
	CHECK(!sbx_id_tag(NULL, got));

	sbx_tagged_uuid(NULL, id);
	CHECK(strlen(id) == SBX_UUID_LEN && id[14] == '4');
	return tl_done();
}
