/* Tables of words indexed by an enum's values ("oneshot", "persistent";
 * "auto", "v1", ...): the word of a value and the value of a word. */
#ifndef SBX_WORDS_H
#define SBX_WORDS_H

#include <stddef.h>

#define SBX_N_WORDS(t) (sizeof(t) / sizeof(*(t)))

/* words[v], or words[0] for a value outside the table or without a word. */
const char *sbx_word_of(const char *const *words, size_t n, unsigned v);
/* The value of `word` in words[], or -1 (also for NULL). */
int sbx_word_value(const char *const *words, size_t n, const char *word);

#endif
