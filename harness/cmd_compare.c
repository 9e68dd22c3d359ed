/* cmd_compare.c: placeholder until its issue lands. */
#include "restoredrill/cli.h"

int rd_cmd_checksum(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return rd_cli_not_implemented("checksum");
}

int rd_cmd_diff(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return rd_cli_not_implemented("diff");
}
