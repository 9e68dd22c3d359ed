/* sign.c: Ed25519 keys, signatures and fingerprints through OpenSSL EVP. */
#include "restoredrill/sign.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/fs.h"
#include "restoredrill/sha256.h"

#define KEY_MAX_BYTES ((size_t)64 * 1024)
#define SIG_BYTES 64

struct rd_sign_key {
    EVP_PKEY *pkey;
    int private_key;
    char fingerprint[RD_SIGN_FINGERPRINT_LEN + 1];
};

void rd_sign_key_free(rd_sign_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

int rd_sign_key_can_sign(const rd_sign_key *k)
{
    return k && k->private_key;
}

const char *rd_sign_fingerprint(const rd_sign_key *k)
{
    return k->fingerprint;
}

/* Take pkey (owned) into a new key: refuse other algorithms, compute the
 * fingerprint of the raw public key. */
static rd_status wrap(const char *path, EVP_PKEY *pkey, int private_key, rd_sign_key **out,
                      rd_error *err)
{
    unsigned char raw[32];
    size_t rawlen = sizeof raw;
    char hex[RD_SHA256_HEX_LEN + 1];
    rd_sign_key *k = NULL;
    if (EVP_PKEY_id(pkey) != EVP_PKEY_ED25519) {
        const char *name = OBJ_nid2sn(EVP_PKEY_id(pkey));
        EVP_PKEY_free(pkey);
        return RD_ERR(err, RD_ERR_FORMAT, "%s: not an ed25519 key (%s)", path,
                      name ? name : "unknown type");
    }
    if (EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) != 1 || rawlen != sizeof raw) {
        EVP_PKEY_free(pkey);
        return RD_ERR(err, RD_ERR_FORMAT, "%s: cannot read the public key", path);
    }
    if (!(k = calloc(1, sizeof *k))) {
        EVP_PKEY_free(pkey);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory loading a key");
    }
    rd_sha256_hex(raw, rawlen, hex);
    memcpy(k->fingerprint, "sha256:", 7);
    memcpy(k->fingerprint + 7, hex, RD_SHA256_HEX_LEN + 1);
    k->pkey = pkey;
    k->private_key = private_key;
    *out = k;
    return RD_OK;
}

static rd_status load(const char *path, int want_private, rd_sign_key **out, rd_error *err)
{
    char *text = NULL;
    size_t len = 0;
    BIO *bio = NULL;
    EVP_PKEY *pkey = NULL;
    int is_private = 0;
    rd_status st = rd_fs_read_file(path, KEY_MAX_BYTES, &text, &len, err);
    if (st != RD_OK) {
        if (err && err->sys_errno == ENOENT)
            err->code = st = RD_ERR_NOTFOUND;
        return st;
    }
    if (!(bio = BIO_new_mem_buf(text, (int)len))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory loading a key");
        goto out;
    }
    pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    is_private = pkey != NULL;
    if (!pkey && !want_private) {
        BIO_free(bio);
        if (!(bio = BIO_new_mem_buf(text, (int)len))) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory loading a key");
            goto out;
        }
        pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    }
    ERR_clear_error();
    if (!pkey) {
        st = RD_ERR(err, RD_ERR_FORMAT, "%s: not a PEM %s key", path,
                    want_private ? "private" : "public or private");
        goto out;
    }
    st = wrap(path, pkey, is_private, out, err);
out:
    BIO_free(bio);
    if (text) {
        memset(text, 0, len); /* private key material */
        free(text);
    }
    return st;
}

rd_status rd_sign_load_private(const char *path, rd_sign_key **out, rd_error *err)
{
    return load(path, 1, out, err);
}

rd_status rd_sign_load_public(const char *path, rd_sign_key **out, rd_error *err)
{
    return load(path, 0, out, err);
}

rd_status rd_sign_data(const rd_sign_key *k, const void *data, size_t len, char *b64, size_t b64sz,
                       rd_error *err)
{
    unsigned char sig[SIG_BYTES];
    size_t siglen = sizeof sig;
    rd_status st = RD_OK;
    EVP_MD_CTX *ctx = NULL;
    if (!k->private_key)
        return RD_ERR(err, RD_ERR_USAGE, "cannot sign with a public key");
    if (b64sz < RD_SIGN_B64_LEN + 1)
        return RD_ERR(err, RD_ERR_INTERNAL, "signature buffer too small");
    if (!(ctx = EVP_MD_CTX_new()))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory signing");
    if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) != 1 ||
        EVP_DigestSign(ctx, sig, &siglen, data, len) != 1 || siglen != SIG_BYTES) {
        ERR_clear_error();
        st = RD_ERR(err, RD_ERR_INTERNAL, "ed25519 signing failed");
        goto out;
    }
    if (EVP_EncodeBlock((unsigned char *)b64, sig, SIG_BYTES) != RD_SIGN_B64_LEN) {
        st = RD_ERR(err, RD_ERR_INTERNAL, "base64 encoding of the signature failed");
        goto out;
    }
out:
    EVP_MD_CTX_free(ctx);
    return st;
}

rd_status rd_sign_verify(const rd_sign_key *k, const void *data, size_t len, const char *b64,
                         rd_error *err)
{
    unsigned char sig[SIG_BYTES + 3]; /* EVP_DecodeBlock writes whole 3-byte groups */
    rd_status st = RD_OK;
    EVP_MD_CTX *ctx = NULL;
    /* 88 characters ending in "==": exactly 64 bytes */
    if (!b64 || strlen(b64) != RD_SIGN_B64_LEN || b64[86] != '=' || b64[87] != '=' ||
        EVP_DecodeBlock(sig, (const unsigned char *)b64, RD_SIGN_B64_LEN) != SIG_BYTES + 2) {
        ERR_clear_error();
        return RD_ERR(err, RD_ERR_FORMAT, "signature is not base64 of 64 bytes");
    }
    if (!(ctx = EVP_MD_CTX_new()))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory verifying");
    if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) != 1) {
        st = RD_ERR(err, RD_ERR_INTERNAL, "cannot initialise ed25519 verification");
        goto out;
    }
    if (EVP_DigestVerify(ctx, sig, SIG_BYTES, data, len) != 1)
        st = RD_ERR(err, RD_ERR_INTEGRITY, "signature does not match");
out:
    ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    return st;
}
