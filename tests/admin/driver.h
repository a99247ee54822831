/* The browser page tests' C side (test-admin-page.c, test-docs-page.c):
 * their node drivers (the .mjs files here: Chromium over the DevTools
 * protocol, cdp.mjs), found; th_run_node (harness.h) runs them. */
#ifndef SBX_TEST_ADMIN_DRIVER_H
#define SBX_TEST_ADMIN_DRIVER_H

#include <stddef.h>

/* SKIP (exit 77) unless Chromium (/usr/bin/chromium or $CHROMIUM) and node
 * are installed and $SBX_SOURCE_DIR/tests/admin/<script> is readable; its
 * path into path[size]. */
void ta_require_driver(const char *script, char *path, size_t size);

#endif
