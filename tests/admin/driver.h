/* The browser page tests' C side (test-admin-page.c, test-docs-page.c):
 * their node drivers (the .mjs files here: Chromium over the DevTools
 * protocol, cdp.mjs) found and run with a bound. */
#ifndef SBX_TEST_ADMIN_DRIVER_H
#define SBX_TEST_ADMIN_DRIVER_H

#include <stddef.h>

/* SKIP (exit 77) unless Chromium (/usr/bin/chromium or $CHROMIUM) and node
 * are installed and $SBX_SOURCE_DIR/tests/admin/<script> is readable; its
 * path into path[size]. */
void ta_require_driver(const char *script, char *path, size_t size);

/* `node path args...` (args NULL-terminated), killed after timeout_ms: its
 * exit status (77: the driver skipped, saying why), or -1 when it did not
 * finish or died of a signal. */
int ta_run_driver(const char *path, const char *const args[], int timeout_ms);

#endif
