/* fuzz_util.h: shared by the libFuzzer targets of tests/fuzz/ (one file
 * per parser of outside input; see docs/fuzzing.md). */
#ifndef RESTOREDRILL_FUZZ_UTIL_H
#define RESTOREDRILL_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input as a NUL-terminated heap string (a NUL inside ends it early, as
 * it would for a C string read from a file); NULL when out of memory. */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s) {
        memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

#endif
