/* cli.h: subcommand entry points. Each takes the argv after the program name
 * (argv[0] is the subcommand) and returns the process exit status:
 * 0 all passed, 1 the drill ran and something failed, 2 usage or
 * configuration error (nothing touched), 3 aborted or internal error. */
#ifndef RESTOREDRILL_CLI_H
#define RESTOREDRILL_CLI_H

enum { RD_EXIT_OK = 0, RD_EXIT_FAILED = 1, RD_EXIT_USAGE = 2, RD_EXIT_ABORTED = 3 };

/* Dispatch: `restoredrill SUBCOMMAND ...`, --help, help SUBCOMMAND. */
int rd_cli_main(int argc, char **argv);
/* Print the usage text of a subcommand to stderr (or stdout when to_stdout).
 * On stderr (after a usage error) only the synopsis and a pointer to
 * `restoredrill help SUBCOMMAND`; on stdout the full text. NULL or an unknown
 * name: the overview of all commands. */
void rd_cli_usage(const char *subcommand, int to_stdout);

int rd_cmd_run(int argc, char **argv);       /* harness/cli/cmd_run.c */
int rd_cmd_list(int argc, char **argv);      /* harness/cli/cmd_run.c */
int rd_cmd_validate(int argc, char **argv);  /* harness/cli/cmd_validate.c */
int rd_cmd_version(int argc, char **argv);   /* harness/cli/cmd_version.c */
int rd_cmd_backup(int argc, char **argv);    /* harness/cli/cmd_backup.c */
int rd_cmd_manifest(int argc, char **argv);  /* harness/cli/cmd_backup.c */
int rd_cmd_heartbeat(int argc, char **argv); /* harness/cli/cmd_backup.c */
int rd_cmd_checksum(int argc, char **argv);  /* harness/cli/cmd_compare.c */
int rd_cmd_diff(int argc, char **argv);      /* harness/cli/cmd_compare.c */
int rd_cmd_report(int argc, char **argv);    /* harness/cli/cmd_report.c */
int rd_cmd_history(int argc, char **argv);   /* harness/cli/cmd_report.c */
int rd_cmd_gc(int argc, char **argv);        /* harness/cli/cmd_gc.c */
int rd_cmd_evidence(int argc, char **argv);  /* harness/cli/cmd_evidence.c */
int rd_cmd_coverage(int argc, char **argv);  /* harness/cli/cmd_coverage.c */

/* Report a usage error: "restoredrill: SUB: <message>" and the subcommand's
 * short usage on stderr. Returns RD_EXIT_USAGE. */
int rd_cli_usage_error(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Match argv[*i] against "--name VALUE" or "--name=VALUE"; on a match
 * advances *i past the value and returns 1, with *val NULL when the value is
 * missing; returns 0 when argv[*i] is another argument. */
int rd_cli_opt_value(int argc, char **argv, int *i, const char *name, const char **val);

/* Print an error message on stderr, every line prefixed "restoredrill: "
 * (configuration errors name several paths, one per line). */
void rd_cli_print_error(const char *msg);

#endif
