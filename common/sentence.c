#include "sentence.h"

#include <stdio.h>
#include <string.h>

static const char ellipsis[] = "\xe2\x80\xa6"; /* U+2026 */

/* buf holds size - 1 bytes of a longer text: end it at a word boundary. */
static void cut(char *buf, size_t size)
{
	size_t room = sizeof(ellipsis); /* the ellipsis and the NUL */
	size_t end;

	if (size < room) {
		buf[0] = 0;
		return;
	}
	end = size - room;
	/* The last space at or before the cut; without one (a single long
	 * word) at least not inside a UTF-8 sequence. */
	for (size_t i = end; i > 0; i--)
		if (buf[i] == ' ') {
			end = i;
			break;
		}
	while (end > 0 && ((unsigned char)buf[end] & 0xc0) == 0x80)
		end--;
	while (end > 0 && buf[end - 1] == ' ')
		end--;
	memcpy(buf + end, ellipsis, sizeof(ellipsis));
}

char *sbx_vsentence(char *buf, size_t size, const char *fmt, va_list ap)
{
	int n;

	if (!size)
		return buf;
	n = vsnprintf(buf, size, fmt, ap);
	if (n < 0)
		buf[0] = 0;
	else if ((size_t)n >= size)
		cut(buf, size);
	return buf;
}

char *sbx_sentence(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sbx_vsentence(buf, size, fmt, ap);
	va_end(ap);
	return buf;
}
