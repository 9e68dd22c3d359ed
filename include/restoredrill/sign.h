/* sign.h: Ed25519 signatures through OpenSSL's libcrypto, for signed
 * evidence (DESIGN section 12). Keys are PEM files: a private key
 * (`openssl genpkey -algorithm ed25519`) signs, its public half
 * (`openssl pkey -pubout`) verifies. A key is named by its fingerprint,
 * "sha256:" + the hex sha256 of the raw 32-byte public key. Signatures are
 * the raw 64 bytes, base64-encoded (88 characters). Key material is never
 * logged or put in an error message. */
#ifndef RESTOREDRILL_SIGN_H
#define RESTOREDRILL_SIGN_H

#include <stddef.h>

#include "restoredrill/error.h"

#define RD_SIGN_B64_LEN 88               /* base64 of 64 bytes, without NUL */
#define RD_SIGN_FINGERPRINT_LEN (7 + 64) /* "sha256:" + 64 hex, without NUL */

typedef struct rd_sign_key rd_sign_key; /* opaque */

/* Load an Ed25519 private key (PEM). RD_ERR_NOTFOUND / RD_ERR_IO when the
 * file cannot be read, RD_ERR_FORMAT "KEY: not a PEM private key" or
 * "KEY: not an ed25519 key (rsa)". *out is the caller's. */
rd_status rd_sign_load_private(const char *path, rd_sign_key **out, rd_error *err);
/* Load an Ed25519 public key (PEM); a private key file is accepted too (its
 * public half is used). Errors as above. */
rd_status rd_sign_load_public(const char *path, rd_sign_key **out, rd_error *err);
void rd_sign_key_free(rd_sign_key *k);
/* 1 when k holds a private key (can sign). */
int rd_sign_key_can_sign(const rd_sign_key *k);
/* "sha256:<64 hex>"; borrowed, valid while k lives. */
const char *rd_sign_fingerprint(const rd_sign_key *k);

/* Sign len bytes of data; b64 gets the base64 signature and a NUL (b64sz
 * >= RD_SIGN_B64_LEN + 1). RD_ERR_USAGE when k is a public key. */
rd_status rd_sign_data(const rd_sign_key *k, const void *data, size_t len, char *b64, size_t b64sz,
                       rd_error *err);
/* RD_OK when b64 is a valid signature of data by k; RD_ERR_INTEGRITY
 * "signature does not match" when not (edited data or another key),
 * RD_ERR_FORMAT "signature is not base64 of 64 bytes" when malformed. */
rd_status rd_sign_verify(const rd_sign_key *k, const void *data, size_t len, const char *b64,
                         rd_error *err);

#endif
