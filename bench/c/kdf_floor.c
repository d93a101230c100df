/* SPDX-License-Identifier: ISC */
/*
 * kdf_floor LEVEL N: N runs of libsodium's Argon2id (crypto_pwhash) at
 * the interactive, moderate or sensitive limits, the cost a passphrase
 * unlock cannot go below.  Prints {"median_ms":..,"min_ms":..}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	unsigned long long ops;
	size_t mem;
	unsigned char salt[crypto_pwhash_SALTBYTES] = {0}, key[32];
	const char *pw = "correct horse battery staple";
	double t[16];
	int n;

	if (argc != 3 || sodium_init() < 0 || (n = atoi(argv[2])) < 1 || n > 16)
		return 2;
	if (strcmp(argv[1], "interactive") == 0) {
		ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	} else if (strcmp(argv[1], "moderate") == 0) {
		ops = crypto_pwhash_OPSLIMIT_MODERATE;
		mem = crypto_pwhash_MEMLIMIT_MODERATE;
	} else if (strcmp(argv[1], "sensitive") == 0) {
		ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
		mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
	} else {
		return 2;
	}
	for (int i = 0; i < n; i++) {
		double t0 = now_ms();

		if (crypto_pwhash(key, sizeof(key), pw, strlen(pw), salt, ops,
				  mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
			return 1;
		t[i] = now_ms() - t0;
	}
	qsort(t, (size_t)n, sizeof(t[0]), cmp_d);
	printf("{\"median_ms\":%.2f,\"min_ms\":%.2f,\"n\":%d}\n", t[n / 2],
	       t[0], n);
	return 0;
}
