/* Runs the real xlab binary ($XLAB_BIN) for the command-line tests. */
#ifndef XLAB_TEST_CLIRUN_H
#define XLAB_TEST_CLIRUN_H

/* xlab ARGS... (NULL-terminated) with ENV (NULL-terminated KEY=VALUE, may
 * be NULL) added; returns the exit status, stdout and stderr in out/err. */
int cli_run(char *const env[], char **out, char **err, ...);
/* The same with IN fed to its standard input. */
int cli_run_in(const char *in, char *const env[], char **out, char **err, ...);

#endif
