#include "words.h"

#include <string.h>

const char *sbx_word_of(const char *const *words, size_t n, unsigned v)
{
	return v < n && words[v] ? words[v] : words[0];
}

int sbx_word_value(const char *const *words, size_t n, const char *word)
{
	for (size_t i = 0; word && i < n; i++)
		if (words[i] && strcmp(words[i], word) == 0)
			return (int)i;
	return -1;
}
