/* Zip archives for tests, written in memory with libzip: the Judge0
 * additional_files the gateway reads (gateway/judge0_zip.h), including
 * the kinds it must refuse (links, paths out of the workspace). */
#ifndef SBX_TEST_ZIPW_H
#define SBX_TEST_ZIPW_H

#include <stddef.h>
#include <stdint.h>

struct zipw_entry {
	const char *name;    /* "dir/" for a directory */
	const char *content; /* NULL with size: size bytes of 'x' */
	size_t size;	     /* 0: strlen(content) */
	uint32_t mode;	     /* Unix mode with its type (S_IFLNK | 0777); 0: 0644 file */
};

/* An archive of n entries (deflated) in a new buffer: 0 with *ret, *len,
 * or -1. */
int zipw_make(const struct zipw_entry *e, size_t n, uint8_t **ret, size_t *len);
/* The same in Base64 as Ruby's encode64 writes it, a new string (NULL
 * when out of memory). */
char *zipw_make_base64(const struct zipw_entry *e, size_t n);

#endif
