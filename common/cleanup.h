/* Cleanup attributes for locals, after systemd's _cleanup_ helpers.
 * A local declared with one of these is released when it leaves scope;
 * TAKE_PTR / TAKE_FD hand ownership on and leave NULL / -1 behind. */
#ifndef SBX_CLEANUP_H
#define SBX_CLEANUP_H

#include <stdlib.h>
#include <unistd.h>

static inline void sbx_freep(void *p) { free(*(void **)p); }
static inline void sbx_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#define _cleanup_free_ __attribute__((cleanup(sbx_freep)))
#define _cleanup_close_ __attribute__((cleanup(sbx_closep)))
/* Declare a cleanup function `fn##p` for a type freed by `fn(T *)`. */
#define SBX_DEFINE_CLEANUP(T, fn)                   \
	static inline void fn##p(T **p)             \
	{                                           \
		if (*p)                             \
			fn(*p);                     \
	}

#define TAKE_PTR(p)                          \
	({                                   \
		__typeof__(p) _tp_ = (p);    \
		(p) = NULL;                  \
		_tp_;                        \
	})
#define TAKE_FD(fd)                  \
	({                           \
		int _tf_ = (fd);     \
		(fd) = -1;           \
		_tf_;                \
	})

#define SBX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
