/* What the sandbox sees of itself: its user's ids inside the user
 * namespace, its workspace, and the check of the paths a request names in
 * that workspace (files.c; the daemon side checks them too, engine.c). */
#ifndef SBX_WORKSPACE_H
#define SBX_WORKSPACE_H

#include <stdbool.h>

/* The ids the sandbox user has inside its user namespace. */
#define SBX_INSIDE_UID 1000
#define SBX_INSIDE_GID 1000
#define SBX_WORKSPACE "/workspace"

/* files.c: is `path` a safe relative path inside the workspace? (no "..",
 * not absolute, no empty components, bounded length) */
bool sbx_file_path_ok(const char *path);

#endif
