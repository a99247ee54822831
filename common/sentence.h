/* Error sentences that are never cut mid-word. A sentence shown to a user
 * ("cannot bind /var/lib/…/workspace: Permission denied") is formatted into
 * a fixed buffer; when it does not fit, it ends at the last space that
 * leaves room for "…", never inside a word or a UTF-8 sequence. Buffers are
 * sized so that a path up to PATH_MAX fits (SBX_SENTENCE_MAX); the cut is
 * for what cannot (a message that must stay below PIPE_BUF). */
#ifndef SBX_SENTENCE_H
#define SBX_SENTENCE_H

#include <stdarg.h>
#include <stddef.h>

/* Room for a sentence naming one path of up to PATH_MAX bytes. */
#define SBX_SENTENCE_MAX (4096 + 256)

/* snprintf into buf (size > 0), cut at a word boundary with "…" when the
 * text is longer than size - 1 bytes. Returns buf. Async-signal-unsafe
 * only as vsnprintf is. */
char *sbx_sentence(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
char *sbx_vsentence(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif
