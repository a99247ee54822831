/* The packages a JavaScript/TypeScript workspace imports but does not
 * declare: FaaS-style requests ship `import express from "express"` with a
 * package.json that lists no dependencies (the seed's own example), and
 * the run phase has no network to fetch them, so the install phase adds
 * them. A scan of the source text (import/export ... from "x", import "x",
 * import("x"), require("x")), not a parser: comments and strings that look
 * like imports count too, which at worst installs a package too many. */
#ifndef SBX_IMPORTS_H
#define SBX_IMPORTS_H

#include <stddef.h>

#define SBX_IMPORTS_MAX 32

/* Bare package names ("express", "@scope/pkg") imported by the .js, .mjs,
 * .cjs, .jsx, .ts, .mts, .tsx files of `workspace` (depth <= 3, no
 * node_modules), minus Node/Bun built-ins, relative paths and the names
 * package.json already mentions. At most SBX_IMPORTS_MAX, each made of
 * [a-z0-9@/._-] only and none starting with '-' (they become argv). 0 and
 * names[0..*n) (free with sbx_imports_free), or -ENOMEM. */
int sbx_imports_missing(const char *workspace, char ***ret_names, size_t *n);
void sbx_imports_free(char **names, size_t n);

#endif
