/* common/sentence.h: a sentence that fits is left alone; one that does
 * not ends at a word with "…", never inside a word or a UTF-8 sequence. */
#include <string.h>

#include "sentence.h"
#include "testlib.h"

int main(void)
{
	char buf[32], big[SBX_SENTENCE_MAX], path[4097];

	CHECK_STR(sbx_sentence(buf, sizeof(buf), "%s %d", "fits", 42), "fits 42");
	/* 31 bytes fit exactly: no cut. */
	CHECK_STR(sbx_sentence(buf, sizeof(buf), "%s", "0123456789 0123456789 012345678"),
		  "0123456789 0123456789 012345678");
	CHECK_STR(sbx_sentence(buf, sizeof(buf), "%s", "cannot bind /var/lib/sandboxd: denied"),
		  "cannot bind\xe2\x80\xa6");
	/* One long word: cut, but not inside a UTF-8 sequence (é is 2 bytes). */
	sbx_sentence(
		buf, sizeof(buf), "%s",
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	CHECKF(strlen(buf) < sizeof(buf) && strcmp(buf + strlen(buf) - 3, "\xe2\x80\xa6") == 0 &&
		       ((unsigned char)buf[strlen(buf) - 4] & 0xc0) == 0x80,
	       "%s", buf);
	CHECK_STR(sbx_sentence(buf, 3, "%s", "abcdef"), "");
	/* A path of PATH_MAX bytes fits whole. */
	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = 0;
	sbx_sentence(big, sizeof(big), "workspace %s is a symbolic link, not a directory", path);
	CHECK(strstr(big, path) != NULL && strstr(big, "not a directory") != NULL);
	TEST_DONE();
}
