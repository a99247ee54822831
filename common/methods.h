/* The method table. The `service Sandboxd` block of proto/api.proto is the
 * single source: its generated descriptor gives every method's name, request
 * and reply message. Daemon dispatch, client stubs and gateway routes all
 * look methods up here. */
#ifndef SBX_METHODS_H
#define SBX_METHODS_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

typedef ProtobufCMethodDescriptor sbx_method;

size_t sbx_method_count(void);
/* The i-th method in proto order, i < sbx_method_count(). */
const sbx_method *sbx_method_at(size_t i);
/* Index of a method by name, or -ENOENT. */
int sbx_method_index(const char *name);
/* The method by name, or NULL. */
const sbx_method *sbx_method_find(const char *name);

#endif
