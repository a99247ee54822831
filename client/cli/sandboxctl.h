/* What sandboxctl's subcommands share. */
#ifndef SBX_SANDBOXCTL_H
#define SBX_SANDBOXCTL_H

#include <protobuf-c/protobuf-c.h>

enum exit_code {
	EXIT_OK = 0,
	EXIT_RPC_ERROR = 1,    /* the daemon answered with an error status */
	EXIT_USAGE = 2,
	EXIT_UNAVAILABLE = 3,  /* the daemon could not be reached */
	EXIT_TIMEOUT = 4,
};

struct globals {
	const char *rpc_url;
	const char *token;
	unsigned timeout_ms;
	unsigned connect_ms;
};

/* Call `method` with `req` and hand the OK reply message to *ret (free with
 * protobuf_c_message_free_unpacked). Errors are printed; returns the exit
 * code. */
int ctl_call(const struct globals *g, const char *method, const ProtobufCMessage *req,
	     ProtobufCMessage **ret);

/* Subcommands with arguments of their own (run.c). argv[0] is the
 * subcommand's name. */
int cmd_run(const struct globals *g, int argc, char **argv);
int cmd_exec(const struct globals *g, int argc, char **argv);
/* logs.c */
int cmd_logs(const struct globals *g, int argc, char **argv);

#endif
