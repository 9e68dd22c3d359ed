/* registry.c: the subcommands: name, entry point and usage texts. Adding a
 * subcommand is one cmd_<name>.c and one entry here. */
#include <stddef.h>

#include "cli_int.h"

#include "restoredrill/cli.h"

const rd_cli_command rd_cli_commands[] = {
    {"run", rd_cmd_run,
     "restoredrill run CONFIG [--target NAME]... [--seed N] [--parallel N]\n"
     "                        [--shard K/N] [--out DIR] [--keep-scratch] [--dry-run]\n"
     "                        [--negative-control] [--quiet | --verbose] [--no-progress]",
     "run the drill: sample, restore, check, measure RTO/RPO, report",
     "  --target NAME    run only this target (repeatable)\n"
     "  --seed N         sampling seed (default: the config's, else chosen and recorded)\n"
     "  --parallel N     targets restored at once (default: the config's)\n"
     "  --shard K/N      run the K-th of N equal shares of the targets (CI fan-out)\n"
     "  --out DIR        report directory (default: output.dir of the config)\n"
     "  --keep-scratch   leave scratch instances running for inspection\n"
     "  --dry-run        list and sample only: restore and check nothing\n"
     "  --negative-control  after the checks pass, plant known faults and expect the\n"
     "                   checks to catch each (as the target key negative_control)\n"
     "exit status: 0 every target passed, 1 something failed, 2 usage or\n"
     "configuration error, 3 aborted\n"},
    {"list", rd_cmd_list, "restoredrill list CONFIG [--target NAME] [--json]",
     "recovery points, ages, RPO exposure",
     "  --target NAME    only this target (repeatable)\n"
     "  --json           print JSON instead of a table\n"},
    {"validate", rd_cmd_validate, "restoredrill validate CONFIG [--offline]",
     "check a config, print what a run would do",
     "Loads CONFIG (comments and ${VAR} expansion allowed), reports every error\n"
     "with its JSON path, and prints per target the catalog, sampling, scratch\n"
     "instance, restore settings, reference, checks and objectives. Then it checks\n"
     "what can be checked without a scratch instance: a dir catalog's directory\n"
     "exists, can be read and has files matching the pattern; reference.dsn accepts\n"
     "a connection (5s). Each problem is a line naming the setting; exit 2.\n"
     "  --offline        check the file only: list no catalog, connect to nothing\n"},
    {"backup", rd_cmd_backup,
     "restoredrill backup --engine E --dsn DSN -o FILE [--format custom|plain|directory]\n"
     "                    [--gzip | --zstd] [--no-checksums] [--freshness-query SQL]\n"
     "                    [--all-databases | --databases GLOB...] [--no-sections]",
     "dump + consistent manifest in one snapshot",
     "  --engine E            postgres or mariadb\n"
     "  --dsn DSN             database to dump (password from the environment)\n"
     "  -o FILE               the dump; the manifest goes to FILE.manifest.json\n"
     "  --format F            postgres: custom (default), plain or directory\n"
     "  --gzip, --zstd        compress the dump in process\n"
     "  --no-checksums        leave the chunk digests out of the manifest (by default it\n"
     "                        holds them, from the dump's own snapshot, for the `checksum`\n"
     "                        check; --checksums is accepted and changes nothing)\n"
     "  --freshness-query SQL newest data time, recorded in the manifest\n"
     "  --all-databases       mariadb: every database (mariadb-dump --all-databases) and a\n"
     "                        cluster manifest with a section per database\n"
     "  --databases GLOB...   mariadb: the databases matching the shell globs (\"_\" and\n"
     "                        \"%\" are plain characters)\n"
     "  --no-sections         cluster backups: one compressed stream, no section list in\n"
     "                        the manifest (by default each database's piece ends its\n"
     "                        gzip member / zstd frame, so a drill reads only its samples)\n"},
    {"manifest", rd_cmd_manifest,
     "restoredrill manifest --engine E --dsn DSN -o FILE [--no-checksums]\n"
     "                      [--freshness-query SQL] [--all-databases | --databases GLOB...]\n"
     "       restoredrill manifest --engine s3 --bucket B [--prefix P] -o FILE\n"
     "                      [--endpoint URL] [--region R] [--path-style]\n"
     "       restoredrill manifest --engine dynamodb --endpoint URL --table T -o FILE\n"
     "                      [--region R]",
     "capture expected figures from a live database (or an S3 listing, a DynamoDB table)",
     "  --engine E            postgres or mariadb (s3: an object set's listing;\n"
     "                        dynamodb: the table's description)\n"
     "  --dsn DSN             database to read (read-only)\n"
     "  -o FILE               manifest file to write\n"
     "  --no-checksums        leave the chunk digests out (by default the manifest holds\n"
     "                        them, for the `checksum` check; --checksums changes nothing)\n"
     "  --freshness-query SQL newest data time, recorded in the manifest\n"
     "  --all-databases       mariadb: a section per database, one snapshot\n"
     "  --databases GLOB...   mariadb: the databases matching the shell globs\n"
     "  --engine s3           the listing of an object set (JSON lines: key relative to\n"
     "                        the prefix, size, sha256, md5, last_modified), each object\n"
     "                        streamed and digested, for \"reference\": {\"listing\": FILE}\n"
     "  --bucket B, --prefix P  the object set (s3)\n"
     "  --endpoint URL, --region R, --path-style  the S3 endpoint (s3; default: the\n"
     "                        AWS_ENDPOINT_URL_S3 / AWS_REGION environment)\n"
     "  --endpoint URL        dynamodb: the DynamoDB endpoint to read the table from\n"
     "  --table T             dynamodb: the table whose DescribeTable answer is written\n"
     "                        (for reference.description)\n"
     "  --region R            dynamodb: the signing region (default: from the endpoint's\n"
     "                        host, else us-east-1)\n"},
    {"checksum", rd_cmd_checksum,
     "restoredrill checksum --engine E --dsn DSN [--table T]... [--json]\n"
     "                      [--against DSN2 | --manifest FILE] [--parallel N] [--chunk-rows N]",
     "chunked table checksums computed inside the server",
     "  --engine E         postgres or mariadb\n"
     "  --dsn DSN          database to read (read-only)\n"
     "  --table T          only this table (repeatable; default: all)\n"
     "  --against DSN2     compare with a live reference, naming differing key ranges\n"
     "  --manifest FILE    compare with the chunk digests stored in a manifest\n"
     "  --parallel N       connections per database (default: number of cores)\n"
     "  --chunk-rows N     rows per chunk (default 100000)\n"
     "  --json             print JSON\n"
     "exit status: 0 equal (or digests printed), 1 differences, 2 usage\n"},
    {"diff", rd_cmd_diff,
     "restoredrill diff --engine E --dsn A --against B --table T [--against-table T2]\n"
     "                  [--key COL]... [--where SQL] [--max-rows N] [--json]",
     "row-level differences of a table between two databases",
     "  --engine E         postgres or mariadb\n"
     "  --dsn A            first database\n"
     "  --against B        second database\n"
     "  --table T          table to compare\n"
     "  --against-table T2 its name in B when it differs\n"
     "  --key COL          key column (repeatable; default: the primary key)\n"
     "  --where SQL        only rows matching this condition (both sides)\n"
     "  --max-rows N       list at most N differing keys (counts stay exact)\n"
     "  --parallel N       connections per database (default: number of cores)\n"
     "  --chunk-rows N     rows per first-level chunk; --leaf-rows N: rows per leaf\n"
     "  --json             print JSON\n"
     "exit status: 0 equal, 1 differences, 2 usage\n"},
    {"heartbeat", rd_cmd_heartbeat,
     "restoredrill heartbeat --engine E --dsn DSN [--interval 1s] [--duration D]\n"
     "                       [--table NAME] [--writer ID]",
     "write heartbeat rows so restores can measure the exact RPO",
     "  --engine E       postgres or mariadb\n"
     "  --dsn DSN        protected database\n"
     "  --interval D     time between beats (default 1s)\n"
     "  --duration D     stop after this long (default: until interrupted)\n"
     "  --table NAME     heartbeat table (default restoredrill_heartbeat)\n"
     "  --writer ID      this writer's row (default hostname:pid)\n"},
    {"report", rd_cmd_report,
     "restoredrill report FILE.json... [--junit F] [--html F] [--json F] [--prometheus F]\n"
     "                    [--history H] [--append-history H] [--sign KEY]",
     "re-render reports from JSON, merge shards",
     "  --junit F            write JUnit XML\n"
     "  --html F             write the HTML evidence report\n"
     "  --json F             write the merged JSON report\n"
     "  --prometheus F       write the Prometheus textfile\n"
     "  --history H          history file whose drills feed the HTML charts\n"
     "  --append-history H   append the (merged) drill to history H, then chart it\n"
     "  --sign KEY           sign the written JSON (F.sig) and the appended history line\n"
     "                       with this Ed25519 private key; without it they are unsigned\n"},
    {"history", rd_cmd_history, "restoredrill history verify FILE.jsonl",
     "verify the tamper-evident history chain", ""},
    {"gc", rd_cmd_gc, "restoredrill gc CONFIG [--older-than 6h] [--dry-run]",
     "remove leftover scratch instances",
     "  --older-than D   prefixed scratch databases older than this (default 6h)\n"
     "  --dry-run        print what would be removed, remove nothing\n"},
    {"coverage", rd_cmd_coverage,
     "restoredrill coverage CONFIG [--history FILE] [--target NAME]... [--json]",
     "which recovery points of the retention window drills have verified",
     "Lists each target's catalog and, from the history, the recovery points of\n"
     "the retention window (sample.window, else every point) that a passed drill\n"
     "restored, and the share of the window proven restorable.\n"
     "  --history FILE   history to read (default: the configuration's)\n"
     "  --target NAME    only this target (repeatable)\n"
     "  --json           print JSON\n"
     "PITR windows (share of the time span) are not covered yet: no PITR catalog exists.\n"},
    {"evidence", rd_cmd_evidence,
     "restoredrill evidence verify FILE --pub KEY.pub [--sig FILE.sig]\n"
     "       restoredrill evidence pack OUTDIR -o FILE.tar.gz [--config CONFIG]",
     "verify signed evidence, pack it for an auditor",
     "verify: check FILE against its detached signature (FILE.sig, or --sig); for a\n"
     "  history file without FILE.sig: the chain, every signed line, and that the\n"
     "  last line is signed. Exit 0 valid, 1 invalid (edited, another key, not\n"
     "  signed), 2 usage.\n"
     "pack: one .tar.gz with every report of OUTDIR, the signatures, the history,\n"
     "  the configuration with secrets removed (the one the report names, or\n"
     "  --config), SHA256SUMS and a README for the auditor. Exit 0 written,\n"
     "  1 OUTDIR holds no report or the configuration is missing, 2 usage.\n"},
    {"version", rd_cmd_version, "restoredrill version", "print the version and linked libraries",
     ""},
    {NULL, NULL, NULL, NULL, NULL},
};
