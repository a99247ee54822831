/* sandboxctl NOUN download ID PATH [-o FILE]: a workspace file's bytes,
 * raw, where the other commands print JSON. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "fdio.h"
#include "methods.h"
#include "objects.pb-c.h"

#include "sandboxctl.h"

/* ID PATH [-o FILE] in any order of the option; 0 or -EINVAL (printed). */
static int parse(int argc, char **argv, const char **id, const char **path, const char **out)
{
	int pos = 0;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
			if (++i == argc) {
				fprintf(stderr, "sandboxctl: %s needs a file name\n", argv[i - 1]);
				return -EINVAL;
			}
			*out = argv[i];
		} else if (pos == 0) {
			*id = argv[i], pos++;
		} else if (pos == 1) {
			*path = argv[i], pos++;
		} else {
			fprintf(stderr, "sandboxctl: unexpected argument '%s'\n", argv[i]);
			return -EINVAL;
		}
	}
	return pos == 2 ? 0 : -EINVAL;
}

/* Write the bytes to out ("-" or NULL: stdout); the exit code. */
static int save(const char *out, const ProtobufCBinaryData *c)
{
	bool to_stdout = !out || strcmp(out, "-") == 0;
	int fd = to_stdout ? STDOUT_FILENO
			   : open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int r;

	if (fd < 0) {
		fprintf(stderr, "sandboxctl: %s: %s\n", out, strerror(errno));
		return EXIT_USAGE;
	}
	r = sbx_write_full(fd, c->data, c->len);
	if (!to_stdout && close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		fprintf(stderr, "sandboxctl: writing %s: %s\n", to_stdout ? "stdout" : out,
			strerror(-r));
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int cmd_download(const struct globals *g, const char *method, const char *id_field, int argc,
		 char **argv)
{
	const char *id = NULL, *path = NULL, *out = NULL;
	const sbx_method *m = sbx_method_find(method);
	const ProtobufCFieldDescriptor *fid, *fpath;
	ProtobufCMessage *req, *rep = NULL;
	int r;

	if (parse(argc, argv, &id, &path, &out) < 0 || !m)
		return EXIT_USAGE;
	/* The request is {id_field: ID, path: PATH}, set through the
	 * descriptor: the same code serves sandboxes and sessions. */
	fid = protobuf_c_message_descriptor_get_field_by_name(m->input, id_field);
	fpath = protobuf_c_message_descriptor_get_field_by_name(m->input, "path");
	req = fid && fpath ? sbx_message_new(m->input) : NULL;
	if (!req)
		return EXIT_USAGE;
	*(const char **)((char *)req + fid->offset) = id;
	*(const char **)((char *)req + fpath->offset) = path;
	r = ctl_call(g, method, req, &rep);
	/* The strings are argv's: not the message's to free. */
	*(const char **)((char *)req + fid->offset) = NULL;
	*(const char **)((char *)req + fpath->offset) = NULL;
	protobuf_c_message_free_unpacked(req, NULL);
	if (r != EXIT_OK)
		return r;
	r = save(out, &((Sbx__FileContent *)rep)->content);
	protobuf_c_message_free_unpacked(rep, NULL);
	return r;
}
