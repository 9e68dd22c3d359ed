/* fuzz_expect.c: the expectations of sql checks (">= 100", "between 1 and
 * 5", "~ regex") and their evaluation against a value: the first line is
 * the expectation, the rest the actual value. */
#include "fuzz_util.h"
#include "restoredrill/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_str(data, size);
    rd_expect e;
    rd_error err;
    if (!text)
        return 0;
    char *nl = strchr(text, '\n');
    if (nl)
        *nl = '\0';
    rd_error_clear(&err);
    memset(&e, 0, sizeof e);
    if (rd_expect_parse(text, &e, &err) == RD_OK) {
        (void)rd_expect_eval(&e, nl ? nl + 1 : "");
        rd_expect_free(&e);
    }
    free(text);
    return 0;
}
