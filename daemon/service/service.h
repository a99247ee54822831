/* A service: one long-running sandboxed process (a deployment's web
 * server, a persistent sandbox's dev server) that listens on a TCP port
 * inside a network namespace of its own, reached from the host through a
 * forwarder socket (forward.h), started, stopped and restarted on demand.
 *
 * The service owns the namespace and the thread that waits for the
 * process; what runs is its owner's business: `run` is called on the
 * service's thread with the namespace to run in and returns when the
 * process has ended (it installs dependencies first if it likes), and
 * `cancel` makes a run in progress return soon (it may be called before
 * the run began, and again). Every start gets a fresh namespace: sockets
 * and TIME_WAIT state of one run never reach the next.
 *
 * Thread-safe. */
#ifndef SBX_SERVICE_H
#define SBX_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "sentence.h"

struct sbx_service;

enum sbx_service_state {
	SBX_SERVICE_STOPPED,  /* never started, or stopped on purpose */
	SBX_SERVICE_STARTING, /* running, the port not seen open yet */
	SBX_SERVICE_RUNNING,  /* the port accepted a connection */
	SBX_SERVICE_EXITED,   /* the process ended by itself: see the note */
};

struct sbx_service_ops {
	/* Blocking: run the process in netns_fd until it ends. Returns 0, or
	 * -errno when it could not be started; *ret_note (malloc'd, may stay
	 * NULL) says how it ended ("exited with code 1", "dependency
	 * installation failed"). */
	int (*run)(void *arg, int netns_fd, char **ret_note);
	/* Make the run in progress (or the next one to begin) end. */
	void (*cancel)(void *arg);
};

/* A stopped service whose forwarder listens on socket_path and relays to
 * `port`; a connection that finds it stopped or ended starts it and waits
 * up to wake_ms for its port (0: is refused at once). ops and arg must
 * outlive it. 0 or -errno. */
int sbx_service_new(const char *socket_path, uint16_t port, uint32_t wake_ms,
		    const struct sbx_service_ops *ops, void *arg, struct sbx_service **ret);
/* Stop it and free it. NULL is a no-op. */
void sbx_service_free(struct sbx_service *s);

/* Start the process unless it is starting or running. Returns at once:
 * 0 or -errno (no namespace, no thread). */
int sbx_service_start(struct sbx_service *s);
/* Stop the process, blocking until its run returned. */
void sbx_service_stop(struct sbx_service *s);
/* Wait until the port accepts connections: 0; -ETIMEDOUT after
 * timeout_ms; -ECONNREFUSED when the process is not running (it ended,
 * or was never started). */
int sbx_service_wait_ready(struct sbx_service *s, uint32_t timeout_ms);

struct sbx_service_info {
	enum sbx_service_state state;
	unsigned starts;	     /* runs begun since creation */
	int64_t started_ms;	     /* wall clock of the last start; 0 = never */
	int64_t last_activity_ms;    /* of the forwarder (sbx_forward_last_activity) */
	char note[SBX_SENTENCE_MAX]; /* how the last run ended, "" while running */
};
void sbx_service_info(struct sbx_service *s, struct sbx_service_info *ret);

const char *sbx_service_socket(const struct sbx_service *s);
const char *sbx_service_state_name(enum sbx_service_state st);

#endif
