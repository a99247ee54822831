/* sandboxctl logs [-f] [-n N] [--events URL] ID: an object's output lines,
 * each once and in order (sbx_logs_follow). Without -f it prints what is
 * kept and, when an execution is running, follows it until it ends; with
 * -f it follows until interrupted. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"
#include "sandboxctl.h"

static int print_line(void *arg, uint64_t seq, int64_t time_us, const char *stream,
		      const void *text, size_t len)
{
	FILE *out = strcmp(stream, "stderr") == 0 ? stderr : stdout;

	(void)arg;
	(void)seq;
	(void)time_us;
	if (strcmp(stream, "exit") == 0) {
		fprintf(stderr, "[exit] %.*s\n", (int)len, (const char *)text);
		return 0;
	}
	if (len)
		fwrite(text, 1, len, out);
	fputc('\n', out);
	/* Line-buffered for a pipe too: a follower should see lines now. */
	fflush(out);
	return 0;
}

int cmd_logs(const struct globals *g, int argc, char **argv)
{
	static const struct option lopts[] = {
		{"follow", no_argument, NULL, 'f'},
		{"lines", required_argument, NULL, 'n'},
		{"events", required_argument, NULL, 'e'},
		{NULL, 0, NULL, 0},
	};
	struct sbx_logs_follow_opts o = {.events_url = g->events_url, .events_dns = g->events_dns};
	struct sbx_client *c = NULL;
	bool forever = false;
	char *end;
	int opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+fn:", lopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			forever = true;
			break;
		case 'n':
			errno = 0;
			unsigned long n = strtoul(optarg, &end, 10);
			if (errno || *end || n > 1000000) {
				fprintf(stderr, "sandboxctl logs: -n wants a number of lines\n");
				return EXIT_USAGE;
			}
			o.tail = (uint32_t)n;
			break;
		case 'e':
			o.events_url = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: sandboxctl logs [-f] [-n N] [--events URL] ID\n");
		return EXIT_USAGE;
	}
	o.id = argv[optind];
	o.follow = 1;
	o.until_exit = !forever;
	r = ctl_open(g, &c);
	if (r != EXIT_OK)
		return r;
	r = sbx_logs_follow(c, &o, print_line, NULL);
	sbx_client_close(c);
	if (o.lost)
		fprintf(stderr, "sandboxctl logs: %llu lines were no longer kept\n",
			(unsigned long long)o.lost);
	if (r == -ENOENT) {
		fprintf(stderr, "sandboxctl logs: no logs for %s\n", o.id);
		return EXIT_RPC_ERROR;
	}
	if (r == -EPROTO) {
		fprintf(stderr, "sandboxctl logs: the daemon refused GetLogs\n");
		return EXIT_RPC_ERROR;
	}
	if (r < 0)
		return ctl_call_error(g, r, NULL);
	return EXIT_OK;
}
