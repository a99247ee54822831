/* What sandboxctl's subcommands share. */
#ifndef SBX_SANDBOXCTL_H
#define SBX_SANDBOXCTL_H

#include <protobuf-c/protobuf-c.h>

#include "sandbox.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_RPC_ERROR = 1,    /* the daemon answered with an error status */
	EXIT_USAGE = 2,
	EXIT_UNAVAILABLE = 3,  /* the daemon could not be reached */
	EXIT_TIMEOUT = 4,
};

struct globals {
	const char *rpc_url;      /* one URL, or several comma-separated (a cluster) */
	const char *rpc_dns;      /* tcp://NAME:PORT: every address is a node; NULL: none */
	const char *events_url;   /* NULL: the library's default */
	const char *events_dns;
	const char *cluster_key;
	const char *token;
	unsigned timeout_ms;
	unsigned connect_ms;
};

/* A client of g's daemon(s); errors are printed. Returns the exit code. */
int ctl_open(const struct globals *g, struct sbx_client **ret);
/* Print why a call failed (a transport error; node names the node it went
 * to) and return the exit code. */
int ctl_call_error(const struct globals *g, int err, const char *node);

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
/* files.c: `NOUN download ID PATH [-o FILE]` with RPC `method` (a
 * Download*File) whose id goes in `id_field`: the file's bytes to FILE
 * (replaced) or stdout. argv[0] is ID. */
int cmd_download(const struct globals *g, const char *method, const char *id_field, int argc,
		 char **argv);
/* nodes.c */
int cmd_nodes(const struct globals *g, int argc, char **argv);

#endif
