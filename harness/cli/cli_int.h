/* cli_int.h: declarations shared inside harness/cli/ only: the subcommand
 * table (registry.c) that cli.c dispatches through. */
#ifndef RESTOREDRILL_CLI_INT_H
#define RESTOREDRILL_CLI_INT_H

#include "restoredrill/catalog.h"
#include <stddef.h>

typedef struct rd_cli_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *synopsis; /* after "usage: " */
    const char *summary;  /* one line for the overview */
    const char *details;  /* options and notes, may be "" */
} rd_cli_command;

/* Terminated by an entry whose name is NULL. */
extern const rd_cli_command rd_cli_commands[];

/* `list` of a physical catalog (cmd_list_archive.c): base backups, the
 * restorable window, gaps. Nothing when pts->archive is NULL. picked: smp
 * holds the pick a run would make. */
struct cJSON;
void rd_cli_print_archive(const rd_points *pts, const rd_sample *smp, int picked);
void rd_cli_json_archive(struct cJSON *o, const rd_points *pts, const rd_sample *smp, int picked);
/* cmd_coverage.c: the history file a run of cfg appends to (out_dir NULL:
 * output.dir), heap, NULL when output.history is null; the history index a
 * run hands to the drill (NULL when there is none or it cannot be read,
 * logged), freed with rd_coverage_free. */
struct rd_config;
struct rd_coverage;
char *rd_cli_history_path(const struct rd_config *cfg, const char *out_dir);
struct rd_coverage *rd_cli_coverage_for_run(const struct rd_config *cfg, const char *out_dir);
/* cli.c: load the configuration file with the drill's drivers (*cfg);
 * its error printed (rd_cli_print_error) and RD_EXIT_USAGE when it cannot. */
int rd_cli_load_config(const char *file, struct rd_config **cfg);
/* validate_probe.c: check what can be checked without a scratch instance
 * (a dir catalog's directory and pattern, the live reference's connection);
 * one stderr line per problem; returns how many. */
size_t rd_cli_validate_probe(const struct rd_config *cfg);
/* cmd_manifest_dyn.c: `manifest --engine dynamodb`: a table's description. */
int rd_cli_manifest_dynamodb(int argc, char **argv);

/* cmd_manifest_s3.c: `manifest --engine s3` (the listing of an object set) */
int rd_cli_is_engine_s3(int argc, char **argv);
int rd_cmd_manifest_s3(int argc, char **argv);

#endif
