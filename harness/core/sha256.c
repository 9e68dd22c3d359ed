/* sha256.c: SHA-256 through OpenSSL EVP. */
#include "restoredrill/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>

struct rd_sha256 {
    EVP_MD_CTX *ctx;
};

rd_status rd_sha256_new(rd_sha256 **out, rd_error *err)
{
    rd_sha256 *h = calloc(1, sizeof *h);
    if (!h)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
        rd_sha256_free(h);
        return RD_ERR(err, RD_ERR_INTERNAL, "cannot initialise sha256");
    }
    *out = h;
    return RD_OK;
}

void rd_sha256_update(rd_sha256 *h, const void *data, size_t len)
{
    if (len)
        EVP_DigestUpdate(h->ctx, data, len);
}

static void to_hex(const unsigned char *md, unsigned n, char *hex)
{
    static const char xd[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        hex[2 * i] = xd[md[i] >> 4];
        hex[2 * i + 1] = xd[md[i] & 15];
    }
    hex[2 * n] = '\0';
}

void rd_sha256_final_hex(rd_sha256 *h, char *hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_DigestFinal_ex(h->ctx, md, &n);
    to_hex(md, n, hex);
}

void rd_sha256_free(rd_sha256 *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

void rd_sha256_hex(const void *data, size_t len, char *hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    to_hex(md, n, hex);
}

rd_status rd_sha256_file(const char *path, char *hex, unsigned long long *bytes, rd_error *err)
{
    rd_status st = RD_OK;
    rd_sha256 *h = NULL;
    unsigned long long total = 0;
    unsigned char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot open %s", path);
        goto out;
    }
    buf = malloc(1 << 16);
    if (!buf) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    st = rd_sha256_new(&h, err);
    if (st != RD_OK)
        goto out;
    for (;;) {
        ssize_t n = read(fd, buf, 1 << 16);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot read %s", path);
            goto out;
        }
        if (n == 0)
            break;
        rd_sha256_update(h, buf, (size_t)n);
        total += (unsigned long long)n;
    }
    rd_sha256_final_hex(h, hex);
    if (bytes)
        *bytes = total;
out:
    rd_sha256_free(h);
    free(buf);
    if (fd >= 0)
        close(fd);
    return st;
}
