/* cmd_run.c: placeholder until its issue lands. */
#include "restoredrill/cli.h"

int rd_cmd_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return rd_cli_not_implemented("run");
}

int rd_cmd_list(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return rd_cli_not_implemented("list");
}
