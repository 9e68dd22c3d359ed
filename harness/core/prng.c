/* prng.c: SplitMix64-seeded xoshiro256**, Lemire's bounded draw, OS randomness.
 * The algorithm is a contract (see prng.h): never change it silently. */
#include "restoredrill/prng.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void rd_prng_seed(rd_prng *p, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        p->s[i] = splitmix64(&x);
}

uint64_t rd_prng_next(rd_prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* 64x64 -> 128 bit multiply without __int128 (ISO C). */
static void mul128(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    uint64_t a_lo = a & 0xffffffffULL, a_hi = a >> 32;
    uint64_t b_lo = b & 0xffffffffULL, b_hi = b >> 32;
    uint64_t p0 = a_lo * b_lo;
    uint64_t p1 = a_lo * b_hi;
    uint64_t p2 = a_hi * b_lo;
    uint64_t p3 = a_hi * b_hi;
    uint64_t mid = (p0 >> 32) + (p1 & 0xffffffffULL) + (p2 & 0xffffffffULL);
    *lo = (mid << 32) | (p0 & 0xffffffffULL);
    *hi = p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
}

uint64_t rd_prng_below(rd_prng *p, uint64_t n)
{
    if (n == 0)
        return 0;
    uint64_t hi, lo;
    mul128(rd_prng_next(p), n, &hi, &lo);
    if (lo < n) {
        uint64_t t = (0 - n) % n;
        while (lo < t)
            mul128(rd_prng_next(p), n, &hi, &lo);
    }
    return hi;
}

double rd_prng_unit(rd_prng *p)
{
    return (double)(rd_prng_next(p) >> 11) * 0x1.0p-53;
}

/* Fill buf with n bytes from the OS; 0 on success. */
static int os_random(void *buf, size_t n)
{
    unsigned char *b = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(b + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got == n)
        return 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    return got == n ? 0 : -1;
}

uint64_t rd_prng_os_seed(void)
{
    uint64_t seed;
    if (os_random(&seed, sizeof seed) != 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
        x ^= (uint64_t)getpid() << 32;
        seed = splitmix64(&x);
    }
    return seed;
}

void rd_random_token(char *buf, int n)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    int i = 0;
    rd_prng fallback;
    int have_fallback = 0;
    while (i < n) {
        unsigned char bytes[64];
        if (os_random(bytes, sizeof bytes) != 0) {
            if (!have_fallback) {
                rd_prng_seed(&fallback, rd_prng_os_seed());
                have_fallback = 1;
            }
            buf[i++] = alphabet[rd_prng_below(&fallback, 36)];
            continue;
        }
        for (size_t k = 0; k < sizeof bytes && i < n; k++) {
            if (bytes[k] < 252) /* 252 = 7 * 36: reject to stay unbiased */
                buf[i++] = alphabet[bytes[k] % 36];
        }
    }
    buf[n > 0 ? n : 0] = '\0';
}
