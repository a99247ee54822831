/* Judge0's validation of one submission's JSON (gateway/judge0_valid.c). */
#ifndef SBX_GW_JUDGE0_VALID_H
#define SBX_GW_JUDGE0_VALID_H

#include <jansson.h>
#include <stdbool.h>

#include "gw_judge0.h"

struct gw_j0_valid_opts {
	bool base64;			   /* source_code, stdin, expected_output are Base64 */
	const struct sbx_reply *languages; /* ListLanguages' answer */
	const Sbx__ConfigReply *config;	   /* GetConfig's: the daemon's maxima */
	/* May the daemon call callback_url back? 0, or -EPERM with the
	 * reason in why; NULL: callbacks are not allowed at all. */
	int (*check_callback)(void *arg, const char *url, char *why, size_t size);
	void *arg;
};

/* Fill s (an initialised message) from body, Judge0's defaults for what
 * it lacks. 0 with errors empty and s ready for Execute (status In Queue,
 * limits, words); 0 with errors holding {field: [messages]}; -ENOMEM. */
int gw_j0_validate(json_t *body, const struct gw_j0_valid_opts *o, Sbx__Judge0Submission *s,
		   json_t *errors);

#endif
