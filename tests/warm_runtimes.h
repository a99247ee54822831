/* What the warm-interpreter tests (warm_runtime.c: python, node) share:
 * how a snippet tells how long ago its interpreter started, and which
 * runtime a run is for. */
#ifndef SBX_TESTS_WARM_RUNTIMES_H
#define SBX_TESTS_WARM_RUNTIMES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"

/* Print how long ago this process started, in clock ticks (10 ms): a
 * pre-started interpreter is old when its script runs, a cold one is not.
 * The *_AGE parts leave it in start/now (python) or age (node, which also
 * gets fs), for snippets that print more. */
#define TW_PY_AGE                                                                                  \
	"now = float(open('/proc/uptime').read().split()[0])\n"                                    \
	"start = int(open('/proc/self/stat').read().rsplit(')', 1)[1].split()[19])\n"
#define TW_PY_PRINT_AGE TW_PY_AGE "print(round(now * 100) - start)\n"
#define TW_NODE_AGE                                                                                \
	"const fs = require('fs');\n"                                                              \
	"const now = parseFloat(fs.readFileSync('/proc/uptime', 'utf8'));\n"                       \
	"const st = fs.readFileSync('/proc/self/stat', 'utf8');\n"                                 \
	"const age = Math.round(now * 100) - Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[19]);\n"
#define TW_NODE_PRINT_AGE TW_NODE_AGE "console.log(age);\n"

/* The row of table (n rows of stride bytes, each beginning with its name
 * and its interpreter's path, both const char *) that argv[1] names.
 * Exits 2 with a usage line if none does, 77 if its interpreter is not
 * installed. */
static inline const void *tw_pick(int argc, char **argv, const void *table, size_t n,
				  size_t stride)
{
	for (size_t i = 0; argc == 2 && i < n; i++) {
		const char *const *row = (const char *const *)((const char *)table + i * stride);
		if (strcmp(argv[1], row[0]) != 0)
			continue;
		if (access(row[1], X_OK) != 0)
			SKIP("%s is not installed", row[1]);
		return row;
	}
	fprintf(stderr, "usage: %s python|node\n", argv[0]);
	exit(2);
}

#endif
