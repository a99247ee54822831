/* placeholder until the mapper lands */
#include "json_pb.h"
#include <errno.h>
int jpb_from_json(const ProtobufCMessageDescriptor *d, json_t *in, const struct jpb_dialect *dialect,
		  ProtobufCMessage **ret, char *err, size_t errlen) { return -ENOSYS; }
int jpb_set_from_string(ProtobufCMessage *m, const char *json_name, const char *value,
			const struct jpb_dialect *dialect, char *err, size_t errlen) { return -ENOSYS; }
json_t *jpb_to_json(const ProtobufCMessage *m, const struct jpb_dialect *dialect) { return json_object(); }
