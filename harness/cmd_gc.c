/* cmd_gc.c: placeholder until its issue lands. */
#include "restoredrill/cli.h"

int rd_cmd_gc(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return rd_cli_not_implemented("gc");
}
