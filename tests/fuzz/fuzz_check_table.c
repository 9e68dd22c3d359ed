/* fuzz_check_table.c: MariaDB's CHECK TABLE output as the integrity check
 * reads it (rd_integrity_check_table_row), one "Msg_type<TAB>Msg_text" row
 * per input line, and the summary text built from the rows. */
#include "../../checks/check_util.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_str(data, size);
    int ok = 0, unsupported = 0;
    rd_cku_list bad;
    if (!text)
        return 0;
    rd_cku_list_init(&bad, 3);
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *tab = strchr(line, '\t');
        if (tab)
            *tab = '\0';
        rd_integrity_check_table_row(line, tab ? tab + 1 : NULL, &ok, &unsupported, &bad);
        line = nl ? nl + 1 : NULL;
    }
    (void)rd_cku_list_text(&bad);
    rd_cku_list_free(&bad);
    free(text);
    return 0;
}
