/* cmd_backup.c: placeholder until its issue lands. */
#include "restoredrill/cli.h"

int rd_cmd_backup(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return rd_cli_not_implemented("backup");
}

int rd_cmd_manifest(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return rd_cli_not_implemented("manifest");
}

int rd_cmd_heartbeat(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return rd_cli_not_implemented("heartbeat");
}
