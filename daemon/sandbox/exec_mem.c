/* Where the spawner keeps each execution's state: in pages of its own,
 * which no sandbox inherits except the one cloned for that execution.
 *
 * Why: clone() gives the child a copy-on-write view of every private page
 * of the spawner, so the next time the spawner writes to one of them the
 * kernel copies the page and flushes the TLB of every core the spawner
 * ran on. With a few executions running, the spawner writes to their
 * state at every event (output, timers, exits), and each of those pages
 * was shared again by every clone since: measured on a 2-core VM, those
 * faults were a third of the spawner's own CPU time. A page marked
 * MADV_DONTFORK is not handed to children at all, so it never turns
 * copy-on-write; an execution's pages are opened to children only for
 * its own clone() (sbx_exec_mem_fork()). Freed ones are kept for the next
 * execution (a munmap() would flush TLBs too).
 *
 * The request lives there as well, unpacked into a small arena of the
 * same pages (what does not fit comes from malloc()): it is what the
 * spawner allocates and frees most per execution, and malloc()'s own
 * bookkeeping would otherwise dirty shared pages of the heap. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "spawner_exec.h"

#define KEEP 64	    /* freed executions' pages kept for reuse */
#define ARENA 16384 /* room for a usual request, packed and unpacked */
#define ALIGN 16

struct exec_mem {
	struct sbx_exec ex; /* first: the pointer handed out */
	struct sbx_child_report rep;
	ProtobufCAllocator pa;
	size_t used;
	_Alignas(ALIGN) unsigned char arena[ARENA];
};

static struct exec_mem *kept[KEEP];
static unsigned n_kept;

static size_t mem_size(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	return (sizeof(struct exec_mem) + page - 1) / page * page;
}

struct sbx_exec *sbx_exec_mem_get(void)
{
	struct exec_mem *m;
	if (n_kept) {
		m = kept[--n_kept];
	} else {
		m = mmap(NULL, mem_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			 0);
		if (m == MAP_FAILED)
			return NULL;
		madvise(m, mem_size(), MADV_DONTFORK);
	}
	memset(&m->ex, 0, sizeof(m->ex));
	m->used = 0;
	return &m->ex;
}

void *sbx_exec_mem_alloc(struct sbx_exec *ex, size_t size)
{
	struct exec_mem *m = (struct exec_mem *)ex;
	size_t need = (size + ALIGN - 1) / ALIGN * ALIGN;
	if (size == 0 || need > ARENA - m->used)
		return malloc(size ? size : 1);
	void *p = m->arena + m->used;
	m->used += need;
	return p;
}

void sbx_exec_mem_free(struct sbx_exec *ex, void *p)
{
	struct exec_mem *m = (struct exec_mem *)ex;
	unsigned char *c = p;
	if (c < m->arena || c >= m->arena + ARENA)
		free(p); /* an arena's piece goes with the whole */
}

static void *pa_alloc(void *data, size_t size)
{
	return sbx_exec_mem_alloc(data, size);
}

static void pa_free(void *data, void *p)
{
	sbx_exec_mem_free(data, p);
}

ProtobufCAllocator *sbx_exec_mem_allocator(struct sbx_exec *ex)
{
	struct exec_mem *m = (struct exec_mem *)ex;
	m->pa = (ProtobufCAllocator){.alloc = pa_alloc, .free = pa_free, .allocator_data = ex};
	return &m->pa;
}

struct sbx_child_report *sbx_exec_mem_report(struct sbx_exec *ex)
{
	struct exec_mem *m = (struct exec_mem *)ex;
	memset(&m->rep, 0, sizeof(m->rep));
	return &m->rep;
}

void sbx_exec_mem_fork(struct sbx_exec *ex, bool to_child)
{
	/* Best effort: a page left forkable costs time, never correctness. */
	madvise(ex, mem_size(), to_child ? MADV_DOFORK : MADV_DONTFORK);
}

void sbx_exec_mem_put(struct sbx_exec *ex)
{
	if (n_kept < KEEP)
		kept[n_kept++] = (struct exec_mem *)ex;
	else
		munmap(ex, mem_size());
}

char *sbx_exec_mem_scratch(void)
{
	static char *buf;
	if (!buf) {
		void *m = mmap(NULL, SBX_EXEC_SCRATCH, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		madvise(m, SBX_EXEC_SCRATCH, MADV_DONTFORK);
		buf = m;
	}
	return buf;
}
