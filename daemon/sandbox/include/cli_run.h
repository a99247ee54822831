/* `sandboxd --run`: run one command in a sandbox without a daemon (the
 * OpenSandbox seed's CLI mode). */
#ifndef SBX_CLI_RUN_H
#define SBX_CLI_RUN_H

/* argv as given to main(); the "--run" flag may be anywhere before "--".
 *   sandboxd --run [--time MS] [--mem KB] [--fsize KB] [--nofile N]
 *                  [--wall MS] [--pids N] [--net] [--state-dir DIR] -- cmd args...
 * Creates an engine (so it must be called before any thread exists), runs
 * the command with the caller's stdin, copies its stdout/stderr to ours and
 * returns the exit code for main() to return: the command's, 128+signal if
 * it was killed, 125 when the sandbox itself failed, 2 on bad usage
 * (0 for --help). */
int sbx_cli_run(int argc, char **argv);

#endif
