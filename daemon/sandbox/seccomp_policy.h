/* The seccomp policy (seccomp.c), compiled once at spawner start. Not
 * named seccomp.h: that is libseccomp's <seccomp.h>, which this folder on
 * the include path would shadow. */
#ifndef SBX_SECCOMP_POLICY_H
#define SBX_SECCOMP_POLICY_H

#include <linux/filter.h>

/* Build the policy into *ret_prog (caller frees ->filter). The test suite
 * also dumps it. */
int sbx_seccomp_build(struct sock_fprog *ret_prog);

#endif
