/* sha256.h: SHA-256 through OpenSSL's libcrypto (EVP), incremental or
 * one-shot, as lowercase hex. */
#ifndef RESTOREDRILL_SHA256_H
#define RESTOREDRILL_SHA256_H

#include <stddef.h>

#include "restoredrill/error.h"

#define RD_SHA256_HEX_LEN 64

typedef struct rd_sha256 rd_sha256; /* opaque */

rd_status rd_sha256_new(rd_sha256 **out, rd_error *err);
void rd_sha256_update(rd_sha256 *h, const void *data, size_t len);
/* Writes 64 hex chars + NUL into hex (>= 65 bytes). The context may not be
 * updated afterwards. */
void rd_sha256_final_hex(rd_sha256 *h, char *hex);
void rd_sha256_free(rd_sha256 *h);

void rd_sha256_hex(const void *data, size_t len, char *hex);
rd_status rd_sha256_file(const char *path, char *hex, unsigned long long *bytes, rd_error *err);

#endif
