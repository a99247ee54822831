#include "methods.h"

#include <errno.h>
#include <string.h>

#include "api.pb-c.h"

static const ProtobufCServiceDescriptor *const service = &sbx__sandboxd__descriptor;

size_t sbx_method_count(void) { return service->n_methods; }

const sbx_method *sbx_method_at(size_t i)
{
	return i < service->n_methods ? &service->methods[i] : NULL;
}

int sbx_method_index(const char *name)
{
	const sbx_method *m = name ? protobuf_c_service_descriptor_get_method_by_name(service, name) : NULL;

	return m ? (int)(m - service->methods) : -ENOENT;
}

const sbx_method *sbx_method_find(const char *name)
{
	int i = sbx_method_index(name);

	return i < 0 ? NULL : &service->methods[i];
}
