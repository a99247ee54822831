/* sandboxctl nodes [--json]: the nodes the client sees (one for one URL):
 * id, address, up, running/queued/slots, objects, available memory. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "sandbox.h"
#include "sandboxctl.h"
#include "status.h"

/* Wait (bounded) until every node answered its first Health. */
static void settle(struct sbx_client *c, unsigned ms)
{
	int64_t until = sbx_clock_mono_ms() + ms;

	for (;;) {
		struct sbx_node *v = NULL;
		size_t n = 0, up = 0;

		if (sbx_client_nodes(c, &v, &n) == 0)
			for (size_t i = 0; i < n; i++)
				up += v[i].up;
		free(v);
		if ((n > 0 && up == n) || sbx_clock_mono_ms() >= until)
			return;
		nanosleep(&(struct timespec){ 0, 50 * 1000000 }, NULL);
	}
}

static void print_json(const struct sbx_node *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
						   "id", v[i].id, "tag", v[i].tag, "address", v[i].address,
						   "up", v[i].up, "running", (json_int_t)v[i].running,
						   "queued", (json_int_t)v[i].queued, "slots", (json_int_t)v[i].slots,
						   "objects", (json_int_t)v[i].objects,
						   "memory_total_mb", (json_int_t)v[i].memory_total_mb,
						   "memory_available_mb", (json_int_t)v[i].memory_available_mb,
						   "tunnel_port", (json_int_t)v[i].tunnel_port));
	json_dumpf(a, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(a);
}

static void print_table(const struct sbx_node *v, size_t n)
{
	printf("%-36s  %-28s  %-4s  %-17s  %7s  %9s\n", "ID", "ADDRESS", "UP", "RUN/QUEUE/SLOTS",
	       "OBJECTS", "MEM FREE");
	for (size_t i = 0; i < n; i++) {
		char load[32], mem[24];

		snprintf(load, sizeof(load), "%u/%u/%u", v[i].running, v[i].queued, v[i].slots);
		snprintf(mem, sizeof(mem), "%llu MB", (unsigned long long)v[i].memory_available_mb);
		printf("%-36s  %-28s  %-4s  %-17s  %7u  %9s\n", v[i].id[0] ? v[i].id : "-", v[i].address,
		       v[i].up ? "yes" : "no", load, v[i].objects, mem);
	}
}

int cmd_nodes(const struct globals *g, int argc, char **argv)
{
	struct sbx_client *c = NULL;
	struct sbx_node *v = NULL;
	struct sbx_reply rep;
	size_t n = 0;
	int json = argc == 2 && strcmp(argv[1], "--json") == 0, r;

	if (argc > 2 || (argc == 2 && !json)) {
		fprintf(stderr, "sandboxctl: usage: nodes [--json]\n");
		return EXIT_USAGE;
	}
	r = ctl_open(g, &c);
	if (r != EXIT_OK)
		return r;
	/* A client of one daemon knows its node from Health answers; a
	 * cluster client's poller asks every node. */
	if (sbx_call(c, "Health", NULL, 0, &rep) == 0)
		sbx_reply_fini(&rep);
	settle(c, g->connect_ms);
	r = sbx_client_nodes(c, &v, &n);
	sbx_client_close(c);
	if (r < 0) {
		fprintf(stderr, "sandboxctl: %s\n", strerror(-r));
		return EXIT_UNAVAILABLE;
	}
	if (json)
		print_json(v, n);
	else
		print_table(v, n);
	for (size_t i = 0; i < n; i++)
		r += v[i].up;
	free(v);
	/* Like any command: 3 when no daemon could be reached. */
	return r > 0 ? EXIT_OK : EXIT_UNAVAILABLE;
}
