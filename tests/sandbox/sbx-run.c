/* `sbx-run ARGS` = `sandboxd --run ARGS`: the CLI mode without the daemon's
 * main(), for tests and manual poking. */
#include "cli_run.h"

int main(int argc, char **argv)
{
	return sbx_cli_run(argc, argv);
}
