/* cmd_report.c: placeholder until its issue lands. */
#include "restoredrill/cli.h"

int rd_cmd_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return rd_cli_not_implemented("report");
}

int rd_cmd_history(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return rd_cli_not_implemented("history");
}
