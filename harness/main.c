/* main.c: the only place a status becomes an exit code. */
#include "restoredrill/cli.h"

int main(int argc, char **argv)
{
    return rd_cli_main(argc, argv);
}
