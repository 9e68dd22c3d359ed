/* prng.h: the seeded pseudo-random generator used for sampling.
 *
 * Algorithm (a contract: the same seed picks the same recovery point on any
 * machine, so it never changes silently): the 64-bit seed is expanded by
 * SplitMix64 into the four 64-bit words of xoshiro256** (Blackman & Vigna,
 * 2018); rd_prng_below(n) draws by Lemire's multiply-and-reject method
 * (unbiased). rd_prng_unit returns (next >> 11) * 2^-53. */
#ifndef RESTOREDRILL_PRNG_H
#define RESTOREDRILL_PRNG_H

#include <stdint.h>

typedef struct rd_prng {
    uint64_t s[4];
} rd_prng;

void rd_prng_seed(rd_prng *p, uint64_t seed);
uint64_t rd_prng_next(rd_prng *p);
/* Uniform in [0, n); n == 0 returns 0. */
uint64_t rd_prng_below(rd_prng *p, uint64_t n);
/* Uniform double in [0, 1). */
double rd_prng_unit(rd_prng *p);
/* A seed from the OS (getrandom), for runs without --seed / config seed. */
uint64_t rd_prng_os_seed(void);
/* Fill buf with n random characters from [a-z0-9] (OS randomness), NUL-terminated
 * (buf has n+1 bytes). For random suffixes and passwords. */
void rd_random_token(char *buf, int n);

#endif
